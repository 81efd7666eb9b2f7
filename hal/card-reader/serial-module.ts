/**
 * Driver for a chip/contactless card module on a serial line. Link layer: hal/serial-link/frame.ts (STX/LEN/ETX/LRC
 * frames, ACK/NAK, stop-and-wait). Application layer: one UTF-8 JSON object per frame, described in SERIAL-FRAME.md:
 *
 *   host → module   {"id":7,"cmd":"INFO" | "WAIT_CARD" | "READ" | "CANCEL" | "EMV_START" | "EMV_COMPLETE"}
 *   module → host   {"seq":n,"id":7,"rsp":"READ","ok":true,"entryMode":"chip","pan":"…","expiry":"YYMM",
 *                    "serviceCode":"201","iccData":"9F02…"}           (a response carries the command's id)
 *                   {"seq":n,"evt":"CARD_PRESENTED","entryMode":"contactless"} | CARD_REMOVED | TAMPER
 *
 * The session (ACKs, retransmissions, answers by id) is hal/serial-link/link.ts; the answers' meaning is
 * module-messages.ts. This file keeps what the reader knows of the card: presented, fresh, removed, tamper.
 */
import { systemClock, type Clock } from '../clock.js';
import { Waiter } from './waiter.js';
import { DeviceFaultError } from '../fault.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import type { CardData, CardReader, CardReaderEvents, CardReaderInfo, CardWaitOptions, EntryMode } from './contract.js';
import type { EmvCompleteResult, EmvHostAnswer, EmvStartInput, EmvStartResult } from './emv-contract.js';
import { emvCompleteArgs, emvCompleteResultFrom, emvStartArgs, emvStartResultFrom } from './emv-messages.js';
import type { BackoffPolicy } from '../backoff.js';
import { healthOfChange } from '../reconnect/health.js';
import { Reconnector } from '../reconnect/reconnector.js';
import { SerialLink } from '../serial-link/link.js';
import type { OpenSerialPort } from '../serial-link/port.js';
import type { CardReaderFaultCode } from './contract.js';
import { cardFrom, entryModeOf, fault, infoFrom, type ModuleCommand, type ModuleMessage } from './module-messages.js';

export type { ModuleCommand, ModuleMessage } from './module-messages.js';
export type { OpenSerialPort, SerialPortLike } from '../serial-link/port.js';

export interface SerialCardModuleOptions {
  path: string;
  baudRate: number;
  clock?: Clock;
  /** Default: serialport's `new SerialPort({ path, baudRate, autoOpen: false })`, loaded on first open. */
  openPort?: OpenSerialPort;
  /** Time the module has to answer a command it has ACKed. Default 5000 ms: an EMV chip read takes seconds. */
  responseTimeoutMs?: number;
  /** Retransmissions of an unacknowledged frame before the command fails 'not-connected'. Default 3. */
  maxRetransmits?: number;
  /** ACK wait, on top of the frame's own transmission time at baudRate. Default 250 ms. */
  ackTimeoutMs?: number;
  /** Silence allowed inside a received frame. Default 100 ms. */
  interByteTimeoutMs?: number;
  /** Largest payload accepted from the module. Default 4096 bytes. */
  maxPayload?: number;
  /** Reopen delays after the module went away or could not be opened (hal/reconnect/). Default 0.5 s to 30 s. */
  reconnect?: BackoffPolicy;
}

export class SerialCardModule implements CardReader {
  private readonly events = new TypedEmitter<CardReaderEvents>();
  private readonly clock: Clock;
  private readonly link: SerialLink<ModuleCommand, DeviceFaultError<CardReaderFaultCode>>;
  private readonly reconnector: Reconnector;
  private cardPresent: EntryMode | undefined;
  /**
   * The card in the module was presented while we listened and no READ has used it yet. A card left in after its
   * read, or found in the module with no history (after a reopen), is not a new presentation: a sale never gets it.
   */
  private freshCard: EntryMode | undefined;
  private tamperReason: string | undefined;
  private cardWait: Waiter<{ entryMode: EntryMode }> | undefined;
  private removalWait: Waiter<void> | undefined;
  private reading: Waiter<CardData> | undefined;

