/**
 * ESC/POS receipt printer on a serial port (RS-232, USB-serial, or a pty in tests).
 *
 * - status(): DLE EOT 1, 2, 3, 4, one at a time, each reply bounded by statusTimeoutMs on the Clock. No valid reply
 *   in time rejects 'offline'; bytes that are not a status reply are discarded and counted (detail.garbledBytes).
 * - print(): status check, then the document a few lines at a time with a status read after each chunk, so a fault
 *   mid-receipt is located: detail.linesPrinted counts the document lines sent before the last clean status. DLE EOT
 *   is real-time, so a printer with a deep buffer may answer before a chunk is on paper: the count is the driver's
 *   best knowledge, not a paper sensor.
 * - info(): GS I 67 (model name), 65 (firmware version), 68 (serial number), the string replies (0x5f, text, NUL) of
 *   Epson TM and compatible printers. GS I 1..3 answer one opaque id byte each, which says nothing to an operator.
 *   A printer that does not answer GS I 67 in time is taken not to support it: model and firmware are 'unknown'.
 * - A serial error or the port closing under the driver rejects what is waiting with 'offline' at once.
 * - Status events: after every status read that differs from the last one (the first compares with all-clear).
 *   A read with no answer changes nothing, as in the mock.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import { DeviceFaultError } from '../fault.js';
import {
  PRINTER_STATUS_OK,
  faultFromStatus,
  type Printer,
  type PrinterEvents,
  type PrinterFaultCode,
  type PrinterInfo,
  type PrinterStatus,
  type PrinterWarning,
  type PrintResult,
  type ReceiptDocument,
} from './contract.js';
import { encodeReceiptParts } from './escpos-encoder.js';
import { STATUS_QUERIES, isStatusByte, parseStatusReplies, statusRequest, type StatusQuery } from './escpos-status.js';

/** The part of serialport's SerialPort (a Duplex stream) the driver uses; tests pass other bindings through it. */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback: (err: Error | null) => void): void;
  write(data: Buffer, callback: (err: Error | null | undefined) => void): boolean;
  drain(callback: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

export interface EscPosSerialPrinterOptions {
  path: string;
  baudRate: number;
  clock?: Clock;
  /** Bound on each status (and GS I) reply. Default 500 ms. */
  statusTimeoutMs?: number;
  /** Characters per line at normal width. Default 42. */
  columns?: number;
  /** Document lines sent between status reads while printing. Default 4. */
  chunkLines?: number;
  /** Port factory; default serialport's SerialPort with autoOpen false (loaded on first open). */
  openPort?: (path: string, baudRate: number) => SerialPortLike;
}

const GS_I_MODEL = 67;
const GS_I_FIRMWARE = 65;
const GS_I_SERIAL = 68;
/** GS I string replies are framed by 0x5f ... 0x00; longer text is cut here so a lost NUL cannot grow a reply. */
const INFO_MAX_CHARS = 64;

/** A reply parser: fed one byte at a time, returns the reply once complete. */
interface ReplyParser<T> {
  feed(byte: number): T | undefined;
  /** Bytes it refused (not part of a reply). */
  readonly discarded: number;
}

interface Waiter {
  feed(byte: number): void;
  fail(error: DeviceFaultError<PrinterFaultCode>): void;
}

/** Internal: the exchange's timer ran out before the reply was complete. */
class NoReply {
  constructor(readonly discarded: number) {}
}

function fault(code: PrinterFaultCode, message: string, detail?: Record<string, string | number | boolean>) {
  return new DeviceFaultError<PrinterFaultCode>('printer', code, message, detail);
}

export class EscPosSerialPrinter implements Printer {
  private readonly events = new TypedEmitter<PrinterEvents>();
  private readonly clock: Clock;
  private readonly statusTimeoutMs: number;
  private readonly columns: number;
  private readonly chunkLines: number;
  private port: SerialPortLike | undefined;
  private opening: Promise<void> | undefined;
  /** Why the port went away under the driver, for the 'offline' message. */
  private lostReason: string | undefined;
  private waiter: Waiter | undefined;
  /** One exchange with the printer at a time: replies carry no tag saying which request they answer. */
  private queue: Promise<unknown> = Promise.resolve();
  private last: PrinterStatus = { ...PRINTER_STATUS_OK };
  private discardedTotal = 0;
  private detach: (() => void) | undefined;

  constructor(private readonly options: EscPosSerialPrinterOptions) {
    this.clock = options.clock ?? systemClock;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 500;
    this.columns = options.columns ?? 42;
    this.chunkLines = Math.max(1, Math.floor(options.chunkLines ?? 4));
    // Bad settings are a configuration bug: fail at construction, not as a device fault at the first receipt.
    if (!Number.isInteger(this.columns) || this.columns < 1 || this.columns > 255) {
      throw new RangeError(`columns must be an integer from 1 to 255, got ${this.columns}`);
    }
    if (!(this.statusTimeoutMs > 0 && Number.isFinite(this.statusTimeoutMs))) {
      throw new RangeError(`statusTimeoutMs must be a positive number, got ${this.statusTimeoutMs}`);
    }
    if (!(options.baudRate > 0)) throw new RangeError(`baudRate must be positive, got ${options.baudRate}`);
  }

  on<E extends keyof PrinterEvents>(event: E, listener: Listener<PrinterEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Bytes received that were not a reply to anything asked (noise, garbled or late answers). */
  get discardedBytes(): number {
    return this.discardedTotal;
  }

  get opened(): boolean {
    return this.port !== undefined;
  }

  async open(): Promise<void> {
    if (this.port) return;
    if (this.opening) return this.opening;
    this.opening = this.openPort().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.release(undefined);
    this.waiter?.fail(fault('offline', 'printer closed while waiting for it'));
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  async info(): Promise<PrinterInfo> {
    this.ensureOpen();
    return this.exclusive(async () => {
      const model = await this.queryId(GS_I_MODEL);
      const firmware = model === undefined ? undefined : await this.queryId(GS_I_FIRMWARE);
      const serial = model === undefined ? undefined : await this.queryId(GS_I_SERIAL);
      return {
        model: model || 'unknown',
        firmware: firmware || 'unknown',
        columns: this.columns,
        ...(serial ? { serial } : {}),
      };
    });
  }

  async status(): Promise<PrinterStatus> {
    this.ensureOpen();
    return this.exclusive(() => this.readStatus());
  }

  async print(doc: ReceiptDocument): Promise<PrintResult> {
    this.ensureOpen();
    return this.exclusive(async () => {
      const warnings = new Set<PrinterWarning>();
      const before = await this.statusDuringPrint(0, warnings);
      const blocking = faultFromStatus(before);
      if (blocking) throw fault(blocking, `cannot print: ${blocking}`, { linesPrinted: 0 });

      const parts = encodeReceiptParts(doc, this.columns);
      await this.send(parts.init, 0);
      let confirmed = 0;
      for (let start = 0; start < parts.lines.length; start += this.chunkLines) {
        const chunk = parts.lines.slice(start, start + this.chunkLines);
        await this.send(Buffer.concat(chunk), confirmed);
        this.stopOnFault(await this.statusDuringPrint(confirmed, warnings), confirmed);
        confirmed += chunk.length;
      }
      if (parts.trailer.length > 0) {
        await this.send(parts.trailer, confirmed);
        this.stopOnFault(await this.statusDuringPrint(confirmed, warnings), confirmed);
      }
      return { linesPrinted: confirmed, warnings: [...warnings] };
    });
  }

  // ---- internals ----

  private async openPort(): Promise<void> {
    const { path, baudRate } = this.options;
    let port: SerialPortLike;
    try {
      port = this.options.openPort ? this.options.openPort(path, baudRate) : await defaultOpenPort(path, baudRate);
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (error) {
      throw fault('offline', `cannot open printer port ${path}: ${errorText(error)}`, { path });
    }
    const onData = (data: Buffer) => this.received(data);
    const onError = (err: Error) => {
      this.waiter?.fail(fault('offline', `printer port error: ${err.message}`));
      if (!port.isOpen) this.release(`port error: ${err.message}`);
    };
    const onClose = (err?: Error | null) => {
      const reason = err ? `port closed: ${err.message}` : 'port closed';
      this.waiter?.fail(fault('offline', `printer ${reason}`));
      this.release(reason);
    };
    port.on('data', onData);
    port.on('error', onError);
    port.on('close', onClose);
    this.detach = () => {
      port.removeListener('data', onData);
      port.removeListener('error', onError);
      port.removeListener('close', onClose);
    };
    this.port = port;
    this.lostReason = undefined;
  }

  private release(reason: string | undefined): void {
    this.detach?.();
    this.detach = undefined;
    this.port = undefined;
    this.lostReason = reason;
  }

  private ensureOpen(): SerialPortLike {
    if (this.port) return this.port;
    throw fault('offline', this.lostReason ? `printer ${this.lostReason}` : 'printer not open');
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private received(data: Buffer): void {
    for (const byte of data) {
      if (this.waiter) this.waiter.feed(byte);
      else this.discardedTotal++;
    }
  }

  /** Send a request and collect its reply; rejects NoReply after statusTimeoutMs, or a fault if the port fails. */
  private exchange<T>(request: Buffer, parser: ReplyParser<T>): Promise<T> {
    const port = this.ensureOpen();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (this.waiter === waiter) this.waiter = undefined;
        settle();
      };
      const timer: TimerHandle = this.clock.setTimeout(
        () => finish(() => reject(new NoReply(parser.discarded))),
        this.statusTimeoutMs,
      );
      const waiter: Waiter = {
        feed: (byte) => {
          const refused = parser.discarded;
          const reply = parser.feed(byte);
          this.discardedTotal += parser.discarded - refused;
          if (reply !== undefined) finish(() => resolve(reply));
        },
        fail: (error) => finish(() => reject(error)),
      };
      this.waiter = waiter;
      port.write(request, (err) => {
        if (err) waiter.fail(fault('offline', `printer port write failed: ${err.message}`));
      });
    });
  }

  private async readStatus(): Promise<PrinterStatus> {
    const replies: number[] = [];
    for (const n of STATUS_QUERIES) replies.push(await this.statusByte(n));
    // Only bytes that passed isStatusByte are here, so the parser cannot throw.
    const status = parseStatusReplies(replies);
    const previous = this.last;
    this.last = status;
    if (!sameStatus(previous, status)) this.events.emit('status', { status: { ...status }, previous: { ...previous } });
    return { ...status };
  }

  private async statusByte(n: StatusQuery): Promise<number> {
    try {
      return await this.exchange(statusRequest(n), statusParser());
    } catch (error) {
      if (!(error instanceof NoReply)) throw error;
      const ms = this.statusTimeoutMs;
      const detail = { query: n, timeoutMs: ms, garbledBytes: error.discarded };
      if (error.discarded > 0) {
        throw fault(
          'offline',
          `printer answered status request DLE EOT ${n} with ${error.discarded} unrecognised byte(s) and no valid status in ${ms} ms`,
          { ...detail, garbled: true },
        );
      }
      throw fault('offline', `printer did not answer a status request in ${ms} ms`, detail);
    }
  }

  /** A status read inside print(): a failure carries the lines confirmed so far; near end becomes a warning. */
  private async statusDuringPrint(linesPrinted: number, warnings: Set<PrinterWarning>): Promise<PrinterStatus> {
    let status: PrinterStatus;
    try {
      status = await this.readStatus();
    } catch (error) {
      throw withLines(error, linesPrinted);
    }
    if (status.paper === 'near-end') warnings.add('paper-near-end');
    return status;
  }

  private stopOnFault(status: PrinterStatus, linesPrinted: number): void {
    const code = faultFromStatus(status);
    if (code) throw fault(code, `print stopped after ${linesPrinted} line(s): ${code}`, { linesPrinted });
  }

  /** Write and drain, bounded: a port that stops taking data (flow control held) fails 'timeout', not a hang. */
  private send(bytes: Buffer, linesPrinted: number): Promise<void> {
    const port = this.ensureOpen();
    // Ten bits per byte on the wire, twice over for slack, plus the status bound for the OS and adapter.
    const ms = this.statusTimeoutMs + Math.ceil((bytes.length * 10 * 1000 * 2) / this.options.baudRate);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: DeviceFaultError<PrinterFaultCode>) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (this.waiter === waiter) this.waiter = undefined;
        if (error) reject(error);
        else resolve();
      };
      const timer = this.clock.setTimeout(
        () => finish(fault('timeout', `printer took no data for ${ms} ms`, { linesPrinted, timeoutMs: ms })),
        ms,
      );
      // Registered so a port error or close during the write ends it at once.
      const waiter: Waiter = {
        feed: () => {
          this.discardedTotal++;
        },
        fail: (error) => finish(withLines(error, linesPrinted)),
      };
      this.waiter = waiter;
      port.write(bytes, (err) => {
        if (err) return finish(fault('offline', `printer port write failed: ${err.message}`, { linesPrinted }));
        port.drain((drainErr) => {
          if (drainErr) finish(fault('offline', `printer port write failed: ${drainErr.message}`, { linesPrinted }));
          else finish();
        });
      });
    });
  }

  private async queryId(n: number): Promise<string | undefined> {
    try {
      return await this.exchange(Buffer.from([0x1d, 0x49, n]), idParser());
    } catch (error) {
      if (error instanceof NoReply) return undefined;
      throw error;
    }
  }
}

