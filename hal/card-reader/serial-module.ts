/**
 * Driver for a chip/contactless card module on a serial line. Link layer: serial-frame.ts (STX/LEN/ETX/LRC frames,
 * ACK/NAK, stop-and-wait). Application layer: one UTF-8 JSON object per frame, described in SERIAL-FRAME.md:
 *
 *   host → module   {"id":7,"cmd":"INFO" | "WAIT_CARD" | "READ" | "CANCEL"}
 *   module → host   {"seq":n,"id":7,"rsp":"READ","ok":true,"entryMode":"chip","pan":"…","expiry":"YYMM",
 *                    "serviceCode":"201","iccData":"9F02…"}           (a response carries the command's id)
 *                   {"seq":n,"evt":"CARD_PRESENTED","entryMode":"contactless"} | CARD_REMOVED | TAMPER
 *
 * Every frame sent waits for an ACK; a NAK or no ACK in time retransmits it, and after maxRetransmits the command
 * fails 'not-connected'. Every frame received is ACKed, or NAKed when the parser finds it damaged. `seq` lets the
 * driver drop a frame the module repeated because our ACK was lost.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { Waiter } from './waiter.js';
import { DeviceFaultError } from '../fault.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import type {
  CardData,
  CardReader,
  CardReaderEvents,
  CardReaderFaultCode,
  CardReaderInfo,
  CardWaitOptions,
  EntryMode,
} from './contract.js';
import { luhnValid } from './luhn.js';
import { ACK, NAK, FrameParser, encodeFrame } from './serial-frame.js';

/** What the driver uses of a serialport `SerialPort` (autoOpen: false); tests may pass a SerialPortMock. */
export interface SerialPortLike {
  open(callback: (error: Error | null) => void): void;
  write(data: Buffer, callback?: (error: Error | null | undefined) => void): boolean;
  close(callback?: (error: Error | null) => void): void;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** Same shape as the printer driver's port factory, so one test pair serves both. */
export type OpenSerialPort = (path: string, baudRate: number) => SerialPortLike | Promise<SerialPortLike>;

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
}

export type ModuleCommand = 'INFO' | 'WAIT_CARD' | 'READ' | 'CANCEL';
export type ModuleMessage = Record<string, unknown>;

/** Error names a module may put in a failed READ answer, and the fault each becomes. */
const READ_ERRORS: Record<string, CardReaderFaultCode> = {
  'no-card': 'read-failed',
  'read-failed': 'read-failed',
  'card-removed': 'card-removed',
  'chip-error': 'chip-error',
  'unsupported-card': 'unsupported-card',
  tamper: 'tamper',
};

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

export class SerialCardModule implements CardReader {
  private readonly events = new TypedEmitter<CardReaderEvents>();
  private readonly clock: Clock;
  private readonly openPort: OpenSerialPort;
  private readonly responseTimeoutMs: number;
  private readonly maxRetransmits: number;
  private readonly ackTimeoutMs: number;
  private readonly parser: FrameParser;
  private port: SerialPortLike | undefined;
  private opening: Promise<void> | undefined;
  private nextId = 1;
  private lastSeq: unknown;
  private readonly outbox: Outgoing[] = [];
  private inFlight: Outgoing | undefined;
  private readonly responses = new Map<number, PendingResponse>();
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

  constructor(private readonly options: SerialCardModuleOptions) {
    this.clock = options.clock ?? systemClock;
    this.openPort = options.openPort ?? openSerialPort;
    this.responseTimeoutMs = options.responseTimeoutMs ?? 5000;
    this.maxRetransmits = options.maxRetransmits ?? 3;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 250;
    this.parser = new FrameParser({
      clock: this.clock,
      ...(options.interByteTimeoutMs !== undefined ? { interByteTimeoutMs: options.interByteTimeoutMs } : {}),
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      // An incomplete frame went silent: ask for it again at once.
      onTimeout: () => this.writeControl(NAK),
    });
  }

