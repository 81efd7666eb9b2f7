/**
 * Text from the cash register on the terminal's display and printer (nexo Display and Print). Both devices belong to
 * a running transaction, so the register's output is refused while one runs and while the terminal is locked or
 * starting; the terminal's own next screen replaces the register's text.
 */
import { isDeviceFault } from '../../hal/fault.js';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Display, Screen } from '../../hal/display/contract.js';
import type { PrintResult, Printer, ReceiptDocument, ReceiptLine } from '../../hal/printer/contract.js';
import { anomalyForDeviceFault } from '../anomaly/index.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { Logger } from '../util/log.js';
import { idleScreen } from './screens.js';
import type { Language } from '../i18n/index.js';
import { TerminalError, type TerminalStatus } from './types.js';

/** What a register may put on the display at once: the display shows a title and a few lines. */
export const DISPLAY_LIMITS = { lines: 8, columns: 64 } as const;
/** A register's document: bounded so a flood of print requests cannot hold the printer for minutes. */
export const PRINT_LIMITS = { lines: 400, columns: 256 } as const;

export interface RegisterText {
  title?: string;
  lines: string[];
  /** After this long the terminal's idle screen comes back; absent, the text stays until the terminal's next screen. */
  minimumDisplayMs?: number;
}

export interface RegisterOutputDeps {
  display: Display;
  printer: Printer;
  anomalies: AnomalyRecorder;
  clock: Clock;
  log: Logger;
  /** The terminal's status now (the state decides whether the devices are free). */
  status: () => TerminalStatus;
  /** The language of the idle screen shown again afterwards (default English). */
  language?: Language;
  /** A cash drawer is on the printer's connector (`hal.printer.drawer`): it may be opened by hand. */
  drawer?: boolean;
}

export class RegisterOutput {
  private restoreTimer: TimerHandle | undefined;

  constructor(private readonly deps: RegisterOutputDeps) {}

  async show(text: RegisterText): Promise<void> {
    this.ensureFree('display');
    const screen: Screen = {
      title: clean(text.title ?? '', DISPLAY_LIMITS.columns),
      lines: text.lines.slice(0, DISPLAY_LIMITS.lines).map((line) => clean(line, DISPLAY_LIMITS.columns)),
      severity: 'info',
    };
    this.restoreTimer?.cancel();
    this.restoreTimer = undefined;
    try {
      await this.deps.display.show(screen);
    } catch (err) {
      throw this.deviceFault('display', err);
    }
    if (text.minimumDisplayMs !== undefined)
      this.restoreTimer = this.deps.clock.setTimeout(() => this.restoreIdle(), text.minimumDisplayMs);
  }

  async print(doc: ReceiptDocument): Promise<PrintResult> {
    this.ensureFree('printer');
    const lines = doc.lines.slice(0, PRINT_LIMITS.lines).map(cleanLine);
    try {
      return await this.deps.printer.print({ ...doc, lines });
    } catch (err) {
      throw this.deviceFault('printer', err);
    }
  }

  /**
   * Opens the cash drawer without a sale (ESC p through the printer), for `who` (an ECR client, the console). Journaled
   * as E410 with who asked, for the cash audit; refused when no drawer is configured, or the printer is not free.
   */
  async openDrawer(who: string): Promise<void> {
    const { printer } = this.deps;
    if (!this.deps.drawer || !printer.kickDrawer)
      throw new TerminalError('not-ready', 'no cash drawer is configured (hal.printer.drawer)');
    this.ensureFree('printer');
    try {
      await printer.kickDrawer();
    } catch (err) {
      throw this.deviceFault('printer', err);
    }
    this.deps.anomalies.raise('drawer-opened', { reason: `opened by ${who}` }, { show: false });
  }

  /** The display and printer are the register's only while no transaction, lock or start-up holds them. */
  private ensureFree(device: 'display' | 'printer'): void {
    const status = this.deps.status();
    if (status.state === 'transacting' || status.transaction)
      throw new TerminalError('busy', `a transaction is using the ${device}`);
    if (status.state === 'locked')
      throw new TerminalError('locked', `terminal locked: ${status.lockReasons.join('; ')}`);
    if (status.state !== 'ready' && status.state !== 'degraded')
      throw new TerminalError('not-ready', `terminal is ${status.state}`);
  }

  private restoreIdle(): void {
    this.restoreTimer = undefined;
    const status = this.deps.status();
    if (status.transaction) return;
    const screen = idleScreen(status.state, status.limitations, status.lockReasons, this.deps.language);
    if (screen)
      this.deps.display.show(screen).catch((err: unknown) => this.deps.log.error({ err }, 'screen could not be shown'));
  }

  /** A device fault is journaled as the anomaly its code names, and refused as the device's fault. */
  private deviceFault(device: 'display' | 'printer', err: unknown): TerminalError {
    const name = isDeviceFault(err) ? anomalyForDeviceFault(err).name : 'system-fault';
    const reason = err instanceof Error ? err.message : String(err);
    this.deps.anomalies.raise(name, { reason: `register ${device} output: ${reason}` }, { show: false });
    return new TerminalError(device === 'display' ? 'display-fault' : 'printer-fault', `${device}: ${reason}`);
  }
}

/** Printable text of at most `columns` characters: control characters never reach a device. */
function clean(text: string, columns: number): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, columns);
}

function cleanLine(line: ReceiptLine): ReceiptLine {
  return line.kind === 'rule' ? line : { ...line, text: clean(line.text, PRINT_LIMITS.columns) };
}
