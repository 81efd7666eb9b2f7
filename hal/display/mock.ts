/** Mock display with fault injection: keeps every screen shown, for tests and the desktop simulator. */
import { DeviceFaultError } from '../fault.js';
import { FaultScript, type FaultRule } from '../mock/fault-script.js';
import type { Display, DisplayFaultCode, Screen } from './contract.js';

/** Injection points: show() and clear(). Steps are implicit (nth call). */
export type DisplayOp = 'show' | 'clear';
export type DisplayFaultRule = FaultRule<DisplayOp, DisplayFaultCode>;

/** Screens kept: enough for any test, bounded so a simulator left running for weeks does not grow. */
export const DISPLAY_HISTORY_LIMIT = 1_000;

export class MockDisplay implements Display {
  /** The last screens shown (at most DISPLAY_HISTORY_LIMIT), oldest first. Copies, so later changes by the caller do not rewrite history. */
  readonly history: Screen[] = [];
  private shown: Screen | undefined;
  private readonly faults = new FaultScript<DisplayOp, DisplayFaultCode>();

  /** What is on screen now; undefined when blank. */
  get current(): Screen | undefined {
    return this.shown;
  }

  async show(screen: Screen): Promise<void> {
    const rule = this.faults.match('show');
    // A failed show leaves the previous screen up, as a display that never got the frame would.
    if (rule) throw this.injected(rule, 'show');
    const copy: Screen = { ...screen, lines: [...screen.lines] };
    this.history.push(copy);
    if (this.history.length > DISPLAY_HISTORY_LIMIT)
      this.history.splice(0, this.history.length - DISPLAY_HISTORY_LIMIT);
    this.shown = copy;
  }

  async clear(): Promise<void> {
    const rule = this.faults.match('clear');
    if (rule) throw this.injected(rule, 'clear');
    this.shown = undefined;
  }

  inject(rule: DisplayFaultRule): void {
    this.faults.inject(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  private injected(rule: Readonly<DisplayFaultRule>, what: string): DeviceFaultError<DisplayFaultCode> {
    return new DeviceFaultError('display', rule.code, rule.message ?? `${what} failed: ${rule.code}`, {
      injected: true,
    });
  }
}
