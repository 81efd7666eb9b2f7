/**
 * The serial chip/contactless card module, emulated on the far end of a serial pair (test/support/pty.ts). It speaks
 * the protocol of hal/card-reader/SERIAL-FRAME.md: answers INFO, WAIT_CARD, READ, CANCEL, EMV_START and EMV_COMPLETE
 * (with the same card model as the mock reader: hal/card-reader/emv-slot.ts), sends CARD_PRESENTED,
 * CARD_REMOVED and TAMPER events, ACKs what it receives and retransmits what is NAKed or left unacknowledged. Tests
 * steer it: present or remove a card, trip tamper, and damage the link (garble, bad LRC, dropped bytes, NAKs, stall).
 */
import { systemClock, type Clock, type TimerHandle } from '../../hal/clock.js';
import { ACK, NAK, FrameParser, encodeFrame } from '../../hal/serial-link/frame.js';
import type { SerialPortLike } from '../../hal/card-reader/serial-module.js';
import type { EmvCardProfile } from '../../hal/card-reader/emv-card.js';
import {
  emvAnswerFrom,
  emvCompleteAnswer,
  emvStartAnswer,
  emvStartInputFrom,
} from '../../hal/card-reader/emv-messages.js';
import { EmvSlot } from '../../hal/card-reader/emv-slot.js';
import { DeviceFaultError } from '../../hal/fault.js';

export interface EmulatedCard {
  entryMode: 'chip' | 'contactless';
  pan: string;
  expiry: string;
  serviceCode?: string;
  /** EMV TLV data as hex. */
  iccData?: string;
  /** The chip the EMV commands talk to (default: the mock reader's default chip for this PAN). */
  emv?: EmvCardProfile;
}

export interface CardModuleEmulatorOptions {
  model?: string;
  firmware?: string;
  serial?: string;
  /** Drives the emulator's own ACK wait. Tests that must not see it retransmit on its own pass a ManualClock. */
  clock?: Clock;
  /** Default 500 ms. */
  ackTimeoutMs?: number;
  /** Default 5. */
  maxRetransmits?: number;
}

type Message = Record<string, unknown>;

/**
 * 'answers': frames are ACKed but commands get no answer (the module hangs mid-command).
 * 'everything': nothing at all comes back, not even ACKs (powered off, cable cut).
 */
export type StallKind = 'answers' | 'everything';

interface Outgoing {
  payload: Buffer;
  tries: number;
  timer: TimerHandle | undefined;
}

export class CardModuleEmulator {
  /** Commands executed, in order (a repeated id is not executed twice). */
  readonly commands: { id: number; cmd: string }[] = [];
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

  private card: EmulatedCard | undefined;
  /** The module's kernel and the chips it has met. */
  readonly emv = new EmvSlot();
  private tamperReason: string | undefined;
  private stalled: StallKind | undefined;
  private holding = false;
  private heldRead: number | undefined;
  private nakBudget = 0;
  private acksToLose = 0;
  private acksToWithhold = 0;
  private damage: ((frame: Buffer) => Buffer) | undefined;
  private lastId: number | undefined;
  private seq = 0;
  private readonly queue: Buffer[] = [];
  private inFlight: Outgoing | undefined;
  private readonly parser: FrameParser;
  private readonly clock: Clock;
  private readonly ackTimeoutMs: number;
  private readonly maxRetransmits: number;

  private constructor(
    private readonly port: SerialPortLike,
    private readonly options: CardModuleEmulatorOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 500;
    this.maxRetransmits = options.maxRetransmits ?? 5;
    this.parser = new FrameParser({ clock: this.clock, onTimeout: () => this.nak() });
  }

  /** Opens the port (autoOpen false) and starts answering. */
  static async start(port: SerialPortLike, options: CardModuleEmulatorOptions = {}): Promise<CardModuleEmulator> {
    const emulator = new CardModuleEmulator(port, options);
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    port.on('data', (data: Buffer) => emulator.onData(data));
    return emulator;
  }

  // ---- the card and the module ----

  present(card: EmulatedCard): void {
    this.card = card;
    this.send({ evt: 'CARD_PRESENTED', entryMode: card.entryMode });
  }

