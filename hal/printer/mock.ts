/**
 * Mock receipt printer with fault injection, for tests and the desktop simulator. It keeps what reached "paper" in
 * `printed`, and a fault injected mid-print leaves the status the way a real printer would report it afterwards.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { DeviceFaultError } from '../fault.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import { FaultScript, type FaultRule } from '../mock/fault-script.js';
import {
  PRINTER_STATUS_OK,
  faultFromStatus,
  type Printer,
  type PrinterEvents,
  type PrinterFaultCode,
  type PrinterHealth,
  type PrinterInfo,
  type PrinterStatus,
  type PrinterWarning,
  type PrintResult,
  type ReceiptDocument,
  type ReceiptLine,
} from './contract.js';

/**
 * Injection points: status(), the start of print(), each line ('print-line', step = 1-based line number within the
 * document: atStep 3 means lines 1 and 2 print and the 3rd fails, linesPrinted 2), and the cut after the lines.
 */
export type PrinterOp = 'status' | 'print' | 'print-line' | 'cut';
export type PrinterFaultRule = FaultRule<PrinterOp, PrinterFaultCode>;

export interface MockPrinterOptions {
  model?: string;
  firmware?: string;
  serial?: string;
  columns?: number;
  status?: Partial<PrinterStatus>;
  /** Clock time an overheated head takes to cool and clear itself. Default 30 s; Infinity never clears. */
  overheatRecoveryMs?: number;
}

/** What reached paper for one print() call that got past its pre-checks. */
export interface PrintedDocument {
  lines: ReceiptLine[];
  barcode?: { kind: 'code128' | 'qr'; data: string };
  cut: boolean;
  /** The fault that stopped this document, if any. */
  fault?: PrinterFaultCode;
}

/** The status a fault leaves behind. Faults that are not a printer condition (timeout) leave none. */
const STATUS_EFFECT: Partial<Record<PrinterFaultCode, Partial<PrinterStatus>>> = {
  'paper-out': { paper: 'out' },
  'cover-open': { coverOpen: true },
  jam: { jammed: true },
  overheat: { overheated: true },
  'cutter-fault': { cutterError: true },
  offline: { online: false },
  unrecoverable: { unrecoverableError: true },
};

/** Documents kept: enough for any test, bounded so a simulator left running for weeks does not grow. */
export const PRINTED_HISTORY_LIMIT = 1_000;

