/**
 * Driver for a PIN pad on a serial line, on the card module's framing (hal/serial-link/frame.ts). The
 * application layer is one JSON object per frame, described in SERIAL-PROTOCOL.md beside this file:
 *
 *   terminal → pad  {"id":7,"cmd":"INFO" | "LOAD_KEY" | "REQUEST_PIN" | "CANCEL", ...}
 *   pad → terminal  {"seq":n,"id":7,"rsp":"REQUEST_PIN","ok":true,"format":0,"pinBlock":"…","ksn":"…"}
 *                   {"seq":n,"evt":"PIN_PROMPT" | "PIN_DIGITS" | "TAMPER", ...}
 *
 * The clear PIN never crosses the line: the pad answers with the enciphered block and its KSN. The session (ACKs,
 * retransmissions, answers by id) is hal/serial-link/link.ts.
 */
import { type Clock, systemClock } from '../clock.js';
import { type Listener, TypedEmitter, type Unsubscribe } from '../events.js';
import { DeviceFaultError } from '../fault.js';
import {
  type DukptKeyInjection,
  type DukptScheme,
  PIN_PAD_FAULT_CODES,
  type PinPad,
  type PinPadEvents,
  type PinPadFaultCode,
  type PinPadInfo,
  type PinRequest,
  type PinResult,
} from './contract.js';
import type { BackoffPolicy } from '../backoff.js';
import { healthOfChange } from '../reconnect/health.js';
import { Reconnector } from '../reconnect/reconnector.js';
import { type LinkMessage, SerialLink } from '../serial-link/link.js';
import type { OpenSerialPort } from '../serial-link/port.js';
import { pinPadFault, requestProblem } from './secure-module.js';

type PadCommand = 'INFO' | 'LOAD_KEY' | 'REQUEST_PIN' | 'CANCEL';
type PadMessage = LinkMessage;

export interface SerialPinPadOptions {
  path: string;
  baudRate: number;
  clock?: Clock;
  openPort?: OpenSerialPort;
  /** Time the pad has to answer INFO, LOAD_KEY and CANCEL. Default 3000 ms. */
  answerTimeoutMs?: number;
  /** Added to a PIN request's own timeoutMs: the pad times the cardholder out and answers first. Default 3000 ms. */
  pinAnswerMarginMs?: number;
  maxRetransmits?: number;
  ackTimeoutMs?: number;
  interByteTimeoutMs?: number;
  /** Reopen delays after the pad went away or could not be opened (hal/reconnect/). Default 0.5 s to 30 s. */
  reconnect?: BackoffPolicy;
}

const HEX = /^([0-9a-fA-F]{2})+$/;

export class SerialPinPad implements PinPad {
  private readonly events = new TypedEmitter<PinPadEvents>();
  private readonly link: SerialLink<PadCommand, DeviceFaultError<PinPadFaultCode>>;
  private readonly marginMs: number;
  private readonly reconnector: Reconnector;
  private tamperReason: string | undefined;
  private requesting: { reject: (error: Error) => void } | undefined;

  constructor(options: SerialPinPadOptions) {
    const clock: Clock = options.clock ?? systemClock;
    this.marginMs = options.pinAnswerMarginMs ?? 3000;
    this.link = new SerialLink({
      device: 'PIN pad',
      fault: pinPadFault,
      path: options.path,
      baudRate: options.baudRate,
      clock,
      ...(options.openPort ? { openPort: options.openPort } : {}),
      responseTimeoutMs: options.answerTimeoutMs ?? 3000,
      maxRetransmits: options.maxRetransmits ?? 3,
      ackTimeoutMs: options.ackTimeoutMs ?? 250,
      ...(options.interByteTimeoutMs !== undefined ? { interByteTimeoutMs: options.interByteTimeoutMs } : {}),
      onEvent: (msg) => this.onEvent(msg),
      onDetach: (error) => this.forget(error),
      onLost: (error) => this.reconnector.lost(error),
    });
    this.reconnector = new Reconnector({
      clock,
      connect: () => this.link.open('INFO', (info) => this.applyTamper(info)),
      ...(options.reconnect ? { policy: options.reconnect } : {}),
      onChange: (change) =>
        this.events.emit(
          'health',
          healthOfChange('pin-pad', change, (error) =>
            error instanceof Error ? error.message.slice(0, 120) : 'PIN pad not connected',
          ),
        ),
    });
  }

