/**
 * The serial chip/contactless card module, emulated on the far end of a serial pair (test/support/pty.ts). It speaks
 * the protocol of hal/card-reader/SERIAL-FRAME.md: answers INFO, WAIT_CARD, READ, CANCEL, EMV_START and EMV_COMPLETE
 * (with the same card model as the mock reader: hal/card-reader/emv-slot.ts), sends CARD_PRESENTED,
 * CARD_REMOVED and TAMPER events, ACKs what it receives and retransmits what is NAKed or left unacknowledged (the
 * link's end: serial-device-end.ts). Tests steer it: present or remove a card, trip tamper, and damage the link
 * (garble, bad LRC, dropped bytes, NAKs, stall).
 */
import type { Clock } from '../../hal/clock.js';
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
import { type Message, SerialDeviceEnd } from './serial-device-end.js';

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

/**
 * 'answers': frames are ACKed but commands get no answer (the module hangs mid-command).
 * 'everything': nothing at all comes back, not even ACKs (powered off, cable cut).
 */
export type StallKind = 'answers' | 'everything';

export class CardModuleEmulator extends SerialDeviceEnd {
  /** Commands executed, in order (a repeated id is not executed twice). */
  readonly commands: { id: number; cmd: string }[] = [];
  private card: EmulatedCard | undefined;
  /** The module's kernel and the chips it has met. */
  readonly emv = new EmvSlot();
  private tamperReason: string | undefined;
  private stalled: StallKind | undefined;
  private holding = false;
  private heldRead: number | undefined;

  private constructor(
    port: SerialPortLike,
    private readonly options: CardModuleEmulatorOptions,
  ) {
    super(port, {
      ...(options.clock ? { clock: options.clock } : {}),
      ackTimeoutMs: options.ackTimeoutMs ?? 500,
      maxRetransmits: options.maxRetransmits ?? 5,
    });
  }

  /** Opens the port (autoOpen false) and starts answering. */
  static async start(port: SerialPortLike, options: CardModuleEmulatorOptions = {}): Promise<CardModuleEmulator> {
    const emulator = new CardModuleEmulator(port, options);
    await emulator.listen();
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

  /** The module was serviced: INFO reports no tamper again; `announce` also sends TAMPER_CLEARED. */
  clearTamper(announce = false): void {
    this.tamperReason = undefined;
    if (announce) this.send({ evt: 'TAMPER_CLEARED' });
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

  // ---- the module hangs ----

  stall(kind: StallKind = 'answers'): void {
    this.stalled = kind;
    this.silent = kind === 'everything';
  }

  resume(): void {
    this.stalled = undefined;
    this.silent = false;
  }

  // ---- answering ----

  protected onCommand(id: number, cmd: string, msg: Message): void {
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
}
