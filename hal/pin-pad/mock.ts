/**
 * Mock PIN pad with fault injection, for tests and the desktop simulator. It holds DUKPT state as a real pad does
 * (loaded once by key injection, advanced by every PIN block made, erased by tamper) and returns only enciphered
 * blocks. The cardholder is the test: keystrokes given live (enter, cancel, bypass) or queued in advance (script).
 * Time comes from the injected Clock, so a ManualClock drives every timeout.
 */
import { Waiter } from '../card-reader/waiter.js';
import type { Clock } from '../clock.js';
import { type Listener, TypedEmitter, type Unsubscribe } from '../events.js';
import type { DeviceFaultError } from '../fault.js';
import { type FaultRule, FaultScript } from '../mock/fault-script.js';
import type {
  AmountRequest,
  DukptKeyInjection,
  PinPad,
  PinPadEvents,
  PinPadFaultCode,
  PinPadInfo,
  PinRequest,
  PinResult,
} from './contract.js';
import { PinSecureModule, pinPadFault, requestProblem } from './secure-module.js';

/** Injection points: open(), loadKey(), requestPin() (checked before the prompt). Steps are implicit (nth call). */
export type PinPadOp = 'open' | 'load-key' | 'request';
export type PinPadFaultRule = FaultRule<PinPadOp, PinPadFaultCode>;

/** What the cardholder does at a prompt. 'no-answer' walks away: the request times out. */
export type CardholderAction =
  | { kind: 'pin'; digits: string }
  | { kind: 'cancel' }
  | { kind: 'bypass' }
  | { kind: 'no-answer' };

export interface MockPinPadOptions {
  model?: string;
  firmware?: string;
  serial?: string;
}

interface Pending {
  request: PinRequest;
  waiter: Waiter<PinResult>;
}

export class MockPinPad implements PinPad {
  private readonly events = new TypedEmitter<PinPadEvents>();
  private readonly faults = new FaultScript<PinPadOp, PinPadFaultCode>();
  private readonly secure = new PinSecureModule();
  private readonly script: CardholderAction[] = [];
  private readonly info_: Omit<PinPadInfo, 'keys'>;
  private isOpen = false;
  /** Pulled out (unplug()): open() fails until replug(). */
  private unplugged = false;
  private tamperReason: string | undefined;
  private pending: Pending | undefined;
  private pendingAmount: { request: AmountRequest; waiter: Waiter<number> } | undefined;
  /** Amounts typed before their prompt showed (null: Cancel), for the next amount entries. */
  private readonly amountScript: Array<number | null> = [];
  /** What each prompt showed, in order (the amount text only: a test's view of the screen). */
  readonly prompts: Array<{ amountText?: string }> = [];

  constructor(
    private readonly clock: Clock,
    options: MockPinPadOptions = {},
  ) {
    this.info_ = {
      model: options.model ?? 'MOCK-PINPAD',
      firmware: options.firmware ?? '1.0.0',
      ...(options.serial !== undefined ? { serial: options.serial } : {}),
    };
  }

  // ---- contract ----