  remove(): void {
    this.card = undefined;
    this.send({ evt: 'CARD_REMOVED' });
    if (this.heldRead !== undefined) {
      this.send({ id: this.heldRead, rsp: 'READ', ok: false, error: 'card-removed' });
      this.heldRead = undefined;
    }
  }

  tamper(reason = 'case opened'): void {
    this.tamperReason = reason;
    this.send({ evt: 'TAMPER', reason });
  }

  /** READ is ACKed and held until releaseRead() or remove(): a window for the card to leave mid-read. */
  holdReads(on: boolean): void {
    this.holding = on;
  }

  releaseRead(): void {
    const id = this.heldRead;
    this.heldRead = undefined;
    if (id !== undefined) this.answerRead(id);
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

  stall(kind: StallKind = 'answers'): void {
    this.stalled = kind;
  }

  resume(): void {
    this.stalled = undefined;
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
    if (this.stalled === 'everything') return;
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
    this.commands.push({ id, cmd });
    if (this.stalled === 'answers') return;
    this.execute(id, cmd, msg);
  }

  private execute(id: number, cmd: string, msg: Message): void {
    switch (cmd) {
      case 'INFO':
        this.send({
          id,
          rsp: 'INFO',
          model: this.options.model ?? 'EMU-CM1',
          firmware: this.options.firmware ?? '2.4.1',
          ...(this.options.serial !== undefined ? { serial: this.options.serial } : {}),
          tamper: this.tamperReason ?? false,
        });
        return;
      case 'WAIT_CARD':
        this.send(
          this.card
            ? { id, rsp: 'WAIT_CARD', present: true, entryMode: this.card.entryMode }
            : { id, rsp: 'WAIT_CARD', present: false },
        );
        return;
      case 'READ':
        if (this.holding && this.card) {
          this.heldRead = id;
          return;
        }
        this.answerRead(id);
        return;
      case 'CANCEL':
        this.send({ id, rsp: 'CANCEL' });
        return;
      case 'EMV_START':
      case 'EMV_COMPLETE':
        this.answerEmv(id, cmd, msg);
        return;
      default:
        this.send({ id, rsp: 'ERROR', error: 'unknown-command' });
    }
  }

  private answerRead(id: number): void {
    if (this.tamperReason !== undefined) {
      this.send({ id, rsp: 'READ', ok: false, error: 'tamper' });
      return;
    }
    const card = this.card;
    if (!card) {
      this.send({ id, rsp: 'READ', ok: false, error: 'no-card' });
      return;
    }
    const { emv, ...data } = card;
    this.emv.cardRead(card, emv);
    this.send({ id, rsp: 'READ', ok: true, ...data });
  }

  /** The EMV commands, run by the same kernel and card model as the mock reader's. */
  private answerEmv(id: number, cmd: 'EMV_START' | 'EMV_COMPLETE', msg: Message): void {
    const fail = (error: string): void => this.send({ id, rsp: cmd, ok: false, error });
    if (this.tamperReason !== undefined) {
      fail('tamper');
      return;
    }
    const inserted = this.card?.entryMode === 'chip';
    try {
      if (cmd === 'EMV_START') {
        const input = emvStartInputFrom(msg);
        if (!input) {
          fail('bad-input');
          return;
        }
        this.send({ id, rsp: cmd, ...emvStartAnswer(this.emv.start(input, inserted)) });
      } else {
        const answer = emvAnswerFrom(msg);
        if (!answer) {
          fail('bad-input');
          return;
        }
        this.send({ id, rsp: cmd, ...emvCompleteAnswer(this.emv.complete(answer, inserted, () => this.remove())) });
      }
    } catch (error) {
      if (!(error instanceof DeviceFaultError)) throw error;
      const reason = typeof error.detail?.reason === 'string' ? error.detail.reason : undefined;
      if (error.code === 'read-failed') fail(reason === 'bad-input' ? 'bad-input' : 'no-transaction');
      else fail(error.code);
    }
  }

  // ---- sending (stop-and-wait) ----

  private send(msg: Message): void {
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
    if (this.stalled !== 'everything') this.write(frame);
    out.timer?.cancel();
    out.timer = this.clock.setTimeout(() => this.retry(), this.ackTimeoutMs);
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
