import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ECR_COMMANDS,
  ECR_ERROR_CODES,
  parseRequestLine,
  type EcrErrorReply,
  type EcrRequest,
  type EcrRequestOf,
  type ParseResult,
} from '../../src/ecr/index.js';

function ok(line: string): EcrRequest {
  const r = parseRequestLine(line);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.request;
}

function err(line: string): EcrErrorReply {
  const r = parseRequestLine(line);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.request)}`);
  return r.error;
}

const line = (value: unknown) => JSON.stringify(value);

/** One valid request per command, with every optional field, and the parsed form expected. */
const VALID: [unknown, EcrRequest][] = [
  [
    { id: '7', cmd: 'sale', amount: 1250, currency: '978' },
    { id: '7', cmd: 'sale', amount: 1250, currency: '978' },
  ],
  [
    { id: 8, cmd: 'sale', amount: 1 },
    { id: '8', cmd: 'sale', amount: 1 },
  ],
  [
    { id: 'r', cmd: 'refund', amount: 99_999_999, currency: '840', token: 't' },
    { id: 'r', cmd: 'refund', amount: 99_999_999, currency: '840', token: 't' },
  ],
  [
    { id: 'v', cmd: 'void', stan: 42, supervisorPin: '1234' },
    { id: 'v', cmd: 'void', stan: 42, supervisorPin: '1234' },
  ],
  [
    { id: 'v2', cmd: 'void', stan: 999_999 },
    { id: 'v2', cmd: 'void', stan: 999_999 },
  ],
  [
    { id: 'c', cmd: 'cancel' },
    { id: 'c', cmd: 'cancel' },
  ],
  [
    { id: 'k', cmd: 'confirm' },
    { id: 'k', cmd: 'confirm' },
  ],
  [
    { id: 's', cmd: 'status' },
    { id: 's', cmd: 'status' },
  ],
  [
    { id: 'p', cmd: 'reprint' },
    { id: 'p', cmd: 'reprint' },
  ],
  [
    { id: 'p2', cmd: 'reprint', stan: 17 },
    { id: 'p2', cmd: 'reprint', stan: 17 },
  ],
  [
    { id: 'sl', cmd: 'slip' },
    { id: 'sl', cmd: 'slip' },
  ],
  [
    { id: 'dr', cmd: 'drawer.open' },
    { id: 'dr', cmd: 'drawer.open' },
  ],
  [
    { id: 'u', cmd: 'unlock', supervisorPin: '1234' },
    { id: 'u', cmd: 'unlock', supervisorPin: '1234' },
  ],
  [
    { id: 'sl2', cmd: 'slip', code: 'E301' },
    { id: 'sl2', cmd: 'slip', code: 'E301' },
  ],
  [
    { id: 't', cmd: 'selftest' },
    { id: 't', cmd: 'selftest' },
  ],
  [
    { id: 't2', cmd: 'selftest', level: 'interactive' },
    { id: 't2', cmd: 'selftest', level: 'interactive' },
  ],
  [
    { id: 'ta', cmd: 'selftest.answer', answer: 'yes' },
    { id: 'ta', cmd: 'selftest.answer', answer: 'yes' },
  ],
  [
    { id: 'st', cmd: 'settle' },
    { id: 'st', cmd: 'settle' },
  ],
  [
    { id: 'sc', cmd: 'sim.card' },
    { id: 'sc', cmd: 'sim.card' },
  ],
  [
    { id: 'sc2', cmd: 'sim.card', name: 'visa-decline' },
    { id: 'sc2', cmd: 'sim.card', name: 'visa-decline' },
  ],
  [
    { id: 'sf', cmd: 'sim.fault', device: 'printer', code: 'paper-out', atStep: 2, times: 3 },
    { id: 'sf', cmd: 'sim.fault', device: 'printer', code: 'paper-out', atStep: 2, times: 3 },
  ],
  [
    { id: 'sf2', cmd: 'sim.fault', device: 'host', code: 'timeout' },
    { id: 'sf2', cmd: 'sim.fault', device: 'host', code: 'timeout' },
  ],
  [
    { id: 'sr', cmd: 'sim.remove' },
    { id: 'sr', cmd: 'sim.remove' },
  ],
  [
    { id: 'sp', cmd: 'sim.pin', pin: '1234' },
    { id: 'sp', cmd: 'sim.pin', pin: '1234' },
  ],
  [
    { id: 'sp2', cmd: 'sim.pin', cancel: true },
    { id: 'sp2', cmd: 'sim.pin', cancel: true },
  ],
  [
    { id: 'st', cmd: 'sim.tip', amount: 150 },
    { id: 'st', cmd: 'sim.tip', amount: 150 },
  ],
  [
    { id: 'st2', cmd: 'sim.tip', cancel: true },
    { id: 'st2', cmd: 'sim.tip', cancel: true },
  ],
  [
    { id: 'st', cmd: 'sale', amount: 1000, tip: 150 },
    { id: 'st', cmd: 'sale', amount: 1000, tip: 150 },
  ],
  [
    { id: 'pa', cmd: 'preauth', amount: 10_000, currency: '978' },
    { id: 'pa', cmd: 'preauth', amount: 10_000, currency: '978' },
  ],
  [
    { id: 'pi', cmd: 'preauth.increment', preauthId: 'T-ABC-123', amount: 500 },
    { id: 'pi', cmd: 'preauth.increment', preauthId: 'T-ABC-123', amount: 500 },
  ],
  [
    { id: 'pc', cmd: 'preauth.complete', preauthId: 'T-ABC-123', amount: 9_000, tip: 1_000 },
    { id: 'pc', cmd: 'preauth.complete', preauthId: 'T-ABC-123', amount: 9_000, tip: 1_000 },
  ],
  [
    { id: 'px', cmd: 'preauth.cancel', preauthId: 'T-ABC-123' },
    { id: 'px', cmd: 'preauth.cancel', preauthId: 'T-ABC-123' },
  ],
  [
    { id: 'ta', cmd: 'tipAdjust', stan: 42, tip: 300 },
    { id: 'ta', cmd: 'tipAdjust', stan: 42, tip: 300 },
  ],
];

describe('parseRequestLine: valid requests', () => {
  it.each(VALID.map(([input, expected]) => [line(input), expected] as const))('%s', (text, expected) => {
    expect(ok(text)).toEqual(expected);
  });

  it('covers every command', () => {
    const covered = new Set(VALID.map(([, r]) => r.cmd));
    expect([...covered].sort()).toEqual([...ECR_COMMANDS].sort());
  });

  it('converts numeric ids to strings and accepts ids up to 64 characters', () => {
    expect(ok(line({ id: 0, cmd: 'status' })).id).toBe('0');
    expect(ok(line({ id: -12, cmd: 'status' })).id).toBe('-12');
    expect(ok(line({ id: 'x'.repeat(64), cmd: 'status' })).id).toBe('x'.repeat(64));
  });

  it('tolerates surrounding whitespace', () => {
    expect(ok('  {"id":"1","cmd":"status"}\t')).toEqual({ id: '1', cmd: 'status' });
  });

  it('narrows by cmd', () => {
    const r = ok(line({ id: '1', cmd: 'sale', amount: 5 }));
    if (r.cmd === 'sale') expectTypeOf(r.amount).toEqualTypeOf<number>();
    expectTypeOf<EcrRequestOf<'void'>['stan']>().toEqualTypeOf<number>();
    expectTypeOf<EcrRequest['id']>().toEqualTypeOf<string>();
  });
});

describe('parseRequestLine: errors', () => {
  it('invalid JSON has a null id', () => {
    expect(err('{"id":"1","cmd":"status"')).toEqual({
      id: null,
      type: 'error',
      code: 'invalid-json',
      message: 'the line is not valid JSON',
    });
    expect(err('hello').code).toBe('invalid-json');
  });

  it.each([
    ['[1,2]', 'an array'],
    ['"sale"', '"sale"'],
    ['42', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ])('a JSON %s that is not an object is an invalid request', (text, found) => {
    expect(err(text)).toEqual({
      id: null,
      type: 'error',
      code: 'invalid-request',
      message: `request: expected a JSON object with "id" and "cmd", found ${found}`,
    });
  });

  it('a missing id is named, with a null id', () => {
    expect(err(line({ cmd: 'status' }))).toEqual({
      id: null,
      type: 'error',
      code: 'missing-field',
      field: 'id',
      message: 'id: expected a string of 1 to 64 characters or an integer, found nothing',
    });
  });

  it.each([
    [{ id: '', cmd: 'status' }, 'id: expected a string of 1 to 64 characters or an integer, found ""'],
    [
      { id: 'x'.repeat(65), cmd: 'status' },
      `id: expected a string of 1 to 64 characters or an integer, found "${'x'.repeat(40)}..."`,
    ],
    [{ id: 1.5, cmd: 'status' }, 'id: expected a string of 1 to 64 characters or an integer, found 1.5'],
    [{ id: 2 ** 60, cmd: 'status' }, `id: expected a string of 1 to 64 characters or an integer, found ${2 ** 60}`],
    [{ id: null, cmd: 'status' }, 'id: expected a string of 1 to 64 characters or an integer, found null'],
    [{ id: { a: 1 }, cmd: 'status' }, 'id: expected a string of 1 to 64 characters or an integer, found an object'],
  ])('an unusable id %j is refused with a null id', (input, message) => {
    expect(err(line(input))).toEqual({ id: null, type: 'error', code: 'invalid-request', field: 'id', message });
  });

  it('a missing cmd is named', () => {
    expect(err(line({ id: '3' }))).toEqual({
      id: '3',
      type: 'error',
      code: 'missing-field',
      field: 'cmd',
      message: 'cmd: expected a command name such as "sale", found nothing',
    });
    expect(err(line({ id: '3', cmd: 5 }))).toMatchObject({ code: 'invalid-request', field: 'cmd' });
  });

  it.each([{ pin: '12' }, { pin: '12345678901234' }, { pin: '12a4' }, { pin: 1234 }, { cancel: 'yes' }])(
    'sim.pin refuses %j with a typed error',
    (fields) => {
      expect(err(line({ id: '7', cmd: 'sim.pin', ...fields }))).toMatchObject({ id: '7', type: 'error' });
    },
  );

  it.each(['refundd', 'toString', '__proto__', 'constructor', 'SALE', 'sim.'])('unknown command %s', (cmd) => {
    const e = err(line({ id: 9, cmd }));
    expect(e).toMatchObject({ id: '9', code: 'unknown-command', field: 'cmd' });
    expect(e.message).toContain(JSON.stringify(cmd));
  });

  it.each([
    [{ id: '1', cmd: 'sale' }, 'amount', 'amount: expected an integer from 1 to 99999999, found nothing'],
    [
      { id: '1', cmd: 'refund', currency: '978' },
      'amount',
      'amount: expected an integer from 1 to 99999999, found nothing',
    ],
    [{ id: '1', cmd: 'void' }, 'stan', 'stan: expected an integer from 1 to 999999, found nothing'],
    [
      { id: '1', cmd: 'sim.fault', code: 'x' },
      'device',
      'device: expected one of "printer", "card-reader", "display", "host", "network", found nothing',
    ],
    [
      { id: '1', cmd: 'sim.fault', device: 'printer' },
      'code',
      'code: expected a fault code string of 1 to 64 characters, found nothing',
    ],
    [
      { id: '1', cmd: 'preauth.complete', amount: 100 },
      'preauthId',
      'preauthId: expected a pre-authorization id (the preauthId of its result), found nothing',
    ],
    [{ id: '1', cmd: 'tipAdjust', stan: 4 }, 'tip', 'tip: expected an integer from 1 to 99999999, found nothing'],
  ])('missing field in %j', (input, field, message) => {
    expect(err(line(input))).toEqual({ id: '1', type: 'error', code: 'missing-field', field, message });
  });

  it.each([
    [
      { id: '1', cmd: 'sale', amount: '12.50' },
      'amount',
      'amount: expected an integer from 1 to 99999999, found "12.50"',
    ],
    [{ id: '1', cmd: 'sale', amount: 12.5 }, 'amount', 'amount: expected an integer from 1 to 99999999, found 12.5'],
    [{ id: '1', cmd: 'sale', amount: 0 }, 'amount', 'amount: expected an integer from 1 to 99999999, found 0'],
    [{ id: '1', cmd: 'sale', amount: -5 }, 'amount', 'amount: expected an integer from 1 to 99999999, found -5'],
    [
      { id: '1', cmd: 'sale', amount: 100_000_000 },
      'amount',
      'amount: expected an integer from 1 to 99999999, found 100000000',
    ],
    [{ id: '1', cmd: 'sale', amount: null }, 'amount', 'amount: expected an integer from 1 to 99999999, found null'],
    [{ id: '1', cmd: 'sale', amount: [1] }, 'amount', 'amount: expected an integer from 1 to 99999999, found an array'],
    [
      { id: '1', cmd: 'sale', amount: 5, currency: 'EUR' },
      'currency',
      'currency: expected a 3-digit ISO 4217 numeric currency code like "978", found "EUR"',
    ],
    [
      { id: '1', cmd: 'sale', amount: 5, currency: 978 },
      'currency',
      'currency: expected a 3-digit ISO 4217 numeric currency code like "978", found 978',
    ],
    [{ id: '1', cmd: 'void', stan: 1_000_000 }, 'stan', 'stan: expected an integer from 1 to 999999, found 1000000'],
    [{ id: '1', cmd: 'reprint', stan: '5' }, 'stan', 'stan: expected an integer from 1 to 999999, found "5"'],
    [{ id: '1', cmd: 'slip', code: 'paper' }, 'code', 'code: expected an anomaly code like "E301", found "paper"'],
    [{ id: '1', cmd: 'sim.card', name: 7 }, 'name', 'name: expected a test card name of 1 to 64 characters, found 7'],
    [
      { id: '1', cmd: 'sim.fault', device: 'modem', code: 'x' },
      'device',
      'device: expected one of "printer", "card-reader", "display", "host", "network", found "modem"',
    ],
    [
      { id: '1', cmd: 'sim.fault', device: 'printer', code: 'x', atStep: 0 },
      'atStep',
      'atStep: expected an integer from 1 to 1000000, found 0',
    ],
    [
      { id: '1', cmd: 'sim.fault', device: 'printer', code: 'x', times: true },
      'times',
      'times: expected an integer from 1 to 1000000, found true',
    ],
  ])('wrong type in %j', (input, field, message) => {
    expect(err(line(input))).toEqual({ id: '1', type: 'error', code: 'invalid-request', field, message });
  });

  it('refuses unknown fields instead of ignoring a misspelling', () => {
    expect(err(line({ id: '1', cmd: 'sale', amount: 5, currnecy: '978' }))).toEqual({
      id: '1',
      type: 'error',
      code: 'invalid-request',
      field: 'currnecy',
      message: 'currnecy: not a field of "sale"',
    });
    expect(err(line({ id: '1', cmd: 'cancel', stan: 4 }))).toMatchObject({ code: 'invalid-request', field: 'stan' });
    expect(err('{"id":"1","cmd":"status","__proto__":{"x":1}}')).toMatchObject({
      code: 'invalid-request',
      field: '__proto__',
    });
  });

  it('never echoes a token or a supervisor PIN', () => {
    const t = err(line({ id: '1', cmd: 'status', token: 12345 }));
    expect(t).toMatchObject({ code: 'invalid-request', field: 'token' });
    expect(t.message).not.toContain('12345');
    const p = err(line({ id: '1', cmd: 'void', stan: 1, supervisorPin: 'x'.repeat(30) }));
    expect(p).toMatchObject({
      field: 'supervisorPin',
      message: 'supervisorPin: expected a PIN string of 1 to 16 characters, found a string of 30 characters',
    });
  });

  it('keeps messages short whatever the input', () => {
    const e = err(line({ id: '1', cmd: 'sale', amount: 'y'.repeat(10_000) }));
    expect(e.message.length).toBeLessThan(200);
    const k = err(line({ id: '1', cmd: 'status', ['k'.repeat(10_000)]: 1 }));
    expect(k.field?.length).toBeLessThan(50);
  });

  it('survives deeply nested values', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const r = parseRequestLine(`{"id":"1","cmd":"sale","amount":${deep}}`);
    expect(r.ok).toBe(false);
  });
});

describe('parseRequestLine: fuzz', () => {
  const codes = new Set<string>(ECR_ERROR_CODES);

  function checkTyped(r: ParseResult): void {
    if (r.ok) {
      expect(ECR_COMMANDS).toContain(r.request.cmd);
      expect(typeof r.request.id).toBe('string');
      expect(r.request.id.length).toBeGreaterThan(0);
      return;
    }
    const e = r.error;
    if (e.type !== 'error' || !codes.has(e.code) || typeof e.message !== 'string' || e.message === '') {
      throw new Error(`untyped error ${JSON.stringify(e)}`);
    }
    // The catch-all in parseRequestLine is a safety net; validation itself must never throw.
    expect(e.message).not.toBe('the request could not be read');
    if (e.id !== null && typeof e.id !== 'string') throw new Error(`bad id in ${JSON.stringify(e)}`);
    if (e.field !== undefined && typeof e.field !== 'string') throw new Error(`bad field in ${JSON.stringify(e)}`);
    // The reply must itself be one line of JSON.
    expect(JSON.stringify(e)).not.toContain('\n');
  }

  it('50k random strings: never throws, always ok or a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), fc.string({ maxLength: 60 })), (s) => {
        checkTyped(parseRequestLine(s));
      }),
      { numRuns: 50_000 },
    );
  });

  const validLines = VALID.map(([input]) => line(input));

  it('mutated valid lines: never throws, always ok or a typed error', () => {
    const mutation = fc.oneof(
      // Flip, insert or delete characters.
      fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 })).map(([at, s]) => (l: string) => {
        const i = at % (l.length + 1);
        return l.slice(0, i) + s + l.slice(i);
      }),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6 })).map(([at, n]) => (l: string) => {
        const i = at % (l.length + 1);
        return l.slice(0, i) + l.slice(i + n);
      }),
      fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })).map(([at, c]) => (l: string) => {
        const i = at % Math.max(l.length, 1);
        return l.slice(0, i) + c + l.slice(i + 1);
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...validLines), fc.array(mutation, { minLength: 1, maxLength: 4 }), (l, ms) => {
        checkTyped(parseRequestLine(ms.reduce((acc, m) => m(acc), l)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('valid requests with fields replaced by arbitrary JSON: never throws, always ok or a typed error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID.map(([input]) => input as Record<string, unknown>)),
        fc.constantFrom(
          'id',
          'cmd',
          'amount',
          'currency',
          'stan',
          'token',
          'name',
          'device',
          'code',
          'atStep',
          'times',
          'supervisorPin',
          'extra',
        ),
        fc.jsonValue(),
        (input, key, value) => {
          const r = parseRequestLine(JSON.stringify({ ...input, [key]: value }));
          checkTyped(r);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});