  on<E extends keyof CardReaderEvents>(event: E, listener: Listener<CardReaderEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.port) return;
    this.opening ??= this.doOpen().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.detach('reader closed');
    if (port) await closePort(port);
  }

  async info(): Promise<CardReaderInfo> {
    this.ensureReady();
    return infoFrom(await this.command('INFO'));
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

  get opened(): boolean {
    return this.port !== undefined;
  }

  // ---- link ----

  private async doOpen(): Promise<void> {
    const where = { path: this.options.path, baudRate: this.options.baudRate };
    let port: SerialPortLike;
    try {
      port = await this.openPort(where.path, where.baudRate);
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      throw fault('not-connected', `cannot open ${this.options.path}: ${errorText(error)}`, where);
    }
    port.on('data', (data: Buffer) => {
      if (this.port === port) this.onData(data);
    });
    const lost = (): void => {
      if (this.port !== port) return;
      this.detach('serial link lost');
      void closePort(port);
    };
    port.on('error', lost);
    port.on('close', lost);
    this.port = port;
    this.parser.reset();
    this.lastSeq = undefined;
    try {
      // The handshake proves a module answers; it also reports a tamper state that outlived a restart.
      this.applyTamper(await this.command('INFO'));
    } catch (error) {
      this.detach('no answer to INFO');
      await closePort(port);
      throw fault('not-connected', `card module on ${this.options.path} does not answer`, {
        ...where,
        cause: error instanceof DeviceFaultError ? error.code : 'error',
      });
    }
  }

  private onData(data: Buffer): void {
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
      this.onEvent(msg);
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
    }
  }

  /** A module that reports tamper refuses service: everything pending and every later call fails 'tamper'. */
  private applyTamper(msg: ModuleMessage): void {
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
  private async command(cmd: ModuleCommand): Promise<ModuleMessage> {
    if (!this.port) throw fault('not-connected', 'reader not open');
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
      await this.transmit(Buffer.from(JSON.stringify({ id, cmd }), 'utf8'), id);
    } catch (error) {
      this.responses.delete(id);
      throw error;
    }
    if (this.responses.get(id) === entry) {
      entry.timer = this.clock.setTimeout(() => {
        if (this.responses.get(id) !== entry) return;
        this.responses.delete(id);
        entry.reject(fault('timeout', `no answer to ${cmd} within ${this.responseTimeoutMs} ms`, { command: cmd }));
      }, this.responseTimeoutMs);
    }
    return answer;
  }

  private transmit(payload: Buffer, id: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ frame: encodeFrame(payload), id, retransmits: 0, timer: undefined, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || !this.port) return;
    this.inFlight = this.outbox.shift();
    if (this.inFlight) this.sendInFlight();
  }

  private sendInFlight(): void {
    const out = this.inFlight;
    const port = this.port;
    if (!out || !port) return;
    port.write(out.frame);
    // The frame needs its own time on the wire (10 bits per byte) before the module can even start to answer.
    const wireMs = Math.ceil((out.frame.length * 10 * 1000) / this.options.baudRate);
    out.timer?.cancel();
    out.timer = this.clock.setTimeout(() => this.onNak(), this.ackTimeoutMs + wireMs);
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
    if (out.retransmits >= this.maxRetransmits) {
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
    this.port?.write(Buffer.from([byte]));
  }

  /** Tell the module to stop waiting (contactless field off). Best effort: the wait has already ended for us. */
  private disarm(): void {
    if (this.port) this.command('CANCEL').catch(() => undefined);
  }

  private detach(why: string): void {
    this.port = undefined;
    this.parser.reset();
    const error = fault('not-connected', why);
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
    this.cardWait?.reject(error);
    this.removalWait?.reject(error);
    this.reading?.reject(error);
    this.cardPresent = undefined;
    this.freshCard = undefined;
    this.tamperReason = undefined;
  }

  private ensureReady(): void {
    if (!this.port) throw fault('not-connected', 'reader not open');
    if (this.tamperReason !== undefined) throw fault('tamper', `tamper: ${this.tamperReason}`);
  }
}

// ---- message mapping ----

function entryModeOf(value: unknown): 'chip' | 'contactless' | undefined {
  return value === 'chip' || value === 'contactless' ? value : undefined;
}

function infoFrom(msg: ModuleMessage): CardReaderInfo {
  const info: CardReaderInfo = {
    model: typeof msg.model === 'string' ? msg.model.slice(0, 64) : 'unknown',
    firmware: typeof msg.firmware === 'string' ? msg.firmware.slice(0, 64) : 'unknown',
  };
  if (typeof msg.serial === 'string') info.serial = msg.serial.slice(0, 64);
  return info;
}

/** A READ answer as card data, or the fault it stands for. Fault details name the problem, never the data. */
function cardFrom(msg: ModuleMessage): CardData | DeviceFaultError<CardReaderFaultCode> {
  if (msg.ok !== true) {
    const name = typeof msg.error === 'string' ? msg.error : 'unknown';
    const code = READ_ERRORS[name] ?? 'read-failed';
    if (code !== 'read-failed') return fault(code, `module read failed: ${code}`);
    return fault(code, 'module read failed', { reason: name === 'no-card' ? 'empty' : 'module-error' });
  }
  const bad = (reason: string): DeviceFaultError<CardReaderFaultCode> =>
    fault('read-failed', `module answer rejected: ${reason}`, { reason });
  const mode = entryModeOf(msg.entryMode);
  const { pan, expiry, serviceCode, iccData } = msg;
  if (!mode) return bad('bad-response');
  if (typeof pan !== 'string' || !/^\d{12,19}$/.test(pan)) return bad('bad-response');
  if (!luhnValid(pan)) return bad('luhn');
  if (typeof expiry !== 'string' || !/^\d\d(0[1-9]|1[0-2])$/.test(expiry)) return bad('bad-response');
  if (serviceCode !== undefined && (typeof serviceCode !== 'string' || !/^\d{3}$/.test(serviceCode))) {
    return bad('bad-service-code');
  }
  if (iccData !== undefined && (typeof iccData !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(iccData))) {
    return bad('bad-response');
  }
  const card: CardData = { entryMode: mode, pan, expiry };
  if (serviceCode !== undefined) card.serviceCode = serviceCode;
  if (iccData !== undefined) card.iccData = new Uint8Array(Buffer.from(iccData, 'hex'));
  return card;
}

// ---- helpers ----

function fault(
  code: CardReaderFaultCode,
  message: string,
  detail?: Record<string, string | number | boolean>,
): DeviceFaultError<CardReaderFaultCode> {
  return new DeviceFaultError('card-reader', code, message, detail);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function closePort(port: SerialPortLike): Promise<void> {
  return new Promise((resolve) => {
    try {
      port.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** Loaded on first open only, so the module loads where the native serial binding is absent. */
async function openSerialPort(path: string, baudRate: number): Promise<SerialPortLike> {
  const { SerialPort } = await import('serialport');
  return new SerialPort({ path, baudRate, autoOpen: false });
}
