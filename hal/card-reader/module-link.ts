/**
 * The session with the card module over serial-frame.ts: one JSON object per frame, stop-and-wait. Every frame
 * sent waits for an ACK; a NAK or no ACK in time retransmits it, and after maxRetransmits the command fails
 * 'not-connected'. Every frame received is ACKed, or NAKed when the parser finds it damaged. `seq` lets the link
 * drop a frame the module repeated because our ACK was lost. Answers go to the command that carries their id;
 * events go to the driver.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { DeviceFaultError } from '../fault.js';
import type { CardReaderFaultCode } from './contract.js';
import { fault, type ModuleCommand, type ModuleMessage } from './module-messages.js';
import type { SerialPortLike } from './module-port.js';
import { ACK, encodeFrame, FrameParser, NAK } from './serial-frame.js';

interface Outgoing {
  frame: Buffer;
  /** Command id: a response carrying it proves the frame arrived even if its ACK was lost. */
  id: number;
  retransmits: number;
  timer: TimerHandle | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface PendingResponse {
  resolve: (message: ModuleMessage) => void;
  reject: (error: Error) => void;
  timer: TimerHandle | undefined;
}

export interface ModuleLinkOptions {
  clock: Clock;
  baudRate: number;
  responseTimeoutMs: number;
  maxRetransmits: number;
  ackTimeoutMs: number;
  interByteTimeoutMs?: number;
  maxPayload?: number;
  /** An unsolicited message from the module (CARD_PRESENTED, CARD_REMOVED, TAMPER). */
  onEvent: (message: ModuleMessage) => void;
}

export class ModuleLink {
  private readonly parser: FrameParser;
  private attachedPort: SerialPortLike | undefined;
  private nextId = 1;
  private lastSeq: unknown;
  private readonly outbox: Outgoing[] = [];
  private inFlight: Outgoing | undefined;
  private readonly responses = new Map<number, PendingResponse>();

  constructor(private readonly options: ModuleLinkOptions) {
    this.parser = new FrameParser({
      clock: options.clock,
      ...(options.interByteTimeoutMs !== undefined ? { interByteTimeoutMs: options.interByteTimeoutMs } : {}),
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      // An incomplete frame went silent: ask for it again at once.
      onTimeout: () => this.writeControl(NAK),
    });
  }

  /** The open port the session runs on, if any. */
  get port(): SerialPortLike | undefined {
    return this.attachedPort;
  }

  /** Starts a fresh session on a newly opened port. */
  attach(port: SerialPortLike): void {
    this.attachedPort = port;
    this.parser.reset();
    this.lastSeq = undefined;
  }

  /** Ends the session: every frame not yet acknowledged and every answer still awaited fails with `error`. */
  detach(error: DeviceFaultError<CardReaderFaultCode>): void {
    this.attachedPort = undefined;
    this.parser.reset();
    const outgoing = [...(this.inFlight ? [this.inFlight] : []), ...this.outbox.splice(0)];
    this.inFlight = undefined;
    for (const out of outgoing) {
      out.timer?.cancel();
      out.reject(error);
    }
    for (const pending of this.responses.values()) {
      pending.timer?.cancel();
      pending.reject(error);
    }
    this.responses.clear();
  }

  /** Sends a command (with its arguments beside `id` and `cmd`) and resolves with the module's answer. */
  async command(cmd: ModuleCommand, args: Readonly<Record<string, unknown>> = {}): Promise<ModuleMessage> {
    if (!this.attachedPort) throw fault('not-connected', 'reader not open');
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    let entry!: PendingResponse;
    const answer = new Promise<ModuleMessage>((resolve, reject) => {
      entry = { resolve, reject, timer: undefined };
    });
    // Settled by detach() while the frame is still in flight: the transmit failure is what the caller sees.
    answer.catch(() => undefined);
    this.responses.set(id, entry);
    try {
      await this.transmit(Buffer.from(JSON.stringify({ ...args, id, cmd }), 'utf8'), id);
    } catch (error) {
      this.responses.delete(id);
      throw error;
    }
    if (this.responses.get(id) === entry) {
      const timeoutMs = this.options.responseTimeoutMs;
      entry.timer = this.options.clock.setTimeout(() => {
        if (this.responses.get(id) !== entry) return;
        this.responses.delete(id);
        entry.reject(fault('timeout', `no answer to ${cmd} within ${timeoutMs} ms`, { command: cmd }));
      }, timeoutMs);
    }
    return answer;
  }

  /** Bytes from the port. */
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
      // The error text quotes the payload, which may hold card data: drop it unread.
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const msg = message as ModuleMessage;
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
    const pending = this.responses.get(msg.id);
    if (!pending) return;
    this.responses.delete(msg.id);
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
    // The frame needs its own time on the wire (10 bits per byte) before the module can even start to answer.
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

  /** NAK or no ACK in time: send the frame again, or give up on it. */
  private onNak(): void {
    const out = this.inFlight;
    if (!out) return;
    out.timer?.cancel();
    if (out.retransmits >= this.options.maxRetransmits) {
      this.inFlight = undefined;
      out.reject(
        fault('not-connected', `card module did not acknowledge after ${out.retransmits} retransmissions`, {
          retransmits: out.retransmits,
        }),
      );
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
