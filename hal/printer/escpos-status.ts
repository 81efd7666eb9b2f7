/**
 * Parser of ESC/POS real-time status replies (DLE EOT n, n = 1..4) into the contract's PrinterStatus. Pure: no I/O.
 *
 * Failure design: a byte that does not match the fixed-bit pattern 0b0xx1xx10 is not a status reply (line noise, a
 * late or foreign answer). The parser throws EscPosStatusError, its only error. It is not a DeviceFaultError because
 * a bad byte says nothing about the printer's condition: the serial driver discards such bytes and keeps waiting, and
 * if no valid reply arrives within its timeout it rejects 'offline' (detail.garbledBytes counts what it discarded).
 */
import type { PrinterStatus } from './contract.js';

export type StatusQuery = 1 | 2 | 3 | 4;
export const STATUS_QUERIES: readonly StatusQuery[] = [1, 2, 3, 4];

/** Bits 1 and 4 always set, bits 0 and 7 always clear. */
const FIXED_MASK = 0b1001_0011;
const FIXED_VALUE = 0b0001_0010;

export type EscPosStatusErrorReason = 'not-a-status-byte' | 'wrong-reply-count';

export class EscPosStatusError extends Error {
  override readonly name = 'EscPosStatusError';
  constructor(
    readonly reason: EscPosStatusErrorReason,
    message: string,
    /** The query whose reply was bad, when one reply was at fault. */
    readonly query?: StatusQuery,
    /** The offending value (a byte, or the number of replies given). */
    readonly value?: number,
  ) {
    super(message);
  }
}

export function isEscPosStatusError(value: unknown): value is EscPosStatusError {
  return value instanceof EscPosStatusError;
}

/** True when the value is a byte with the fixed bits of a real-time status reply. */
export function isStatusByte(byte: number): boolean {
  return Number.isInteger(byte) && byte >= 0 && byte <= 0xff && (byte & FIXED_MASK) === FIXED_VALUE;
}

/** The request bytes for one status query. */
export function statusRequest(n: StatusQuery): Buffer {
  return Buffer.from([0x10, 0x04, n]);
}

/** n=1 printer status. */
export interface PrinterStatusBits {
  drawerPin3: boolean;
  offline: boolean;
  waitingOnlineRecovery: boolean;
  feedButtonPressed: boolean;
}

/** n=2 offline cause. */
export interface OfflineCauseBits {
  coverOpen: boolean;
  paperFedByButton: boolean;
  paperEndStop: boolean;
  error: boolean;
}

/** n=3 error cause. */
export interface ErrorCauseBits {
  /** Mechanical error such as a paper jam; clears once the cause is removed. */
  recoverableError: boolean;
  autoCutterError: boolean;
  unrecoverableError: boolean;
  /** Typically print-head overheat. */
  autoRecoverableError: boolean;
}

/** n=4 roll paper sensor. */
export interface PaperSensorBits {
  nearEnd: boolean;
  end: boolean;
}

/** Every bit the four replies carry, by name. */
export interface EscPosRealtimeStatus {
  printer: PrinterStatusBits;
  offlineCause: OfflineCauseBits;
  errorCause: ErrorCauseBits;
  paperSensor: PaperSensorBits;
}

const bit = (byte: number, n: number): boolean => (byte & (1 << n)) !== 0;

function checked(n: StatusQuery, byte: number): number {
  if (!isStatusByte(byte)) {
    const shown =
      Number.isInteger(byte) && byte >= 0 && byte <= 0xff ? `0x${byte.toString(16).padStart(2, '0')}` : String(byte);
    throw new EscPosStatusError('not-a-status-byte', `reply ${shown} to DLE EOT ${n} is not a status byte`, n, byte);
  }
  return byte;
}

export function decodePrinterStatusByte(byte: number): PrinterStatusBits {
  const b = checked(1, byte);
  return { drawerPin3: bit(b, 2), offline: bit(b, 3), waitingOnlineRecovery: bit(b, 5), feedButtonPressed: bit(b, 6) };
}

export function decodeOfflineCauseByte(byte: number): OfflineCauseBits {
  const b = checked(2, byte);
  return { coverOpen: bit(b, 2), paperFedByButton: bit(b, 3), paperEndStop: bit(b, 5), error: bit(b, 6) };
}

export function decodeErrorCauseByte(byte: number): ErrorCauseBits {
  const b = checked(3, byte);
  return {
    recoverableError: bit(b, 2),
    autoCutterError: bit(b, 3),
    unrecoverableError: bit(b, 5),
    autoRecoverableError: bit(b, 6),
  };
}

/** The sensor reports each condition on a pair of bits; either bit counts, since some vendors set only one. */
export function decodePaperSensorByte(byte: number): PaperSensorBits {
  const b = checked(4, byte);
  return { nearEnd: bit(b, 2) || bit(b, 3), end: bit(b, 5) || bit(b, 6) };
}

/** Decode the replies to DLE EOT 1, 2, 3, 4, in that order. Throws EscPosStatusError only. */
export function decodeRealtimeStatus(replies: ArrayLike<number>): EscPosRealtimeStatus {
  if (replies.length !== 4) {
    throw new EscPosStatusError(
      'wrong-reply-count',
      `expected 4 status replies (DLE EOT 1..4), got ${replies.length}`,
      undefined,
      replies.length,
    );
  }
  return {
    printer: decodePrinterStatusByte(replies[0] as number),
    offlineCause: decodeOfflineCauseByte(replies[1] as number),
    errorCause: decodeErrorCauseByte(replies[2] as number),
    paperSensor: decodePaperSensorByte(replies[3] as number),
  };
}

/**
 * Map the named bits onto the contract. Paper is out when the sensor says so or printing stopped on paper end. The
 * n=2 error bit without any cause in n=3 is an error the contract cannot name: it is reported as not online, so
 * faultFromStatus calls it 'offline'. Drawer, feed-button and waiting-for-recovery bits stop nothing and are dropped.
 */
export function toPrinterStatus(s: EscPosRealtimeStatus): PrinterStatus {
  const cause = s.errorCause;
  const knownError =
    cause.recoverableError || cause.autoCutterError || cause.unrecoverableError || cause.autoRecoverableError;
  return {
    online: !s.printer.offline && !(s.offlineCause.error && !knownError),
    paper: s.paperSensor.end || s.offlineCause.paperEndStop ? 'out' : s.paperSensor.nearEnd ? 'near-end' : 'ok',
    coverOpen: s.offlineCause.coverOpen,
    jammed: cause.recoverableError,
    cutterError: cause.autoCutterError,
    overheated: cause.autoRecoverableError,
    unrecoverableError: cause.unrecoverableError,
  };
}

/** Replies to DLE EOT 1..4 → PrinterStatus. Throws EscPosStatusError only. */
export function parseStatusReplies(replies: ArrayLike<number>): PrinterStatus {
  return toPrinterStatus(decodeRealtimeStatus(replies));
}
