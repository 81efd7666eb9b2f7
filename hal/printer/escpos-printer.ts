/**
 * The ESC/POS protocol layer the three transports share (serial, USB printer class, TCP 9100: transport.ts).
 *
 * - status(): DLE EOT 1, 2, 3, 4, one at a time, each reply bounded by statusTimeoutMs on the Clock. No valid reply
 *   in time rejects 'offline'; bytes that are not a status reply are discarded and counted (detail.garbledBytes).
 * - print(): status check, then the document a few lines at a time with a status read after each chunk, so a fault
 *   mid-receipt is located: detail.linesPrinted counts the document lines sent before the last clean status. DLE EOT
 *   is real-time, so a printer with a deep buffer may answer before a chunk is on paper: the count is the driver's
 *   best knowledge, not a paper sensor.
 * - Recovery: a fault mid-receipt clears the printer's buffers at once (DLE DC4 fn=8) so the rest of that receipt
 *   never prints by itself when paper is back; the next print first sends DLE ENQ 2 (recover, buffers cleared), and a
 *   recoverable error (cutter, jam) still reported before a print is answered with DLE ENQ 2 and read again.
 * - info(): GS I 67 (model name), 65 (firmware version), 68 (serial number), the string replies of Epson TM and
 *   compatible printers. A printer that does not answer GS I 67 in time: model and firmware are 'unknown'.
 * - Hot plug: a device that goes away rejects what is waiting 'not-connected' at once, emits health 'not-connected'
 *   and, with `reconnect`, is reopened with backoff on the Clock; a call while it is away tries one reopen at once.
 *   Calls after close() reject 'offline'.
 * - Events: 'status' after every status read that differs from the last one (the first compares with all-clear);
 *   'health' when ok / fault / not-connected changes. With `idlePollMs` the status is read while idle, so a printer
 *   that got paper back reports healthy without waiting for the next receipt.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import { DeviceFaultError } from '../fault.js';
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
} from './contract.js';
import {
  CLEAR_BUFFERS,
  RECOVER_CLEARING_BUFFERS,
  clearResponseParser,
  drawerKick,
  type DrawerPin,
} from './escpos-commands.js';
import { encodeReceiptParts } from './escpos-encoder.js';
import { EscPosLink, printerFault, withLines } from './escpos-link.js';
import { STATUS_QUERIES, decodeRealtimeStatus, toPrinterStatus } from './escpos-status.js';
import { ReconnectLoop, type ReconnectPolicy } from './reconnect.js';
import { errorText, type PrinterTransport, type TransportSession } from './transport.js';

export interface DrawerOptions {
  pin: DrawerPin;
  /** Pulse length; 100 ms suits most drawers. */
  pulseMs: number;
  /** Level of connector pin 3 (DLE EOT 1 bit 2) when the drawer is open: it depends on the drawer's switch. */
  openWhenPin3: 'high' | 'low';
}

export interface EscPosPrinterOptions {
  transport: PrinterTransport;
  clock?: Clock;
  /** Bound on each status (and GS I) reply. Default 500 ms. */
  statusTimeoutMs?: number;
  /** Characters per line at normal width. Default 42. */
  columns?: number;
  /** Document lines sent between status reads while printing. Default 4. */
  chunkLines?: number;
  /** Reopen with backoff after the device went away; without it the driver waits for the next call. */
  reconnect?: ReconnectPolicy;
  /** Read the status this often while idle (and connected). */
  idlePollMs?: number;
  /** The cash drawer on the printer's drawer connector, when there is one. */
  drawer?: DrawerOptions;
}

/** Faults after which the printer holds unprinted data of the receipt that stopped. */
const HOLDS_DATA: ReadonlySet<PrinterFaultCode> = new Set([
  'paper-out',
  'cover-open',
  'jam',
  'cutter-fault',
  'overheat',
  'unrecoverable',
]);
/** Errors the printer leaves only on DLE ENQ once their cause is removed (ESC/POS "recoverable errors"). */
const RECOVERABLE: ReadonlySet<PrinterFaultCode> = new Set(['cutter-fault', 'jam']);

