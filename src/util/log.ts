/**
 * Structured logging (pino). Card data never reaches a log line: known sensitive keys are censored wherever they
 * appear, and card objects serialise to their masked summary (see SensitiveCard).
 */
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import { isIdentifierKey, maskCardNumbers } from './card-schemes.js';

export type { Logger };

/** Card numbers that reach a log line by mistake (in a message, a reason, an id) are masked, not written. */
function scrub(value: unknown, key: string, depth: number): unknown {
  if (typeof value === 'string') return maskCardNumbers(value, isIdentifierKey(key));
  if (depth > 4 || value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Error)
    return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, k, depth + 1);
  return out;
}

const SENSITIVE_KEYS = [
  'pan',
  'track1',
  'track2',
  'cvv',
  'cvc',
  'pin',
  'pinBlock',
  'iccData',
  'password',
  'token',
  'supervisorPin',
];

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const paths = SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
  return pino(
    {
      level,
      base: { service: 'pos-terminal' },
      redact: { paths, censor: '[redacted]' },
      formatters: { log: (object) => scrub(object, '', 0) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? maskCardNumbers(a) : a)) as Parameters<typeof method>,
          );
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
