/**
 * Mock card reader with fault injection, for tests and the desktop simulator. Time comes from the injected Clock,
 * so a ManualClock drives every timeout.
 *
 * A card's life as on real hardware: presented (inserted, tapped or swiped), read, then a chip card stays inserted
 * until remove() (a tapped or swiped card is gone once read). A card already read is never offered to a later wait
 * without a new presentation, and a swipe made while nobody waits for a card is discarded at the next wait
 * ('swipe-discarded'), as the HID reader does.
 */
import type { Clock } from '../clock.js';
import { Waiter } from './waiter.js';
import { DeviceFaultError } from '../fault.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import { FaultScript, type FaultRule } from '../mock/fault-script.js';
import type { EmvCardProfile } from './emv-card.js';
import type { EmvCompleteResult, EmvHostAnswer, EmvStartInput, EmvStartResult } from './emv-contract.js';
import { EmvSlot } from './emv-slot.js';
import type {
  CardData,
  CardReader,
  CardReaderEvents,
  CardReaderFaultCode,
  CardReaderInfo,
  CardWaitOptions,
  EntryMode,
} from './contract.js';

/** Injection points: open(), waitForCard(), read(), waitForRemoval(), the EMV steps. Steps are implicit (nth call). */
export type CardReaderOp = 'open' | 'wait' | 'read' | 'remove' | 'emv-start' | 'emv-complete';
export type CardReaderFaultRule = FaultRule<CardReaderOp, CardReaderFaultCode>;

export interface MockCardReaderOptions {
  model?: string;
  firmware?: string;
  serial?: string;
  /** Clock time a read takes. 0 (default) resolves at once; above 0 leaves a window for remove() mid-read. */
  readDurationMs?: number;
}

type Settle<T> = { ok: true; value: T } | { ok: false; error: DeviceFaultError<CardReaderFaultCode> };

export interface PresentOptions {
  /** The cardholder takes the card out as soon as the terminal waits for its removal (the simulator's cardholder). */
  removeWhenAsked?: boolean;
  /** The chip of a chip or contactless card (default: a card that approves online, signature or no CVM). */
  emv?: EmvCardProfile;
}

export class MockCardReader implements CardReader {
  private readonly events = new TypedEmitter<CardReaderEvents>();
  private readonly faults = new FaultScript<CardReaderOp, CardReaderFaultCode>();
  private readonly infoValue: CardReaderInfo;
  private readonly readDurationMs: number;
  private isOpen = false;
  /** Pulled out (unplug()): open() fails until replug(). */
  private unplugged = false;
  private tamperReason: string | undefined;
  private inReader: CardData | undefined;
  private inReaderEmv: EmvCardProfile | undefined;
  private readonly emv = new EmvSlot();
  /** The card in the reader has been read (or a read was tried): a new transaction needs a new presentation. */
  private consumed = false;
  private readonly queue: Array<{ card: CardData; removeWhenAsked: boolean; emv: EmvCardProfile | undefined }> = [];
  private removeWhenAsked = false;
  /** Clock time of a swipe made while no wait was pending: it is discarded at the next wait. */
  private swipedIdleAt: number | undefined;
  private cardWait: Waiter<{ entryMode: EntryMode }> | undefined;
  private removalWait: Waiter<void> | undefined;
  private reading: Waiter<CardData> | undefined;

  constructor(
    private readonly clock: Clock,
    options: MockCardReaderOptions = {},
  ) {
    this.infoValue = {
      model: options.model ?? 'MOCK-READER',
      firmware: options.firmware ?? '1.0.0',
      ...(options.serial !== undefined ? { serial: options.serial } : {}),
    };
    this.readDurationMs = options.readDurationMs ?? 0;
  }

  // ---- contract ----