export class MockPrinter implements Printer {
  /** The last documents that started printing (at most PRINTED_HISTORY_LIMIT), with only the lines actually printed. */
  readonly printed: PrintedDocument[] = [];
  private readonly events = new TypedEmitter<PrinterEvents>();
  private readonly faults = new FaultScript<PrinterOp, PrinterFaultCode>();
  private readonly infoValue: PrinterInfo;
  private readonly overheatRecoveryMs: number;
  private state: PrinterStatus;
  private isOpen = false;
  private cooling: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    options: MockPrinterOptions = {},
  ) {
    this.infoValue = {
      model: options.model ?? 'MOCK-PRINTER',
      firmware: options.firmware ?? '1.0.0',
      columns: options.columns ?? 42,
      ...(options.serial !== undefined ? { serial: options.serial } : {}),
    };
    this.overheatRecoveryMs = options.overheatRecoveryMs ?? 30_000;
    this.state = { ...PRINTER_STATUS_OK };
    this.applyStatus({ ...PRINTER_STATUS_OK, ...definedOnly(options.status ?? {}) });
  }

  // ---- contract ----

  on<E extends keyof PrinterEvents>(event: E, listener: Listener<PrinterEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  async info(): Promise<PrinterInfo> {
    this.ensureOpen();
    return { ...this.infoValue };
  }

  /** Drawer kicks asked for (ESC p on a real printer). */
  drawerKicks = 0;

  async kickDrawer(): Promise<void> {
    this.ensureOpen();
    this.drawerKicks++;
  }

  async status(): Promise<PrinterStatus> {
    this.ensureOpen();
    const rule = this.faults.match('status');
    if (rule) {
      const effect = STATUS_EFFECT[rule.code];
      // offline and timeout mean the printer did not answer; any other code is a condition the answer reports.
      if (rule.code === 'offline' || rule.code === 'timeout' || !effect) {
        throw this.fault(rule.code, rule.message ?? `no status answer: ${rule.code}`, { injected: true });
      }
      this.applyStatus({ ...this.state, ...effect });
    }
    return { ...this.state };
  }

  async print(doc: ReceiptDocument): Promise<PrintResult> {
    this.ensureOpen();
    const startRule = this.faults.match('print');
    if (startRule) throw this.injected(startRule, 0);
    const blocking = faultFromStatus(this.state);
    if (blocking) throw this.fault(blocking, `cannot print: ${blocking}`, { linesPrinted: 0 });

    const warnings = new Set<PrinterWarning>();
    if (this.state.paper === 'near-end') warnings.add('paper-near-end');
    const record: PrintedDocument = { lines: [], cut: false };
    this.printed.push(record);
    if (this.printed.length > PRINTED_HISTORY_LIMIT)
      this.printed.splice(0, this.printed.length - PRINTED_HISTORY_LIMIT);

    for (const [index, line] of doc.lines.entries()) {
      const rule = this.faults.match('print-line', index + 1);
      if (rule) {
        record.fault = rule.code;
        throw this.injected(rule, record.lines.length);
      }
      record.lines.push({ ...line });
    }
    if (doc.barcode) record.barcode = { ...doc.barcode };
    if (doc.cut) {
      const rule = this.faults.match('cut');
      if (rule) {
        record.fault = rule.code;
        throw this.injected(rule, record.lines.length);
      }
      record.cut = true;
    }
    if (this.state.paper === 'near-end') warnings.add('paper-near-end');
    return { linesPrinted: record.lines.length, warnings: [...warnings] };
  }

  // ---- test and simulator controls ----

  /** Change the status as the hardware would; emits 'status' when anything changed. */
  setStatus(partial: Partial<PrinterStatus>): void {
    this.applyStatus({ ...this.state, ...definedOnly(partial) });
  }

  /** Every line that reached paper, across documents. */
  get printedLines(): ReceiptLine[] {
    return this.printed.flatMap((d) => d.lines);
  }

  /**
   * Script a fault. A fault that is a printer condition (paper-out, cover-open, jam, overheat, cutter-fault,
   * offline, unrecoverable) stays in the status afterwards until setStatus clears it; overheat also clears itself
   * after overheatRecoveryMs. On op 'status', 'offline' and 'timeout' reject (no answer); other codes are reported
   * in the status that status() returns.
   */
  inject(rule: PrinterFaultRule): void {
    this.faults.inject(rule);
  }

  /** Drop every scripted fault (conditions already in the device state stay). */
  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(): ReturnType<FaultScript<PrinterOp, PrinterFaultCode>['pending']> {
    return this.faults.pending();
  }

  get opened(): boolean {
    return this.isOpen;
  }

  // ---- internals ----

  private ensureOpen(): void {
    if (!this.isOpen) throw this.fault('offline', 'printer not open');
  }

  private fault(
    code: PrinterFaultCode,
    message: string,
    detail?: Record<string, string | number | boolean>,
  ): DeviceFaultError<PrinterFaultCode> {
    return new DeviceFaultError('printer', code, message, detail);
  }

  private injected(rule: Readonly<PrinterFaultRule>, linesPrinted: number): DeviceFaultError<PrinterFaultCode> {
    const effect = STATUS_EFFECT[rule.code];
    if (effect) this.applyStatus({ ...this.state, ...effect });
    const message = rule.message ?? `print stopped after ${linesPrinted} line(s): ${rule.code}`;
    return this.fault(rule.code, message, { linesPrinted, injected: true });
  }

  private applyStatus(next: PrinterStatus): void {
    const previous = this.state;
    this.state = next;
    if (next.overheated && !previous.overheated) this.scheduleCooling();
    if (!next.overheated) {
      this.cooling?.cancel();
      this.cooling = undefined;
    }
    if (!sameStatus(previous, next)) this.events.emit('status', { status: { ...next }, previous: { ...previous } });
    // Health follows the status at once, as the real driver's does after each status read.
    const was = faultFromStatus(previous);
    const now = faultFromStatus(next);
    if (was !== now) {
      const health = (code: PrinterFaultCode | undefined): PrinterHealth =>
        code ? { state: 'fault', code, reason: `printer reports ${code}` } : { state: 'ok' };
      this.events.emit('health', { health: health(now), previous: health(was) });
    }
  }

  private scheduleCooling(): void {
    this.cooling?.cancel();
    this.cooling = undefined;
    if (this.overheatRecoveryMs === Infinity) return;
    this.cooling = this.clock.setTimeout(() => {
      this.cooling = undefined;
      this.applyStatus({ ...this.state, overheated: false });
    }, this.overheatRecoveryMs);
  }
}

function sameStatus(a: PrinterStatus, b: PrinterStatus): boolean {
  return (Object.keys(a) as (keyof PrinterStatus)[]).every((k) => a[k] === b[k]);
}

/** An explicit undefined in a partial means "unchanged", never a hole in the status. */
function definedOnly(partial: Partial<PrinterStatus>): Partial<PrinterStatus> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<PrinterStatus>;
}