  on<E extends keyof PinPadEvents>(event: E, listener: Listener<PinPadEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * The INFO handshake proves a pad answers; it also reports a tamper state that outlived a restart. A pad that is
   * absent, or goes away later, is reopened with backoff until close().
   */
  async open(): Promise<void> {
    return this.reconnector.open();
  }

  async close(): Promise<void> {
    this.reconnector.stop();
    return this.link.close('PIN pad closed');
  }

  /** Asks the pad even while tampered: its answer is how a serviced pad is seen to have cleared tamper. */
  async info(): Promise<PinPadInfo> {
    if (!this.link.port) throw pinPadFault('not-connected', 'PIN pad not open');
    const answer = this.applyTamper(await this.link.command('INFO'));
    this.ensureReady();
    return infoFrom(answer);
  }

  async loadKey(injection: DukptKeyInjection): Promise<void> {
    this.ensureReady();
    const answer = await this.link.command('LOAD_KEY', {
      scheme: injection.scheme,
      initialKey: Buffer.from(injection.initialKey).toString('hex').toUpperCase(),
      initialKsn: Buffer.from(injection.initialKsn).toString('hex').toUpperCase(),
    });
    if (answer.ok !== true) throw faultFrom(answer, 'key load refused');
  }

  async requestPin(request: PinRequest): Promise<PinResult> {
    this.ensureReady();
    if (this.requesting) throw pinPadFault('busy', 'a PIN request is already in progress');
    if (request.signal?.aborted) throw pinPadFault('cancelled', 'PIN request aborted');
    const problem = requestProblem(request);
    if (problem) throw problem;
    const { signal } = request;
    return new Promise<PinResult>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        this.requesting = undefined;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = (): void => {
        // The pad is told to drop the prompt; our caller hears at once.
        this.link.command('CANCEL').catch(() => undefined);
        finish(() => reject(pinPadFault('cancelled', 'PIN request aborted')));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.requesting = { reject: (error) => finish(() => reject(error)) };
      const params: PadMessage = {
        pan: request.pan,
        format: request.format,
        minLength: request.minLength,
        maxLength: request.maxLength,
        timeoutMs: request.timeoutMs,
        ...(request.amountText !== undefined ? { amountText: request.amountText } : {}),
      };
      const answerMs = Number.isFinite(request.timeoutMs) ? request.timeoutMs + this.marginMs : 2 ** 31 - 1;
      this.link.command('REQUEST_PIN', params, answerMs).then(
        (answer) => {
          const result = resultFrom(answer, request);
          finish(() => (result instanceof DeviceFaultError ? reject(result) : resolve(result)));
        },
        (error: Error) => finish(() => reject(error)),
      );
    });
  }

  get opened(): boolean {
    return this.link.port !== undefined;
  }

  // ---- pad events ----

  private onEvent(msg: PadMessage): void {
    if (msg.evt === 'PIN_PROMPT') {
      this.events.emit('pin-prompt', typeof msg.amountText === 'string' ? { amountText: msg.amountText } : {});
    } else if (msg.evt === 'PIN_DIGITS' && Number.isInteger(msg.count)) {
      this.events.emit('pin-digits', { count: Math.max(0, Math.min(12, msg.count as number)) });
    } else if (msg.evt === 'TAMPER') {
      this.applyTamper({ tamper: typeof msg.reason === 'string' && msg.reason !== '' ? msg.reason : true });
    } else if (msg.evt === 'TAMPER_CLEARED') {
      this.applyTamper({ tamper: false });
    }
  }

