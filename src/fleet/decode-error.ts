/** Why a delivery is not telemetry: every rejection the consumer counts has one of these codes. */
export type DecodeErrorCode =
  | 'bad-topic' // not pos/v1/<fleet>/<terminal>/<known type>
  | 'too-large' // payload over the size limit
  | 'empty-payload' // zero bytes (e.g. a retained message being cleared)
  | 'bad-payload' // protobuf does not decode
  | 'missing-header' // decoded, but no header, terminal id or boot id
  | 'header-mismatch'; // header names another terminal or fleet than the topic

export const DECODE_ERROR_CODES: readonly DecodeErrorCode[] = [
  'bad-topic',
  'too-large',
  'empty-payload',
  'bad-payload',
  'missing-header',
  'header-mismatch',
];

export class TelemetryDecodeError extends Error {
  override readonly name = 'TelemetryDecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    readonly topic: string,
    message: string,
  ) {
    super(message);
  }
}