  on<E extends keyof PinPadEvents>(event: E, listener: Listener<PinPadEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.unplugged) throw pinPadFault('not-connected', 'PIN pad unplugged');
    const rule = this.faults.match('open');
    if (rule) throw this.injected(rule, 'open failed');
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.pending?.waiter.reject(pinPadFault('not-connected', 'PIN pad closed'));
    this.pendingAmount?.waiter.reject(pinPadFault('not-connected', 'PIN pad closed'));
  }

  async info(): Promise<PinPadInfo> {
    this.ensureReady();
    return { ...this.info_, keys: this.secure.keys() };
  }

  async loadKey(injection: DukptKeyInjection): Promise<void> {
    this.ensureReady();
    const rule = this.faults.match('load-key');
    if (rule) throw this.injected(rule, 'key load failed');
    this.secure.load(injection);
  }

  async requestPin(request: PinRequest): Promise<PinResult> {
    this.ensureReady();
    if (this.pending || this.pendingAmount) throw pinPadFault('busy', 'a PIN request is already in progress');
    if (request.signal?.aborted) throw pinPadFault('cancelled', 'PIN request aborted');
    const problem = requestProblem(request);
    if (problem) throw problem;
    const rule = this.faults.match('request');
    if (rule) throw this.injected(rule, 'PIN request failed');
    const refused = this.secure.refusal(request.format);
    if (refused) throw refused;

    const waiter = new Waiter<PinResult>(
      this.clock,
      request,
      () => pinPadFault('timeout', `no PIN within ${request.timeoutMs} ms`),
      () => pinPadFault('cancelled', 'PIN request aborted'),
      () => {
        this.pending = undefined;
      },
    );
    this.pending = { request, waiter };
    const prompt = request.amountText !== undefined ? { amountText: request.amountText } : {};
    this.prompts.push(prompt);
    this.events.emit('pin-prompt', prompt);
    const next = this.script.shift();
    if (next) this.act(next);
    return waiter.promise;
  }

  async requestAmount(request: AmountRequest): Promise<number> {
    this.ensureReady();
    if (this.pending || this.pendingAmount) throw pinPadFault('busy', 'an entry is already in progress');
    if (request.signal?.aborted) throw pinPadFault('cancelled', 'amount entry aborted');
    if (!Number.isSafeInteger(request.maxAmount) || request.maxAmount < 0)
      throw pinPadFault('bad-request', 'maxAmount must be a non-negative integer');
    const rule = this.faults.match('request');
    if (rule) throw this.injected(rule, 'amount entry failed');
    const waiter = new Waiter<number>(
      this.clock,
      request,
      () => pinPadFault('timeout', `no amount within ${request.timeoutMs} ms`),
      () => pinPadFault('cancelled', 'amount entry aborted'),
      () => {
        this.pendingAmount = undefined;
      },
    );
    this.pendingAmount = { request, waiter };
    this.prompts.push({ amountText: request.promptText });
    if (this.amountScript.length > 0) this.typeAmount(this.amountScript.shift()!);
    return waiter.promise;
  }

  // ---- the test's hands ----

  /**
   * The cardholder types an amount (minor units) and presses Enter, or Cancel (null). Above the request's maximum
   * the pad refuses Enter (false, the entry stays); without an entry showing it is kept for the next one.
   */
  typeAmount(amount: number | null): boolean {
    const pending = this.pendingAmount;
    if (!pending) {
      this.amountScript.push(amount);
      return true;
    }
    if (amount === null) {
      pending.waiter.reject(pinPadFault('cancelled', 'the cardholder pressed Cancel'));
      return true;
    }
    if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError('an amount is a whole number of minor units');
    if (amount > pending.request.maxAmount) return false;
    pending.waiter.resolve(amount);
    return true;
  }

  /** An amount entry is showing. */
  get enteringAmount(): boolean {
    return this.pendingAmount !== undefined;
  }

  /**
   * Installation: load a DUKPT initial key without opening the pad (the key injection facility). With
   * `resumeAtCounter`, the pad holds the state it would have at that counter (a saved pad, late-life tests).
   */
  injectKey(injection: DukptKeyInjection, options: { resumeAtCounter?: number } = {}): void {
    this.secure.load(injection, options.resumeAtCounter);
  }

  /** Queue what the cardholder will do at the next prompts (used before the live keystrokes). */
  queue(...actions: CardholderAction[]): void {
    this.script.push(...actions);
  }

  /**
   * The cardholder types these digits and presses Enter. Outside the request's length bounds the pad refuses Enter
   * (returns false, the prompt stays); without a prompt showing the keystrokes are queued for the next one.
   */
  enter(digits: string): boolean {
    return this.act({ kind: 'pin', digits });
  }

  cancel(): boolean {
    return this.act({ kind: 'cancel' });
  }

  /** Enter with no digits: PIN bypass. */
  bypass(): boolean {
    return this.act({ kind: 'bypass' });
  }

  /** Requests pending right now (0 or 1). */
  get prompting(): boolean {
    return this.pending !== undefined;
  }

  /** Fault injection (open, load-key, request). */
  inject(rule: PinPadFaultRule): void {
    this.faults.inject(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Tamper switch: keys erased, the pending request rejected, every later call 'tamper'. */
  tamper(reason = 'tamper switch'): void {
    this.tamperReason = reason;
    this.secure.erase();
    this.pending?.waiter.reject(pinPadFault('tamper', `tamper: ${reason}`));
    this.pendingAmount?.waiter.reject(pinPadFault('tamper', `tamper: ${reason}`));
    this.events.emit('tamper', { reason });
  }

  // ---- inside ----

  private act(action: CardholderAction): boolean {
    const pending = this.pending;
    if (!pending) {
      this.script.push(action);
      return true;
    }
    if (action.kind === 'no-answer') return true;
    if (action.kind === 'cancel') {
      pending.waiter.reject(pinPadFault('cancelled', 'the cardholder pressed Cancel'));
      return true;
    }
    if (action.kind === 'bypass' || action.digits.length === 0) {
      pending.waiter.reject(pinPadFault('bypassed', 'the cardholder pressed Enter without a PIN'));
      return true;
    }
    const { digits } = action;
    // A keypad has only digit keys: anything else is a test mistake, not a cardholder action.
    if (!/^\d+$/.test(digits)) throw new RangeError('a PIN pad has digit keys only');
    const { request } = pending;
    const typed = Math.min(digits.length, request.maxLength);
    for (let count = 1; count <= typed; count++) this.events.emit('pin-digits', { count });
    if (digits.length < request.minLength || digits.length > request.maxLength) {
      for (let count = typed - 1; count >= 0; count--) this.events.emit('pin-digits', { count });
      return false;
    }
    try {
      pending.waiter.resolve(this.secure.encipher(digits, request.pan, request.format));
    } catch (error) {
      pending.waiter.reject(error as DeviceFaultError<PinPadFaultCode>);
    }
    return true;
  }

  get opened(): boolean {
    return this.isOpen;
  }

  /** The cable pulled: a pending request fails 'not-connected', the pad reports it, and stays away until replug(). */
  unplug(): void {
    this.unplugged = true;
    void this.close();
    this.events.emit('health', { device: 'pin-pad', state: 'not-connected', code: 'not-connected' });
  }

  /** Plugged in again: reopened as a real driver's backoff would, and reported 'ok'. */
  replug(): void {
    this.unplugged = false;
    this.isOpen = true;
    this.events.emit('health', { device: 'pin-pad', state: 'ok' });
  }

  private ensureReady(): void {
    if (!this.isOpen) throw pinPadFault('not-connected', 'PIN pad not open');
    if (this.tamperReason !== undefined) throw pinPadFault('tamper', `tamper: ${this.tamperReason}`);
  }

  private injected(rule: Readonly<PinPadFaultRule>, what: string): DeviceFaultError<PinPadFaultCode> {
    if (rule.code === 'tamper' && this.tamperReason === undefined) {
      this.tamperReason = 'injected';
      this.secure.erase();
      this.events.emit('tamper', { reason: 'injected' });
    }
    return pinPadFault(rule.code, rule.message ?? `${what}: ${rule.code}`, { injected: true });
  }
}