const GS_I_MODEL = 67;
const GS_I_FIRMWARE = 65;
const GS_I_SERIAL = 68;

const fault = printerFault;

export class EscPosPrinter implements Printer {
  private readonly events = new TypedEmitter<PrinterEvents>();
  private readonly transport: PrinterTransport;
  private readonly clock: Clock;
  private readonly statusTimeoutMs: number;
  private readonly columns: number;
  private readonly chunkLines: number;
  private readonly reconnectLoop: ReconnectLoop | undefined;
  private session: TransportSession | undefined;
  private connecting: Promise<void> | undefined;
  /** open() was called and close() was not: a lost device is reopened. */
  private wanted = false;
  /** Why the device went away, for the 'not-connected' message. */
  private lostReason: string | undefined;
  /** One exchange with the printer at a time: replies carry no tag saying which request they answer. */
  private queue: Promise<unknown> = Promise.resolve();
  private calls = 0;
  private last: PrinterStatus = { ...PRINTER_STATUS_OK };
  private currentHealth: PrinterHealth = { state: 'ok' };
  private readonly link: EscPosLink;
  /** A receipt stopped mid-way: recover before the next print. */
  private recoveryOwed = false;
  private pollTimer: TimerHandle | undefined;

  constructor(private readonly options: EscPosPrinterOptions) {
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 500;
    this.columns = options.columns ?? 42;
    this.chunkLines = Math.max(1, Math.floor(options.chunkLines ?? 4));
    // Bad settings are a configuration bug: fail at construction, not as a device fault at the first receipt.
    if (!Number.isInteger(this.columns) || this.columns < 1 || this.columns > 255) {
      throw new RangeError(`columns must be an integer from 1 to 255, got ${this.columns}`);
    }
    if (!(this.statusTimeoutMs > 0 && Number.isFinite(this.statusTimeoutMs))) {
      throw new RangeError(`statusTimeoutMs must be a positive number, got ${this.statusTimeoutMs}`);
    }
    if (options.idlePollMs !== undefined && !(options.idlePollMs > 0)) {
      throw new RangeError(`idlePollMs must be positive, got ${options.idlePollMs}`);
    }
    this.link = new EscPosLink({
      clock: this.clock,
      statusTimeoutMs: this.statusTimeoutMs,
      bitsPerSecond: this.transport.bitsPerSecond,
      session: () => this.currentSession(),
      writeFault: (err, detail) =>
        !this.session && this.lostReason
          ? fault('not-connected', `printer ${this.lostReason}`, detail)
          : fault('offline', `printer write failed: ${errorText(err)}`, detail),
    });
    this.reconnectLoop = options.reconnect
      ? new ReconnectLoop(this.clock, options.reconnect, () => this.reopen())
      : undefined;
  }

