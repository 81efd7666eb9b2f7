/**
 * The session with a serial PIN pad over the card module's framing (hal/card-reader/serial-frame.ts): one JSON
 * object per frame, stop-and-wait, every frame ACKed, a NAK or a missing ACK retransmits, and after maxRetransmits
 * the command fails 'not-connected'. Commands carry `id`, answers echo it; pad messages carry `seq` so a frame the
 * pad repeated (our ACK was lost) is dropped. Events go to the driver.
 */
import { ACK, encodeFrame, FrameParser, NAK } from '../card-reader/serial-frame.js';
import type { SerialPortLike } from '../card-reader/module-port.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { DeviceFaultError } from '../fault.js';
import type { PinPadFaultCode } from './contract.js';
import { pinPadFault } from './secure-module.js';

export type PadMessage = Record<string, unknown>;

interface Outgoing {
  frame: Buffer;
  id: number;
  retransmits: number;
  timer: TimerHandle | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface PendingAnswer {
  resolve: (message: PadMessage) => void;
  reject: (error: Error) => void;
  timer: TimerHandle | undefined;
}

export interface PadLinkOptions {
  clock: Clock;
  baudRate: number;
  maxRetransmits: number;
  ackTimeoutMs: number;
  interByteTimeoutMs?: number;
  onEvent: (message: PadMessage) => void;
}

export class PadLink {
  private readonly parser: FrameParser;
  private attachedPort: SerialPortLike | undefined;
  private nextId = 1;
  private lastSeq: unknown;
  private readonly outbox: Outgoing[] = [];
  private inFlight: Outgoing | undefined;
  private readonly answers = new Map<number, PendingAnswer>();

  constructor(private readonly options: PadLinkOptions) {
    this.parser = new FrameParser({
      clock: options.clock,
      ...(options.interByteTimeoutMs !== undefined ? { interByteTimeoutMs: options.interByteTimeoutMs } : {}),
      onTimeout: () => this.writeControl(NAK),
    });
  }

  get port(): SerialPortLike | undefined {
    return this.attachedPort;
  }

  attach(port: SerialPortLike): void {
    this.attachedPort = port;
    this.parser.reset();
    this.lastSeq = undefined;
  }

  /** Ends the session: every frame not yet acknowledged and every answer awaited fails with `error`. */
  detach(error: DeviceFaultError<PinPadFaultCode>): void {
    this.attachedPort = undefined;
    this.parser.reset();
    const outgoing = [...(this.inFlight ? [this.inFlight] : []), ...this.outbox.splice(0)];
    this.inFlight = undefined;
    for (const out of outgoing) {
      out.timer?.cancel();
      out.reject(error);
    }
    for (const pending of this.answers.values()) {
      pending.timer?.cancel();
      pending.reject(error);
    }
    this.answers.clear();
  }

  /** Sends a command and resolves with the pad's answer, or fails 'timeout' after answerTimeoutMs. */
  async command(cmd: string, params: PadMessage, answerTimeoutMs: number): Promise<PadMessage> {
    if (!this.attachedPort) throw pinPadFault('not-connected', 'PIN pad not open');
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    let entry!: PendingAnswer;
    const answer = new Promise<PadMessage>((resolve, reject) => {
      entry = { resolve, reject, timer: undefined };
    });
    answer.catch(() => undefined);
    this.answers.set(id, entry);
    try {
      await this.transmit(Buffer.from(JSON.stringify({ ...params, id, cmd }), 'utf8'), id);
    } catch (error) {
      this.answers.delete(id);
      throw error;
    }
    if (this.answers.get(id) === entry) {
      entry.timer = this.options.clock.setTimeout(() => {
        if (this.answers.get(id) !== entry) return;
        this.answers.delete(id);
        entry.reject(pinPadFault('timeout', `no answer to ${cmd} within ${answerTimeoutMs} ms`, { command: cmd }));
      }, answerTimeoutMs);
    }
    return answer;
  }

  onData(data: Buffer): void {
    const result = this.parser.push(data);
    for (const control of result.controls) {
      if (control === 'ack') this.onAck();
      else this.onNak();
    }
    for (const frame of result.frames) {
      this.writeControl(ACK);
      this.onFrame(frame);
    }
    if (result.errors.length > 0) this.writeControl(NAK);
  }

  private onFrame(frame: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(frame.toString('utf8'));
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const msg = message as PadMessage;
    if (msg.seq !== undefined) {
      if (msg.seq === this.lastSeq) return;
      this.lastSeq = msg.seq;
    }
    if (typeof msg.evt === 'string') {
      this.options.onEvent(msg);
      return;
    }
    if (typeof msg.id !== 'number') return;
    if (this.inFlight?.id === msg.id) this.onAck();
    const pending = this.answers.get(msg.id);
    if (!pending) return;
    this.answers.delete(msg.id);
    pending.timer?.cancel();
    pending.resolve(msg);
  }

  private transmit(payload: Buffer, id: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ frame: encodeFrame(payload), id, retransmits: 0, timer: undefined, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || !this.attachedPort) return;
    this.inFlight = this.outbox.shift();
    if (this.inFlight) this.sendInFlight();
  }

  private sendInFlight(): void {
    const out = this.inFlight;
    const port = this.attachedPort;
    if (!out || !port) return;
    port.write(out.frame);
    const wireMs = Math.ceil((out.frame.length * 10 * 1000) / this.options.baudRate);
    out.timer?.cancel();
    out.timer = this.options.clock.setTimeout(() => this.onNak(), this.options.ackTimeoutMs + wireMs);
  }

  private onAck(): void {
    const out = this.inFlight;
    if (!out) return;
    out.timer?.cancel();
    this.inFlight = undefined;
    out.resolve();
    this.pump();
  }

  private onNak(): void {
    const out = this.inFlight;
    if (!out) return;
    out.timer?.cancel();
    if (out.retransmits >= this.options.maxRetransmits) {
      this.inFlight = undefined;
      out.reject(pinPadFault('not-connected', `PIN pad did not acknowledge after ${out.retransmits} retransmissions`));
      this.pump();
      return;
    }
    out.retransmits++;
    this.sendInFlight();
  }

  private writeControl(byte: number): void {
    this.attachedPort?.write(Buffer.from([byte]));
  }
}
