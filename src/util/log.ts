/**
 * Structured logging (pino). Card data never reaches a log line: known sensitive keys are censored wherever they
 * appear, and card objects serialise to their masked summary (see SensitiveCard).
 */
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

const SENSITIVE_KEYS = ['pan', 'track1', 'track2', 'cvv', 'cvc', 'pin', 'pinBlock', 'iccData', 'password', 'token', 'supervisorPin'];

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const paths = SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
  return pino(
    {
      level,
      base: { service: 'pos-terminal' },
      redact: { paths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