  on<E extends keyof PrinterEvents>(event: E, listener: Listener<PrinterEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Bytes received that were not a reply to anything asked (noise, garbled or late answers). */
  get discardedBytes(): number {
    return this.link.discarded;
  }

  get opened(): boolean {
    return this.session !== undefined;
  }

  get health(): PrinterHealth {
    return { ...this.currentHealth };
  }

  async open(): Promise<void> {
    this.wanted = true;
    try {
      await this.connect();
    } catch (error) {
      this.reconnectLoop?.start();
      throw error;
    }
  }

  async close(): Promise<void> {
    this.wanted = false;
    this.reconnectLoop?.stop();
    this.stopPolling();
    const session = this.session;
    this.session = undefined;
    this.lostReason = undefined;
    this.link.failWaiting(fault('offline', 'printer closed while waiting for it'));
    await session?.close();
  }

  async info(): Promise<PrinterInfo> {
    return this.exclusive(async () => {
      await this.ensureSession();
      const model = await this.link.queryId(GS_I_MODEL);
      const firmware = model === undefined ? undefined : await this.link.queryId(GS_I_FIRMWARE);
      const serial = model === undefined ? undefined : await this.link.queryId(GS_I_SERIAL);
      return {
        model: model || 'unknown',
        firmware: firmware || 'unknown',
        columns: this.columns,
        ...(serial ? { serial } : {}),
      };
    });
  }

  async status(): Promise<PrinterStatus> {
    return this.exclusive(async () => {
      await this.ensureSession();
      return this.readStatus();
    });
  }

  async print(doc: ReceiptDocument): Promise<PrintResult> {
    return this.exclusive(async () => {
      await this.ensureSession();
      const warnings = new Set<PrinterWarning>();
      let before = await this.statusDuringPrint(0, warnings);
      const blocking = faultFromStatus(before);
      if (blocking && RECOVERABLE.has(blocking)) {
        // The cause may be gone already: the printer waits for DLE ENQ to leave the error.
        await this.link.send(RECOVER_CLEARING_BUFFERS, 0);
        this.recoveryOwed = false;
        before = await this.statusDuringPrint(0, warnings);
      }
      const stop = faultFromStatus(before);
      if (stop) throw fault(stop, `cannot print: ${stop}`, { linesPrinted: 0 });
      if (this.recoveryOwed) {
        await this.link.send(RECOVER_CLEARING_BUFFERS, 0);
        this.recoveryOwed = false;
      }

      const parts = encodeReceiptParts(doc, this.columns);
      await this.link.send(parts.init, 0);
      let confirmed = 0;
      try {
        for (let start = 0; start < parts.lines.length; start += this.chunkLines) {
          const chunk = parts.lines.slice(start, start + this.chunkLines);
          await this.link.send(Buffer.concat(chunk), confirmed);
          this.stopOnFault(await this.statusDuringPrint(confirmed, warnings), confirmed);
          confirmed += chunk.length;
        }
        if (parts.trailer.length > 0) {
          await this.link.send(parts.trailer, confirmed);
          this.stopOnFault(await this.statusDuringPrint(confirmed, warnings), confirmed);
        }
      } catch (error) {
        throw await this.afterStop(error);
      }
      return { linesPrinted: confirmed, warnings: [...warnings] };
    });
  }

  async kickDrawer(): Promise<void> {
    return this.exclusive(async () => {
      const drawer = this.options.drawer;
      if (!drawer) throw fault('offline', 'no cash drawer is configured on this printer');
      await this.ensureSession();
      await this.link.send(drawerKick(drawer.pin, drawer.pulseMs, drawer.pulseMs), 0);
    });
  }

  // ---- connection ----

  private connect(): Promise<void> {
    if (this.session) return Promise.resolve();
    if (this.connecting) return this.connecting;
    this.connecting = this.openSession().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openSession(): Promise<void> {
    let session: TransportSession | undefined;
    const lost = (reason: string) => {
      if (session && this.session === session) this.onLost(session, reason);
    };
    try {
      session = await this.transport.open({ data: (chunk) => this.link.received(chunk), lost });
    } catch (error) {
      const reason = `cannot open printer ${this.transport.description}: ${errorText(error)}`;
      this.setHealth({ state: 'not-connected', code: 'not-connected', reason });
      throw fault('not-connected', reason, { device: this.transport.description });
    }
    if (!this.wanted) {
      // close() came while the device was opening.
      await session.close();
      throw fault('offline', 'printer closed while opening');
    }
    this.session = session;
    this.lostReason = undefined;
    this.reconnectLoop?.stop();
    if (this.currentHealth.state === 'not-connected') this.setHealth({ state: 'ok' });
    this.schedulePoll();
  }

  private onLost(session: TransportSession, reason: string): void {
    this.session = undefined;
    this.lostReason = reason;
    this.stopPolling();
    this.link.failWaiting(fault('not-connected', `printer ${reason}`));
    void session.close();
    this.setHealth({ state: 'not-connected', code: 'not-connected', reason: `printer ${reason}` });
    if (this.wanted) this.reconnectLoop?.start();
  }

  /** One try of the reconnect loop: open, then read the status so health says at once what the printer has. */
  private async reopen(): Promise<boolean> {
    if (!this.wanted) return true;
    try {
      await this.connect();
    } catch {
      return false;
    }
    await this.status().catch(() => undefined);
    return true;
  }

  /** A call while the device is away tries one reopen at once (a self-test reopens what is closed). */
  private async ensureSession(): Promise<void> {
    if (this.session) return;
    if (!this.wanted) throw fault('offline', 'printer not open');
    try {
      await this.connect();
    } catch (error) {
      if (error instanceof DeviceFaultError && this.lostReason) {
        throw fault('not-connected', `printer ${this.lostReason}; reopening failed: ${error.message}`);
      }
      throw error;
    }
  }

  private schedulePoll(): void {
    const every = this.options.idlePollMs;
    if (every === undefined || this.pollTimer) return;
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = undefined;
      if (!this.session) return;
      if (this.calls === 0) void this.status().catch(() => undefined);
      this.schedulePoll();
    }, every);
  }