function statusParser(): ReplyParser<number> {
  let discarded = 0;
  return {
    feed(byte) {
      if (isStatusByte(byte)) return byte;
      discarded++;
      return undefined;
    },
    get discarded() {
      return discarded;
    },
  };
}

/** GS I string reply: 0x5f, printable text, NUL. Anything before the header is discarded. */
function idParser(): ReplyParser<string> {
  let discarded = 0;
  let text: string | undefined;
  return {
    feed(byte) {
      if (text === undefined) {
        if (byte === 0x5f) text = '';
        else discarded++;
        return undefined;
      }
      if (byte === 0x00) return text.trim();
      text += byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : '?';
      return text.length >= INFO_MAX_CHARS ? text.trim() : undefined;
    },
    get discarded() {
      return discarded;
    },
  };
}

/** Loaded on first open so importing the driver never loads serialport's native binding. */
async function defaultOpenPort(path: string, baudRate: number): Promise<SerialPortLike> {
  const { SerialPort } = await import('serialport');
  return new SerialPort({ path, baudRate, autoOpen: false });
}

function withLines(error: unknown, linesPrinted: number): DeviceFaultError<PrinterFaultCode> {
  if (error instanceof DeviceFaultError) {
    return fault(error.code as PrinterFaultCode, error.message, { ...(error.detail ?? {}), linesPrinted });
  }
  return fault('offline', `printer I/O failed: ${errorText(error)}`, { linesPrinted });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sameStatus(a: PrinterStatus, b: PrinterStatus): boolean {
  return (Object.keys(a) as (keyof PrinterStatus)[]).every((k) => a[k] === b[k]);
}
