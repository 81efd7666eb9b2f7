/**
 * The device's end of the framed serial link (hal/serial-link/frame.ts, rules in hal/card-reader/SERIAL-FRAME.md),
 * shared by the emulated card module and the emulated PIN pad: ACKs what it receives (or NAKs it when damaged),
 * hands each command on once (a repeat of the last id, resent because its ACK was lost, is ACKed again and dropped),
 * and sends its own messages stop-and-wait with a `seq`, resending what is NAKed or left unacknowledged. Tests damage
 * the link through it: NAKs, lost or withheld ACKs, garbled frames, a bad LRC, dropped bytes, a silent line.
 */
import { type Clock, systemClock, type TimerHandle } from '../../hal/clock.js';
import { ACK, encodeFrame, FrameParser, NAK } from '../../hal/serial-link/frame.js';
import type { SerialPortLike } from '../../hal/serial-link/port.js';

export type Message = Record<string, unknown>;

export interface SerialDeviceEndOptions {
  clock?: Clock;
  /** Resend a frame left unacknowledged this long. Absent: resend only when NAKed. */
  ackTimeoutMs?: number;
  /** Resends of one frame before it is given up. Default: no limit. */
  maxRetransmits?: number;
}

interface Outgoing {
  payload: Buffer;
  tries: number;
  timer: TimerHandle | undefined;
}

export abstract class SerialDeviceEnd {
  /** Every message sent (answers and events), before any damage. */
  readonly sent: Message[] = [];
  readonly stats = {
    framesIn: 0,
    badFramesIn: 0,
    naksSent: 0,
    naksIn: 0,
    acksIn: 0,
    retransmits: 0,
    duplicateCommands: 0,
  };
  protected readonly clock: Clock;
  /** Nothing at all comes back, not even ACKs (powered off, cable cut). */
  protected silent = false;
  private nakBudget = 0;
  private acksToLose = 0;
  private acksToWithhold = 0;
  private damage: ((frame: Buffer) => Buffer) | undefined;
  private lastId: number | undefined;
  private seq = 0;
  private readonly queue: Buffer[] = [];
  private inFlight: Outgoing | undefined;
  private readonly parser: FrameParser;
  private readonly ackTimeoutMs: number | undefined;
  private readonly maxRetransmits: number;

  protected constructor(
    private readonly port: SerialPortLike,
    options: SerialDeviceEndOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.ackTimeoutMs = options.ackTimeoutMs;
    this.maxRetransmits = options.maxRetransmits ?? Number.POSITIVE_INFINITY;
    this.parser = new FrameParser({ clock: this.clock, onTimeout: () => this.nak() });
  }

  /** A command frame, received once: the device executes it. */
  protected abstract onCommand(id: number, cmd: string, msg: Message): void;