  private applyTamper(msg: PadMessage): PadMessage {
    if (msg.tamper === false && this.tamperReason !== undefined) {
      this.tamperReason = undefined;
      this.events.emit('tamper-cleared', {});
      return msg;
    }
    if (msg.tamper === undefined || msg.tamper === false) return msg;
    const reason = typeof msg.tamper === 'string' ? msg.tamper.slice(0, 64) : 'tamper switch';
    const first = this.tamperReason === undefined;
    this.tamperReason = reason;
    this.requesting?.reject(pinPadFault('tamper', `tamper: ${reason}`));
    if (first) this.events.emit('tamper', { reason });
    return msg;
  }

  /** The session ended: a PIN request in progress fails with its error, and a tamper state is forgotten. */
  private forget(error: DeviceFaultError<PinPadFaultCode>): void {
    this.requesting?.reject(error);
    this.tamperReason = undefined;
  }

  private ensureReady(): void {
    if (!this.link.port) throw pinPadFault('not-connected', 'PIN pad not open');
    if (this.tamperReason !== undefined) throw pinPadFault('tamper', `tamper: ${this.tamperReason}`);
  }
}

function infoFrom(msg: PadMessage): PinPadInfo {
  const info: PinPadInfo = {
    model: typeof msg.model === 'string' ? msg.model.slice(0, 64) : 'unknown',
    firmware: typeof msg.firmware === 'string' ? msg.firmware.slice(0, 64) : 'unknown',
    keys: {},
  };
  if (typeof msg.serial === 'string') info.serial = msg.serial.slice(0, 64);
  const keys = typeof msg.keys === 'object' && msg.keys !== null ? (msg.keys as Record<string, unknown>) : {};
  for (const scheme of ['tdes-dukpt', 'aes-dukpt'] as DukptScheme[]) {
    const entry = keys[scheme] as { nextKsn?: unknown } | undefined;
    if (entry?.nextKsn === null) info.keys[scheme] = { nextKsn: null };
    else if (typeof entry?.nextKsn === 'string' && HEX.test(entry.nextKsn))
      info.keys[scheme] = { nextKsn: entry.nextKsn };
  }
  return info;
}

/** A REQUEST_PIN answer as the result, or the fault it stands for (a malformed answer is 'not-connected'). */
function resultFrom(msg: PadMessage, request: PinRequest): PinResult | DeviceFaultError<PinPadFaultCode> {
  if (msg.ok !== true) return faultFrom(msg, 'PIN request failed');
  const { pinBlock, ksn, format } = msg;
  const blockBytes = request.format === 0 ? 8 : 16;
  const ksnBytes = request.format === 0 ? 10 : 12;
  if (
    format !== request.format ||
    typeof pinBlock !== 'string' ||
    !HEX.test(pinBlock) ||
    pinBlock.length !== blockBytes * 2 ||
    typeof ksn !== 'string' ||
    !HEX.test(ksn) ||
    ksn.length !== ksnBytes * 2
  ) {
    return pinPadFault('not-connected', 'PIN pad answer rejected: bad-response', { reason: 'bad-response' });
  }
  return {
    pinBlock: new Uint8Array(Buffer.from(pinBlock, 'hex')),
    ksn: new Uint8Array(Buffer.from(ksn, 'hex')),
    format: request.format,
  };
}

function faultFrom(msg: PadMessage, what: string): DeviceFaultError<PinPadFaultCode> {
  const name = typeof msg.error === 'string' ? msg.error : '';
  const known = (PIN_PAD_FAULT_CODES as readonly string[]).includes(name) && name !== 'not-connected';
  const code: PinPadFaultCode = known ? (name as PinPadFaultCode) : 'bad-request';
  return pinPadFault(code, `${what}: ${code}`, known ? undefined : { reason: 'unknown-error' });
}