  private stopPolling(): void {
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
  }

  private setHealth(health: PrinterHealth): void {
    const previous = this.currentHealth;
    if (previous.state === health.state && previous.code === health.code) return;
    this.currentHealth = { ...health };
    this.events.emit('health', { health: { ...health }, previous: { ...previous } });
  }

  // ---- exchanges ----

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.calls++;
    const body = () => fn().finally(() => this.calls--);
    const run = this.queue.then(body, body);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private currentSession(): TransportSession {
    if (this.session) return this.session;
    if (this.wanted && this.lostReason) throw fault('not-connected', `printer ${this.lostReason}`);
    throw fault('offline', 'printer not open');
  }

  private async readStatus(): Promise<PrinterStatus> {
    const replies: number[] = [];
    try {
      for (const n of STATUS_QUERIES) replies.push(await this.link.statusByte(n));
    } catch (error) {
      if (error instanceof DeviceFaultError && error.code === 'offline' && this.session) {
        this.setHealth({ state: 'fault', code: 'offline', reason: error.message });
      }
      throw error;
    }
    // Only bytes that passed isStatusByte are here, so the decoder cannot throw.
    const bits = decodeRealtimeStatus(replies);
    const status = toPrinterStatus(bits);
    const drawer = this.options.drawer;
    if (drawer) status.drawerOpen = bits.printer.drawerPin3 === (drawer.openWhenPin3 === 'high');
    const previous = this.last;
    this.last = status;
    if (!sameStatus(previous, status)) this.events.emit('status', { status: { ...status }, previous: { ...previous } });
    const code = faultFromStatus(status);
    this.setHealth(code ? { state: 'fault', code, reason: `printer reports ${code}` } : { state: 'ok' });
    return { ...status };
  }

  /** A status read inside print(): a failure carries the lines confirmed so far; near end becomes a warning. */
  private async statusDuringPrint(linesPrinted: number, warnings: Set<PrinterWarning>): Promise<PrinterStatus> {
    let status: PrinterStatus;
    try {
      status = await this.readStatus();
    } catch (error) {
      throw withLines(error, linesPrinted);
    }
    if (status.paper === 'near-end') warnings.add('paper-near-end');
    return status;
  }

  private stopOnFault(status: PrinterStatus, linesPrinted: number): void {
    const code = faultFromStatus(status);
    if (code) throw fault(code, `print stopped after ${linesPrinted} line(s): ${code}`, { linesPrinted });
  }

  /**
   * A receipt stopped mid-way. While the printer still holds the rest of it, clear its buffers (DLE DC4 fn=8) so
   * that rest is not printed by itself once the fault is fixed; the next print recovers first either way.
   */
  private async afterStop(error: unknown): Promise<unknown> {
    this.recoveryOwed = true;
    if (!(error instanceof DeviceFaultError) || !HOLDS_DATA.has(error.code as PrinterFaultCode)) return error;
    let cleared = false;
    try {
      cleared = await this.link.exchange(CLEAR_BUFFERS, clearResponseParser());
    } catch {
      // No clear response: a model without DLE DC4 fn=8, or it went away. DLE ENQ 2 before the next print remains.
    }
    return new DeviceFaultError<PrinterFaultCode>('printer', error.code as PrinterFaultCode, error.message, {
      ...(error.detail ?? {}),
      buffersCleared: cleared,
    });
  }
}

function sameStatus(a: PrinterStatus, b: PrinterStatus): boolean {
  return (Object.keys(a) as (keyof PrinterStatus)[]).every((k) => a[k] === b[k]);
}