  constructor(options: SerialCardModuleOptions) {
    this.clock = options.clock ?? systemClock;
    this.link = new SerialLink({
      device: 'card module',
      fault,
      path: options.path,
      baudRate: options.baudRate,
      clock: this.clock,
      ...(options.openPort ? { openPort: options.openPort } : {}),
      responseTimeoutMs: options.responseTimeoutMs ?? 5000,
      maxRetransmits: options.maxRetransmits ?? 3,
      ackTimeoutMs: options.ackTimeoutMs ?? 250,
      ...(options.interByteTimeoutMs !== undefined ? { interByteTimeoutMs: options.interByteTimeoutMs } : {}),
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      onEvent: (msg) => this.onEvent(msg),
      onDetach: (error) => this.forget(error),
      onLost: (error) => this.reconnector.lost(error),
    });
    this.reconnector = new Reconnector({
      clock: this.clock,
      connect: () => this.link.open('INFO', (info) => this.applyTamper(info)),
      ...(options.reconnect ? { policy: options.reconnect } : {}),
      onChange: (change) => this.events.emit('health', healthOfChange('card-reader', change, reasonOf)),
    });
  }

  on<E extends keyof CardReaderEvents>(event: E, listener: Listener<CardReaderEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * The INFO handshake proves a module answers; it also reports a tamper state that outlived a restart. A module that
   * is absent, or goes away later, is reopened with backoff until close().
   */
  async open(): Promise<void> {
    return this.reconnector.open();
  }

  async close(): Promise<void> {
    this.reconnector.stop();
    return this.link.close('reader closed');
  }

  /** Asks the module even while tampered: its answer is how a serviced module is seen to have cleared tamper. */
  async info(): Promise<CardReaderInfo> {
    if (!this.link.port) throw fault('not-connected', 'reader not open');
    const answer = await this.command('INFO');
    this.applyTamper(answer);
    this.ensureReady();
    return infoFrom(answer);
  }

  async waitForCard(opts: CardWaitOptions): Promise<{ entryMode: EntryMode }> {
    this.ensureReady();
    if (this.cardWait) throw fault('busy', 'already waiting for a card');
    if (opts.signal?.aborted) throw fault('cancelled', 'wait for card aborted');
    const waiter = new Waiter<{ entryMode: EntryMode }>(
      this.clock,
      opts,
      () => {
        this.disarm();
        return fault('timeout', `no card within ${opts.timeoutMs} ms`);
      },
      () => {
        this.disarm();
        return fault('cancelled', 'wait for card aborted');
      },
      () => {
        this.cardWait = undefined;
      },
    );
    this.cardWait = waiter;
    this.command('WAIT_CARD').then(
      (rsp) => {
        const mode = entryModeOf(rsp.entryMode);
        if (rsp.present === true && mode) {
          this.cardPresent = mode;
          // A card already read stays inserted: wait for it to leave and a card to be presented again.
          if (this.freshCard === mode) waiter.resolve({ entryMode: mode });
        }
      },
      (error: Error) => waiter.reject(error),
    );
    return waiter.promise;
  }

  async read(): Promise<CardData> {
    this.ensureReady();
    if (this.reading) throw fault('busy', 'a read is already in progress');
    const waiter = new Waiter<CardData>(
      this.clock,
      { timeoutMs: Infinity },
      () => fault('timeout', 'read timed out'),
      () => fault('cancelled', 'read aborted'),
      () => {
        this.reading = undefined;
      },
    );
    this.reading = waiter;
    // From now on the card in the module has been used, whatever the answer.
    this.freshCard = undefined;
    this.command('READ').then(
      (rsp) => {
        const card = cardFrom(rsp);
        if (card instanceof DeviceFaultError) {
          if (card.code === 'card-removed') this.cardPresent = this.freshCard = undefined;
          if (card.code === 'tamper') this.applyTamper({ tamper: 'reported on read' });
          waiter.reject(card);
        } else {
          waiter.resolve(card);
        }
      },
      (error: Error) => waiter.reject(error),
    );
    return waiter.promise;
  }

  async waitForRemoval(opts: CardWaitOptions): Promise<void> {
    this.ensureReady();
    if (this.removalWait) throw fault('busy', 'already waiting for removal');
    if (opts.signal?.aborted) throw fault('cancelled', 'wait for removal aborted');
    if (this.cardPresent === undefined) return;
    const waiter = new Waiter<void>(
      this.clock,
      opts,
      () => fault('timeout', `card not removed within ${opts.timeoutMs} ms`),
      () => fault('cancelled', 'wait for removal aborted'),
      () => {
        this.removalWait = undefined;
      },
    );
    this.removalWait = waiter;
    return waiter.promise;
  }

  /** EMV_START: the module's kernel runs the card to its first decision (terminal data as TLV). */
  async emvStart(input: EmvStartInput): Promise<EmvStartResult> {
    this.ensureReady();
    return this.emvAnswer(await this.command('EMV_START', emvStartArgs(input)), emvStartResultFrom);
  }

  /** EMV_COMPLETE: the host's answer to the card, its second decision back. */
  async emvComplete(answer: EmvHostAnswer): Promise<EmvCompleteResult> {
    this.ensureReady();
    return this.emvAnswer(await this.command('EMV_COMPLETE', emvCompleteArgs(answer)), emvCompleteResultFrom);
  }

  get opened(): boolean {
    return this.link.port !== undefined;
  }

  private emvAnswer<T>(rsp: ModuleMessage, parse: (msg: ModuleMessage) => T | DeviceFaultError): T {
    const result = parse(rsp);
    if (!(result instanceof DeviceFaultError)) return result;
    if (result.code === 'card-removed') this.cardPresent = this.freshCard = undefined;
    if (result.code === 'tamper') this.applyTamper({ tamper: 'reported by the kernel' });
    throw result;
  }

  // ---- module events ----

  private onEvent(msg: ModuleMessage): void {
    switch (msg.evt) {
      case 'CARD_PRESENTED': {
        const mode = entryModeOf(msg.entryMode);
        if (!mode) return;
        this.cardPresent = mode;
        this.freshCard = mode;
        this.events.emit('card-presented', { entryMode: mode });
        this.cardWait?.resolve({ entryMode: mode });
        return;
      }
      case 'CARD_REMOVED':
        this.cardPresent = undefined;
        this.freshCard = undefined;
        this.reading?.reject(fault('card-removed', 'card removed during read'));
        this.events.emit('card-removed', {});
        this.removalWait?.resolve();
        return;
      case 'TAMPER':
        this.applyTamper({ tamper: typeof msg.reason === 'string' && msg.reason !== '' ? msg.reason : true });
        return;
      case 'TAMPER_CLEARED':
        this.applyTamper({ tamper: false });
        return;
    }
  }

  /** A module that reports tamper refuses service: everything pending and every later call fails 'tamper'. */
  private applyTamper(msg: ModuleMessage): void {
    if (msg.tamper === false && this.tamperReason !== undefined) {
      // Serviced: the module says so itself (INFO or TAMPER_CLEARED), on the port that stayed open.
      this.tamperReason = undefined;
      this.events.emit('tamper-cleared', {});
      return;
    }
    if (msg.tamper === undefined || msg.tamper === false) return;
    const reason = typeof msg.tamper === 'string' ? msg.tamper.slice(0, 64) : 'tamper switch';
    const first = this.tamperReason === undefined;
    this.tamperReason = reason;
    const error = fault('tamper', `tamper: ${reason}`);
    this.cardWait?.reject(error);
    this.removalWait?.reject(error);
    this.reading?.reject(error);
    if (first) this.events.emit('tamper', { reason });
  }

  /** Sends a command and resolves with the module's answer. */
  private command(cmd: ModuleCommand, args?: Readonly<Record<string, unknown>>): Promise<ModuleMessage> {
    return this.link.command(cmd, args);
  }

  /** Tell the module to stop waiting (contactless field off). Best effort: the wait has already ended for us. */
  private disarm(): void {
    if (this.link.port) this.command('CANCEL').catch(() => undefined);
  }

  /** The session ended: what waited fails with its error, and what the reader knew of the card is gone. */
  private forget(error: DeviceFaultError<CardReaderFaultCode>): void {
    this.cardWait?.reject(error);
    this.removalWait?.reject(error);
    this.reading?.reject(error);
    this.cardPresent = undefined;
    this.freshCard = undefined;
    this.tamperReason = undefined;
  }

  private ensureReady(): void {
    if (!this.link.port) throw fault('not-connected', 'reader not open');
    if (this.tamperReason !== undefined) throw fault('tamper', `tamper: ${this.tamperReason}`);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 120) : 'card module not connected';
}
