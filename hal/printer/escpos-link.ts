/**
 * One request and its reply at a time over a transport session, each bounded on the Clock: what the ESC/POS
 * protocol layer (escpos-printer.ts) builds its status reads, GS I queries, buffer clears and bounded writes on.
 * ESC/POS replies carry no tag saying which request they answer, so the caller serializes exchanges.
 */
import type { Clock } from '../clock.js';
import { DeviceFaultError } from '../fault.js';
import type { PrinterFaultCode } from './contract.js';
import { idParser, statusParser, type ReplyParser } from './escpos-commands.js';
import { statusRequest, type StatusQuery } from './escpos-status.js';
import { errorText, type TransportSession } from './transport.js';

export function printerFault(
  code: PrinterFaultCode,
  message: string,
  detail?: Record<string, string | number | boolean>,
): DeviceFaultError<PrinterFaultCode> {
  return new DeviceFaultError<PrinterFaultCode>('printer', code, message, detail);
}

/** The fault with the lines confirmed so far added to its detail. */
export function withLines(error: unknown, linesPrinted: number): DeviceFaultError<PrinterFaultCode> {
  if (error instanceof DeviceFaultError) {
    return printerFault(error.code as PrinterFaultCode, error.message, { ...(error.detail ?? {}), linesPrinted });
  }
  return printerFault('offline', `printer I/O failed: ${errorText(error)}`, { linesPrinted });
}

/** The exchange's timer ran out before the reply was complete. */
export class NoReply {
  constructor(readonly discarded: number) {}
}

interface Waiter {
  feed(byte: number): void;
  fail(error: DeviceFaultError<PrinterFaultCode>): void;
}

export interface EscPosLinkOptions {
  clock: Clock;
  statusTimeoutMs: number;
  /** Wire speed, to bound a write by its length; undefined for links fast enough not to matter. */
  bitsPerSecond?: number | undefined;
  /** The open session, or throws the fault that says why there is none. */
  session(): TransportSession;
  /** The fault for a failed write (the device may have gone away meanwhile). */
  writeFault(error: unknown, detail: Record<string, number>): DeviceFaultError<PrinterFaultCode>;
}

export class EscPosLink {
  private waiter: Waiter | undefined;
  /** Bytes received that were not a reply to anything asked (noise, garbled or late answers). */
  discarded = 0;

  constructor(private readonly o: EscPosLinkOptions) {}

  received(data: Buffer): void {
    for (const byte of data) {
      if (this.waiter) this.waiter.feed(byte);
      else this.discarded++;
    }
  }

  /** Ends what is waiting at once (the device went away, or the driver closes). */
  failWaiting(error: DeviceFaultError<PrinterFaultCode>): void {
    this.waiter?.fail(error);
  }

  /** Send a request and collect its reply; rejects NoReply after statusTimeoutMs, or a fault if the device fails. */
  exchange<T>(request: Buffer, parser: ReplyParser<T>): Promise<T> {
    const session = this.o.session();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (this.waiter === waiter) this.waiter = undefined;
        settle();
      };
      const timer = this.o.clock.setTimeout(
        () => finish(() => reject(new NoReply(parser.discarded))),
        this.o.statusTimeoutMs,
      );
      const waiter: Waiter = {
        feed: (byte) => {
          const refused = parser.discarded;
          const reply = parser.feed(byte);
          this.discarded += parser.discarded - refused;
          if (reply !== undefined) finish(() => resolve(reply));
        },
        fail: (error) => finish(() => reject(error)),
      };
      this.waiter = waiter;
      session.write(request).catch((err: unknown) => waiter.fail(this.o.writeFault(err, {})));
    });
  }

  /** One DLE EOT n reply; no valid byte in time rejects 'offline' (detail.garbledBytes counts what was refused). */
  async statusByte(n: StatusQuery): Promise<number> {
    try {
      return await this.exchange(statusRequest(n), statusParser());
    } catch (error) {
      if (!(error instanceof NoReply)) throw error;
      const ms = this.o.statusTimeoutMs;
      const detail = { query: n, timeoutMs: ms, garbledBytes: error.discarded };
      if (error.discarded > 0) {
        throw printerFault(
          'offline',
          `printer answered status request DLE EOT ${n} with ${error.discarded} unrecognised byte(s) and no valid status in ${ms} ms`,
          { ...detail, garbled: true },
        );
      }
      throw printerFault('offline', `printer did not answer a status request in ${ms} ms`, detail);
    }
  }

  /** GS I n string reply; undefined when the printer does not answer in time (it lacks the function). */
  async queryId(n: number): Promise<string | undefined> {
    try {
      return await this.exchange(Buffer.from([0x1d, 0x49, n]), idParser());
    } catch (error) {
      if (error instanceof NoReply) return undefined;
      throw error;
    }
  }

  /** Write, bounded: a device that stops taking data (flow control held, buffer full) fails 'timeout', not a hang. */
  send(bytes: Buffer, linesPrinted: number): Promise<void> {
    const session = this.o.session();
    // Ten bits per byte on the wire, twice over for slack, plus the status bound for the OS and adapter.
    const bps = this.o.bitsPerSecond;
    const ms = this.o.statusTimeoutMs + (bps ? Math.ceil((bytes.length * 10 * 1000 * 2) / bps) : 0);
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
      const timer = this.o.clock.setTimeout(
        () => finish(printerFault('timeout', `printer took no data for ${ms} ms`, { linesPrinted, timeoutMs: ms })),
        ms,
      );
      // Registered so the device going away during the write ends it at once.
      const waiter: Waiter = {
        feed: () => {
          this.discarded++;
        },
        fail: (error) => finish(withLines(error, linesPrinted)),
      };
      this.waiter = waiter;
      session.write(bytes).then(
        () => finish(),
        (err: unknown) => finish(this.o.writeFault(err, { linesPrinted })),
      );
    });
  }
}