  on<E extends keyof CardReaderEvents>(event: E, listener: Listener<CardReaderEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.unplugged) throw this.fault('not-connected', 'reader unplugged');
    const rule = this.faults.match('open');
    if (rule) throw this.injected(rule, 'open failed');
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
    const closed = (): Settle<never> => ({ ok: false, error: this.fault('not-connected', 'reader closed') });
    this.cardWait?.settle(closed());
    this.removalWait?.settle(closed());
    this.reading?.settle(closed());
  }

  async info(): Promise<CardReaderInfo> {
    this.ensureReady();
    return { ...this.infoValue };
  }

  async waitForCard(opts: CardWaitOptions): Promise<{ entryMode: EntryMode }> {
    this.ensureReady();
    if (this.cardWait) throw this.fault('busy', 'already waiting for a card');
    if (opts.signal?.aborted) throw this.fault('cancelled', 'wait for card aborted');
    const rule = this.faults.match('wait');
    if (rule) throw this.injected(rule, 'wait for card failed');
    if (this.swipedIdleAt !== undefined) this.discardIdleSwipe();
    if (this.inReader && !this.consumed) return { entryMode: this.inReader.entryMode };

    const pending = new Waiter<{ entryMode: EntryMode }>(
      this.clock,
      opts,
      () => ({ ok: false, error: this.fault('timeout', `no card within ${opts.timeoutMs} ms`) }),
      () => ({ ok: false, error: this.fault('cancelled', 'wait for card aborted') }),
      () => {
        this.cardWait = undefined;
      },
    );
    this.cardWait = pending;
    return pending.promise;
  }

  async read(): Promise<CardData> {
    this.ensureReady();
    if (this.reading) throw this.fault('busy', 'a read is already in progress');
    if (this.inReader) this.consumed = true;
    const rule = this.faults.match('read');
    if (rule) throw this.injected(rule, 'read failed');
    const card = this.inReader;
    if (!card) throw this.fault('read-failed', 'no card in the reader');
    if (this.readDurationMs <= 0) return this.readDone(card);

    const pending = new Waiter<CardData>(
      this.clock,
      { timeoutMs: this.readDurationMs },
      // The read completes when its duration elapses, unless remove() or close() settled it first.
      () => ({ ok: true, value: this.readDone(card) }),
      () => ({ ok: false, error: this.fault('cancelled', 'read aborted') }),
      () => {
        this.reading = undefined;
      },
    );
    this.reading = pending;
    return pending.promise;
  }

  async waitForRemoval(opts: CardWaitOptions): Promise<void> {
    this.ensureReady();
    if (this.removalWait) throw this.fault('busy', 'already waiting for removal');
    if (opts.signal?.aborted) throw this.fault('cancelled', 'wait for removal aborted');
    const rule = this.faults.match('remove');
    if (rule) throw this.injected(rule, 'wait for removal failed');
    if (this.inReader && this.removeWhenAsked) this.remove();
    if (!this.inReader) return;

    const pending = new Waiter<void>(
      this.clock,
      opts,
      () => ({ ok: false, error: this.fault('timeout', `card not removed within ${opts.timeoutMs} ms`) }),
      () => ({ ok: false, error: this.fault('cancelled', 'wait for removal aborted') }),
      () => {
        this.removalWait = undefined;
      },
    );
    this.removalWait = pending;
    return pending.promise;
  }

  /** The kernel's first decision for the card just read (chip: still inserted; contactless: read in the tap). */
  async emvStart(input: EmvStartInput): Promise<EmvStartResult> {
    this.ensureReady();
    const rule = this.faults.match('emv-start');
    if (rule) throw this.injected(rule, 'EMV start failed');
    return this.emv.start(input, this.inReader !== undefined && this.inReader.entryMode === 'chip');
  }

  /** The card's second decision, given the host's answer. A card taken out before it rejects 'card-removed'. */
  async emvComplete(answer: EmvHostAnswer): Promise<EmvCompleteResult> {
    this.ensureReady();
    const rule = this.faults.match('emv-complete');
    if (rule) throw this.injected(rule, 'EMV completion failed');
    const inserted = this.inReader !== undefined && this.inReader.entryMode === 'chip';
    return this.emv.complete(answer, inserted, () => this.remove());
  }

  // ---- test and simulator controls ----

  /** The chip the EMV steps talk to (its ATC, its state), for tests and the simulator. */
  get emvCard(): EmvSlot['chip'] {
    return this.emv.chip;
  }

  /** A card is presented. It enters the reader now if the reader is empty, otherwise after the current one leaves. */
  present(card: CardData, options: PresentOptions = {}): void {
    this.queue.push({ card: copyCard(card), removeWhenAsked: options.removeWhenAsked ?? false, emv: options.emv });
    // A card already read is taken away by whoever presents the next one.
    if (this.inReader && this.consumed && !this.reading) this.remove();
    else if (!this.inReader) this.admitNext();
  }

  /** The card in the reader is taken out: a read in flight rejects 'card-removed'. No-op when the reader is empty. */
  remove(): void {
    if (!this.inReader) return;
    this.inReader = undefined;
    this.swipedIdleAt = undefined;
    this.reading?.settle({ ok: false, error: this.fault('card-removed', 'card removed during read') });
    this.events.emit('card-removed', {});
    this.removalWait?.settle({ ok: true, value: undefined });
    this.admitNext();
  }

  /**
   * Tamper switch tripped: emits 'tamper', rejects pending calls, and every later call rejects 'tamper' (a real
   * reader erases its keys and stays out of service) until clearTamper().
   */
  tamper(reason = 'tamper switch'): void {
    this.tamperReason = reason;
    const tampered = (): Settle<never> => ({ ok: false, error: this.fault('tamper', `tamper: ${reason}`) });
    this.cardWait?.settle(tampered());
    this.removalWait?.settle(tampered());
    this.reading?.settle(tampered());
    this.events.emit('tamper', { reason });
  }

  /** The reader was serviced: it works again on the same connection ('tamper-cleared'). */
  clearTamper(): void {
    if (this.tamperReason === undefined) return;
    this.tamperReason = undefined;
    this.events.emit('tamper-cleared', {});
  }

  /** The cable pulled: pending calls fail 'not-connected', the reader reports it, and it stays away until replug(). */
  unplug(): void {
    this.unplugged = true;
    void this.close();
    this.events.emit('health', { device: 'card-reader', state: 'not-connected', code: 'not-connected' });
  }

  /** Plugged in again: reopened as a real driver's backoff would, and reported 'ok'. */
  replug(): void {
    this.unplugged = false;
    this.isOpen = true;
    this.events.emit('health', { device: 'card-reader', state: 'ok' });
  }

  /**
   * Script a fault: it rejects the matching call at once (no waiting). An injected 'card-removed' also empties the
   * reader and an injected 'tamper' trips the tamper state, as on the real device.
   */
  inject(rule: CardReaderFaultRule): void {
    this.faults.inject(rule);
  }

  /** Drop every scripted fault (conditions already in the device state stay). */
  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(): ReturnType<FaultScript<CardReaderOp, CardReaderFaultCode>['pending']> {
    return this.faults.pending();
  }

  get opened(): boolean {
    return this.isOpen;
  }

  /** Entry mode of the card now in the reader (the data itself stays private). */
  get cardInReader(): EntryMode | undefined {
    return this.inReader?.entryMode;
  }

  /** The card in the reader has been read (or a read was tried): it stays until removed, unread by later waits. */
  get cardUsed(): boolean {
    return this.inReader !== undefined && this.consumed;
  }

  // ---- internals ----

  private admitNext(): void {
    const next = this.queue.shift();
    if (!next) return;
    const { card } = next;
    this.inReader = card;
    this.inReaderEmv = next.emv;
    this.removeWhenAsked = next.removeWhenAsked;
    this.consumed = false;
    this.swipedIdleAt = isSwipe(card) && !this.cardWait ? this.clock.now() : undefined;
    this.events.emit('card-presented', { entryMode: card.entryMode });
    this.cardWait?.settle({ ok: true, value: { entryMode: card.entryMode } });
  }

  /** A swipe made while idle is old news by the time a sale waits: it is dropped unread. */
  private discardIdleSwipe(): void {
    const ageMs = this.clock.now() - (this.swipedIdleAt ?? this.clock.now());
    this.swipedIdleAt = undefined;
    this.inReader = undefined;
    this.events.emit('swipe-discarded', { ageMs });
    this.admitNext();
  }

  /** A tapped or swiped card is gone once read; an inserted chip card stays until it is removed. */
  private readDone(card: CardData): CardData {
    this.emv.cardRead(card, this.inReader === card ? this.inReaderEmv : undefined);
    if (this.inReader === card && !STAYS_IN_READER.has(card.entryMode)) {
      this.inReader = undefined;
      this.swipedIdleAt = undefined;
      this.admitNext();
    }
    return copyCard(card);
  }

  private ensureReady(): void {
    if (!this.isOpen) throw this.fault('not-connected', 'reader not open');
    if (this.tamperReason !== undefined) throw this.fault('tamper', `tamper: ${this.tamperReason}`);
  }

  private fault(code: CardReaderFaultCode, message: string): DeviceFaultError<CardReaderFaultCode> {
    return new DeviceFaultError('card-reader', code, message);
  }

  /** An injected fault also leaves the reader in the state it implies, as the real device would be. */
  private injected(rule: Readonly<CardReaderFaultRule>, what: string): DeviceFaultError<CardReaderFaultCode> {
    if (rule.code === 'card-removed' && this.inReader) {
      this.inReader = undefined;
      this.events.emit('card-removed', {});
      this.admitNext();
    } else if (rule.code === 'tamper' && this.tamperReason === undefined) {
      this.tamperReason = 'injected';
      this.events.emit('tamper', { reason: 'injected' });
    }
    return new DeviceFaultError('card-reader', rule.code, rule.message ?? `${what}: ${rule.code}`, { injected: true });
  }
}

/** Entry modes where the card stays physically in the reader after the read. */
const STAYS_IN_READER = new Set<EntryMode>(['chip']);

function isSwipe(card: CardData): boolean {
  return card.entryMode === 'swipe' || card.entryMode === 'fallback-swipe';
}

function copyCard(card: CardData): CardData {
  return { ...card, ...(card.iccData ? { iccData: card.iccData.slice() } : {}) };
}
