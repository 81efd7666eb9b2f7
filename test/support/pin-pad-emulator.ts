/**
 * A serial PIN pad, emulated on the far end of a serial pair (test/support/pty.ts). It speaks the protocol of
 * hal/pin-pad/SERIAL-PROTOCOL.md on the card module's framing: answers INFO, LOAD_KEY, REQUEST_PIN and CANCEL,
 * sends PIN_PROMPT, PIN_DIGITS and TAMPER events, ACKs what it receives and resends what is NAKed (the link's end:
 * serial-device-end.ts). Its DUKPT state is the pad's secure module (hal/pin-pad/secure-module.ts). Tests are the
 * cardholder: enter, cancel, bypass.
 */
import type { SerialPortLike } from '../../hal/serial-link/port.js';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { DukptScheme } from '../../hal/pin-pad/contract.js';
import { PinSecureModule, requestProblem } from '../../hal/pin-pad/secure-module.js';
import { DeviceFaultError } from '../../hal/fault.js';
import { type Message, SerialDeviceEnd } from './serial-device-end.js';

export interface PinPadEmulatorOptions {
  /** Times the cardholder out (REQUEST_PIN's timeoutMs). Tests pass a ManualClock. */
  clock?: Clock;
  serial?: string;
}

interface Prompt {
  id: number;
  pan: string;
  format: 0 | 4;
  minLength: number;
  maxLength: number;
  timer: TimerHandle | undefined;
}

export class PinPadEmulator extends SerialDeviceEnd {
  /** Commands executed, in order, without their key or PAN parameters. */
  readonly commands: { id: number; cmd: string }[] = [];
  readonly secure = new PinSecureModule();
  private prompt: Prompt | undefined;
  private tamperReason: string | undefined;
  private stalled = false;
  private forgedAnswer: Message | undefined;

  private constructor(
    port: SerialPortLike,
    private readonly options: PinPadEmulatorOptions,
  ) {
    super(port, options.clock ? { clock: options.clock } : {});
  }

  static async start(port: SerialPortLike, options: PinPadEmulatorOptions = {}): Promise<PinPadEmulator> {
    const emulator = new PinPadEmulator(port, options);
    await emulator.listen();
    return emulator;
  }

  // ---- the cardholder and the case ----

  get prompting(): boolean {
    return this.prompt !== undefined;
  }

  /** Digits then Enter; refused (false) outside the prompt's length bounds. */
  enter(digits: string): boolean {
    const prompt = this.prompt;
    if (!prompt) return false;
    if (digits.length === 0) return this.finish({ ok: false, error: 'bypassed' });
    for (let count = 1; count <= Math.min(digits.length, prompt.maxLength); count++) {
      this.send({ evt: 'PIN_DIGITS', count });
    }
    if (digits.length < prompt.minLength || digits.length > prompt.maxLength) {
      this.send({ evt: 'PIN_DIGITS', count: 0 });
      return false;
    }
    try {
      const r = this.secure.encipher(digits, prompt.pan, prompt.format);
      return this.finish({
        ok: true,
        format: r.format,
        pinBlock: Buffer.from(r.pinBlock).toString('hex').toUpperCase(),
        ksn: Buffer.from(r.ksn).toString('hex').toUpperCase(),
      });
    } catch (error) {
      return this.finish({ ok: false, error: error instanceof DeviceFaultError ? error.code : 'bad-request' });
    }
  }

  cancel(): boolean {
    return this.finish({ ok: false, error: 'cancelled' });
  }

  bypass(): boolean {
    return this.enter('');
  }

  /** The module was serviced: INFO reports no tamper again; `announce` also sends TAMPER_CLEARED. */
  clearTamper(announce = false): void {
    this.tamperReason = undefined;
    if (announce) this.send({ evt: 'TAMPER_CLEARED' });
  }

  tamper(reason = 'case opened'): void {
    this.tamperReason = reason;
    this.secure.erase();
    this.finish({ ok: false, error: 'tamper' });
    this.send({ evt: 'TAMPER', reason });
  }

  /** Frames are ACKed but commands get no answer (the pad hangs). */
  stallAnswers(on = true): void {
    this.stalled = on;
  }

  /** The next REQUEST_PIN answer is replaced by this one (a faulty or hostile pad). */
  forgeNextPinAnswer(answer: Message): void {
    this.forgedAnswer = answer;
  }

  override async close(): Promise<void> {
    this.prompt?.timer?.cancel();
    await super.close();
  }

  // ---- answering ----

  protected onCommand(id: number, cmd: string, msg: Message): void {
    if (this.stalled) return;
    this.commands.push({ id, cmd });
    switch (cmd) {
      case 'INFO':
        this.send({
          id,
          rsp: 'INFO',
          model: 'EMU-PP1',
          firmware: '3.1.0',
          serial: this.options.serial ?? 'PP-0001',
          tamper: this.tamperReason ?? false,
          keys: this.secure.keys(),
        });
        return;
      case 'LOAD_KEY':
        this.loadKey(id, msg);
        return;
      case 'REQUEST_PIN':
        this.requestPin(id, msg);
        return;
      case 'CANCEL':
        this.finish({ ok: false, error: 'cancelled' });
        this.send({ id, rsp: 'CANCEL' });
        return;
      default:
        this.send({ id, rsp: 'ERROR', error: 'unknown-command' });
    }
  }

  private loadKey(id: number, msg: Message): void {
    if (this.tamperReason !== undefined) {
      this.send({ id, rsp: 'LOAD_KEY', ok: false, error: 'tamper' });
      return;
    }
    const hex = (v: unknown) =>
      typeof v === 'string' && /^([0-9A-Fa-f]{2})+$/.test(v) ? Buffer.from(v, 'hex') : undefined;
    const initialKey = hex(msg.initialKey);
    const initialKsn = hex(msg.initialKsn);
    try {
      if (!initialKey || !initialKsn) throw new Error('bad hex');
      this.secure.load({ scheme: msg.scheme as DukptScheme, initialKey, initialKsn });
      this.send({ id, rsp: 'LOAD_KEY', ok: true });
    } catch {
      this.send({ id, rsp: 'LOAD_KEY', ok: false, error: 'bad-request' });
    }
  }

  private requestPin(id: number, msg: Message): void {
    const refusal =
      this.tamperReason !== undefined
        ? 'tamper'
        : this.prompt
          ? 'busy'
          : (requestProblem(msg)?.code ?? this.secure.refusal(msg.format as 0 | 4)?.code);
    if (refusal) {
      this.send({ id, rsp: 'REQUEST_PIN', ok: false, error: refusal });
      return;
    }
    const format = msg.format as 0 | 4;
    const timeoutMs = typeof msg.timeoutMs === 'number' ? msg.timeoutMs : 30_000;
    this.prompt = {
      id,
      pan: msg.pan as string,
      format,
      minLength: msg.minLength as number,
      maxLength: msg.maxLength as number,
      timer: this.clock.setTimeout(() => this.finish({ ok: false, error: 'timeout' }), timeoutMs),
    };
    this.send({ evt: 'PIN_PROMPT', ...(typeof msg.amountText === 'string' ? { amountText: msg.amountText } : {}) });
  }

  private finish(answer: Message): boolean {
    const prompt = this.prompt;
    if (!prompt) return false;
    prompt.timer?.cancel();
    this.prompt = undefined;
    const sent = this.forgedAnswer ?? answer;
    this.forgedAnswer = undefined;
    this.send({ id: prompt.id, rsp: 'REQUEST_PIN', ...sent });
    return true;
  }
}
