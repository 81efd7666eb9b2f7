/**
 * The log's format: human-readable on a terminal window, JSON when run as a service (stdout not a TTY) or when
 * POS_LOG_FORMAT=json; card data is masked either way.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormat } from '../../src/util/log.js';

const PAN = '4761739001010010';

function sink() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

describe('logFormat', () => {
  it('is pretty on a TTY and JSON otherwise', () => {
    expect(logFormat({}, { isTTY: true })).toBe('pretty');
    expect(logFormat({}, { isTTY: false })).toBe('json');
    // A pipe, a file, journald: no isTTY at all.
    expect(logFormat({}, {})).toBe('json');
  });

  it('POS_LOG_FORMAT decides when set; empty counts as unset', () => {
    expect(logFormat({ POS_LOG_FORMAT: 'json' }, { isTTY: true })).toBe('json');
    expect(logFormat({ POS_LOG_FORMAT: 'pretty' }, { isTTY: false })).toBe('pretty');
    expect(logFormat({ POS_LOG_FORMAT: '' }, { isTTY: true })).toBe('pretty');
  });

  it('refuses an unknown POS_LOG_FORMAT rather than guessing', () => {
    expect(() => logFormat({ POS_LOG_FORMAT: 'text' }, { isTTY: true })).toThrow(
      'POS_LOG_FORMAT: expected "json" or "pretty", found "text"',
    );
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line to a destination given', () => {
    const { lines, stream } = sink();
    createLogger('info', stream).info({ stan: 7 }, `paid with ${PAN}`);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 30, service: 'pos-terminal', stan: 7, msg: 'paid with 476173******0010' });
  });

  it('pretty: a line for a person, with the level, message and fields, and the card number masked', () => {
    // pino-pretty is a dependency: missing, it is a broken install, named here.
    try {
      createRequire(import.meta.url).resolve('pino-pretty');
    } catch {
      throw new Error('pino-pretty is not installed: run npm install');
    }
    const { lines, stream } = sink();
    createLogger('info', stream, 'pretty').warn({ stan: 7, pan: PAN }, `card ${PAN} left in reader`);
    const text = lines.join('');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: card 476173\*{6}0010 left in reader\n/);
    expect(text).toContain('stan: 7');
    expect(text).not.toContain(PAN);
    expect(text).not.toContain('service');
    // Not a TTY: no colour codes.
    expect(text).not.toContain('\u001b[');
  });

  it('a silent logger writes nothing in either format', () => {
    const { lines, stream } = sink();
    createLogger('silent', stream, 'pretty').error('nothing');
    createLogger('silent', stream).error('nothing');
    expect(lines).toEqual([]);
  });
});
