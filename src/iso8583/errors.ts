/** Every code the codec can raise (tests check that a malformed message gets one of these and nothing else). */
export const ISO8583_ERROR_CODES = [
  'short-message',
  'bad-mti',
  'bad-bitmap',
  'bad-length-prefix',
  'bad-format',
  'too-long',
  'trailing-bytes',
  'unknown-field',
  'missing-field',
] as const;
export type Iso8583ErrorCode = (typeof ISO8583_ERROR_CODES)[number];

/**
 * The only error the codec throws, so callers can answer a malformed frame with a format-error
 * response instead of crashing the host link.
 *
 * `offset` is a byte position in the frame being read (unpack) or written (pack): the offending
 * byte when one byte is wrong, otherwise the start of the element at fault (MTI, bitmap, length
 * prefix, field value). For a frame that ends too early it is the start of the element cut short.
 * It is -1 when the error is about a decoded message rather than bytes (e.g. a missing field).
 */
export class Iso8583Error extends Error {
  readonly code: Iso8583ErrorCode;
  readonly field?: number;
  readonly offset: number;

  constructor(code: Iso8583ErrorCode, detail: string, offset: number, field?: number) {
    super(formatMessage(detail, offset, field));
    this.name = 'Iso8583Error';
    this.code = code;
    this.offset = offset;
    if (field !== undefined) this.field = field;
  }
}

function formatMessage(detail: string, offset: number, field: number | undefined): string {
  const where = field === undefined ? 'message' : `field ${field}`;
  return offset < 0 ? `${where}: ${detail}` : `${where} at offset ${offset}: ${detail}`;
}

/** Renders one character code for an error message; non-printable ones as hex so logs stay readable. */
export function describeChar(code: number): string {
  if (code >= 0x20 && code <= 0x7e) return `'${String.fromCharCode(code)}'`;
  if (code <= 0xff) return `0x${code.toString(16).padStart(2, '0')}`;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
