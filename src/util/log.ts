/**
 * Structured logging (pino). Card data never reaches a log line: known sensitive keys are censored wherever they
 * appear, and card objects serialise to their masked summary (see SensitiveCard).
 *
 * On a terminal window the lines are drawn for a person (pino-pretty); run as a service (stdout not a TTY:
 * journald, a pipe, a file) they stay one JSON object per line. POS_LOG_FORMAT=json or pretty decides instead.
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import { isIdentifierKey, maskCardNumbers } from './card-schemes.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/** The format of the process's own log on stdout: POS_LOG_FORMAT when set, else pretty exactly on a TTY. */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  stdout: { isTTY?: boolean } = process.stdout,
): LogFormat {
  const asked = env['POS_LOG_FORMAT'];
  if (asked === 'json' || asked === 'pretty') return asked;
  if (asked !== undefined && asked !== '')
    throw new Error(`POS_LOG_FORMAT: expected "json" or "pretty", found ${JSON.stringify(asked)}`);
  return stdout.isTTY === true ? 'pretty' : 'json';
}

/** Where log lines go: stdout, or a stream given (tests). */
export interface LogOutput {
  write(line: string): unknown;
  isTTY?: boolean;
}

type PrettyFactory = (options: Record<string, unknown>) => (line: string) => string;

/**
 * pino-pretty, loaded only for a person's terminal window, so a service never loads it. Its formatter is called
 * in line, not as a stream, so a line logged just before process.exit is still shown.
 */
function prettyDestination(out: LogOutput): DestinationStream | Error {
  try {
    const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as { prettyFactory?: PrettyFactory };
    if (typeof prettyFactory !== 'function') return new Error('pino-pretty has no prettyFactory');
    const format = prettyFactory({
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      // Colours only where a person reads them; pino-pretty's own check still honours NO_COLOR.
      ...(out.isTTY === true ? {} : { colorize: false }),
    });
    return { write: (line: string) => void out.write(format(line)) };
  } catch (err) {
    return err as Error;
  }
}

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

/**
 * A logger at `level`, writing to `destination` (stdout when absent). The format is `logFormat()`'s choice for
 * stdout; a destination given gets JSON lines unless `format` says otherwise.
 */
export function createLogger(
  level: LevelWithSilent,
  destination?: DestinationStream,
  format: LogFormat = destination ? 'json' : logFormat(),
): Logger {
  let stream = destination;
  let prettyFailed: Error | undefined;
  if (format === 'pretty' && level !== 'silent') {
    const pretty = prettyDestination((destination as LogOutput | undefined) ?? process.stdout);
    if (pretty instanceof Error) prettyFailed = pretty;
    else stream = pretty;
  }
  const log = pinoLogger(level, stream);
  if (prettyFailed)
    log.warn({ err: prettyFailed.message }, 'pino-pretty could not be loaded (run npm install); logging JSON instead');
  return log;
}

function pinoLogger(level: LevelWithSilent, destination: DestinationStream | undefined): Logger {
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