  /** Opens the port (autoOpen false) and starts listening. */
  protected async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.port.open((error) => (error ? reject(error) : resolve())));
    this.port.on('data', (data: Buffer) => this.onData(data));
    // A test that unplugs the line checks the host's side; the device's writes into a vanished pty just fail.
    this.port.on('error', () => undefined);
  }

  // ---- link damage ----

  /** NAK the next n frames received instead of processing them. */
  nakNext(n = 1): void {
    this.nakBudget += n;
  }

  /** The next ACK from the host is lost on the line: the frame it acknowledged is sent again after the ACK timeout. */
  loseNextAck(): void {
    this.acksToLose++;
  }

  /** The next frame received is executed but not ACKed (the ACK is lost on the way to the host). */
  withholdAckNext(): void {
    this.acksToWithhold++;
  }

  /** The next frame sent is preceded by line noise and has one payload byte flipped (its LRC no longer matches). */
  garbleNext(): void {
    this.damage = (frame) => {
      const copy = Buffer.from(frame);
      if (copy.length > 5) copy[3] = (copy[3] as number) ^ 0x40;
      return Buffer.concat([Buffer.from([0x00, 0xff, 0x7e, 0x13]), copy]);
    };
  }

  /** The next frame sent carries a wrong LRC byte. */
  badLrcNext(): void {
    this.damage = (frame) => {
      const copy = Buffer.from(frame);
      copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0xff;
      return copy;
    };
  }

  /** The next frame sent loses n bytes from its middle (the line dropped them). */
  dropBytesNext(n: number): void {
    this.damage = (frame) => {
      const at = Math.max(3, Math.floor(frame.length / 2) - Math.floor(n / 2));
      return Buffer.concat([frame.subarray(0, at), frame.subarray(Math.min(frame.length, at + n))]);
    };
  }

  /** Nothing queued or waiting for an ACK. */
  get idle(): boolean {
    return this.inFlight === undefined && this.queue.length === 0;
  }

  async close(): Promise<void> {
    this.inFlight?.timer?.cancel();
    this.parser.reset();
    await new Promise<void>((resolve) => {
      try {
        this.port.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  // ---- receiving ----

  private onData(data: Buffer): void {
    if (this.silent) return;
    const result = this.parser.push(data);
    for (const control of result.controls) {
      if (control === 'ack') this.onAck();
      else this.onNak();
    }
    for (const frame of result.frames) this.onFrame(frame);
    if (result.errors.length > 0) {
      this.stats.badFramesIn += result.errors.length;
      this.nak();
    }
  }

  private onFrame(frame: Buffer): void {
    this.stats.framesIn++;
    if (this.nakBudget > 0) {
      this.nakBudget--;
      this.nak();
      return;
    }
    if (this.acksToWithhold > 0) this.acksToWithhold--;
    else this.write(Buffer.from([ACK]));
    let msg: Message;
    try {
      msg = JSON.parse(frame.toString('utf8')) as Message;
    } catch {
      return;
    }
    const id = msg.id;
    const cmd = msg.cmd;
    if (typeof id !== 'number' || typeof cmd !== 'string') return;
    // The host repeated a frame whose ACK it missed: ACKed again above, never executed twice.
    if (id === this.lastId) {
      this.stats.duplicateCommands++;
      return;
    }
    this.lastId = id;
    this.onCommand(id, cmd, msg);
  }

  // ---- sending (stop-and-wait) ----

  protected send(msg: Message): void {
    const full = { seq: ++this.seq, ...msg };
    this.sent.push(full);
    this.queue.push(Buffer.from(JSON.stringify(full), 'utf8'));
    this.pump();
  }

  private pump(): void {
    if (this.inFlight) return;
    const payload = this.queue.shift();
    if (!payload) return;
    this.inFlight = { payload, tries: 0, timer: undefined };
    this.transmit();
  }

  private transmit(): void {
    const out = this.inFlight;
    if (!out) return;
    let frame = encodeFrame(out.payload);
    if (this.damage) {
      frame = this.damage(frame);
      this.damage = undefined;
    }
    out.tries++;
    if (!this.silent) this.write(frame);
    out.timer?.cancel();
    if (this.ackTimeoutMs !== undefined) out.timer = this.clock.setTimeout(() => this.retry(), this.ackTimeoutMs);
  }

  private retry(): void {
    const out = this.inFlight;
    if (!out) return;
    out.timer?.cancel();
    if (out.tries > this.maxRetransmits) {
      this.inFlight = undefined;
      this.pump();
      return;
    }
    this.stats.retransmits++;
    this.transmit();
  }

  private onAck(): void {
    if (this.acksToLose > 0) {
      this.acksToLose--;
      return;
    }
    this.stats.acksIn++;
    const out = this.inFlight;
    if (!out) return;
    out.timer?.cancel();
    this.inFlight = undefined;
    this.pump();
  }

  private onNak(): void {
    this.stats.naksIn++;
    this.retry();
  }

  private nak(): void {
    this.stats.naksSent++;
    this.write(Buffer.from([NAK]));
  }

  private write(bytes: Buffer): void {
    this.port.write(bytes);
  }
}
