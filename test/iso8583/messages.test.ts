import { describe, expect, it } from 'vitest';
import {
  Iso8583Error,
  MTI,
  PROCESSING_CODE,
  RESPONSE_CODES,
  buildAdvice,
  buildEcho,
  buildFinancialRequest,
  buildResponse,
  buildReversal,
  correlationKey,
  describeResponseCode,
  formatStan,
  formatTransmissionDateTime,
  pack,
  parseResponse,
  responseMtiFor,
  unpack,
  type FinancialRequest,
  type IsoMessage,
} from '../../src/iso8583/index.js';

const AT = new Date(Date.UTC(2026, 5, 12, 14, 30, 15)); // 0612143015 UTC
const LATER = new Date(Date.UTC(2026, 5, 12, 14, 31, 0));
const ICC = new Uint8Array([0x9f, 0x26, 0x02, 0xab, 0xcd]);

const PURCHASE: FinancialRequest = {
  processingCode: PROCESSING_CODE.purchase,
  amount: 1234,
  currency: '978',
  stan: 123,
  transmittedAt: AT,
  terminalId: 'TERM0001',
  merchantId: 'MERCHANT0000001',
  pan: '4761739001010010',
  expiry: '2812',
  entryMode: '051',
  track2: '4761739001010010D28122010000000000',
  iccData: ICC,
};

const pad2 = (n: number): string => String(n).padStart(2, '0');
const localTime = (d: Date): string => pad2(d.getHours()) + pad2(d.getMinutes()) + pad2(d.getSeconds());
const localDate = (d: Date): string => pad2(d.getMonth() + 1) + pad2(d.getDate());

const wire = (m: IsoMessage): IsoMessage => unpack(pack(m));

function isoError(fn: () => unknown): Iso8583Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Iso8583Error);
    return e as Iso8583Error;
  }
  throw new Error('expected an Iso8583Error');
}

describe('formatting helpers', () => {
  it('formats transmission date-time as MMDDhhmmss in UTC', () => {
    expect(formatTransmissionDateTime(AT)).toBe('0612143015');
    expect(formatTransmissionDateTime(new Date(Date.UTC(2026, 0, 1, 0, 0, 0)))).toBe('0101000000');
    expect(() => formatTransmissionDateTime(new Date(NaN))).toThrow(RangeError);
  });

  it('formats STANs as 6 digits within 1..999999', () => {
    expect(formatStan(1)).toBe('000001');
    expect(formatStan(999_999)).toBe('999999');
    for (const bad of [0, -1, 1_000_000, 1.5, NaN]) expect(() => formatStan(bad)).toThrow(RangeError);
  });
});

describe('financial request (0200)', () => {
  it('maps every input to its field', () => {
    const msg = buildFinancialRequest(PURCHASE);
    expect(msg).toEqual({
      mti: '0200',
      fields: {
        2: '4761739001010010',
        3: '000000',
        4: '000000001234',
        7: '0612143015',
        11: '000123',
        12: localTime(AT),
        13: localDate(AT),
        14: '2812',
        22: '051',
        25: '00',
        35: '4761739001010010D28122010000000000',
        41: 'TERM0001',
        42: 'MERCHANT0000001',
        49: '978',
        55: ICC,
      },
    });
    expect(wire(msg)).toEqual(msg);
  });

  it('omits absent optional data and carries a void original STAN in field 62', () => {
    const { pan: _pan, expiry: _expiry, track2: _track2, iccData: _icc, ...bare } = PURCHASE;
    const msg = buildFinancialRequest({ ...bare, processingCode: PROCESSING_CODE.void, originalStan: 77 });
    expect(
      Object.keys(msg.fields)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([3, 4, 7, 11, 12, 13, 22, 25, 41, 42, 49, 62]);
    expect(msg.fields[3]).toBe('020000');
    expect(msg.fields[62]).toBe('000077');
    expect(wire(msg)).toEqual(msg);
  });

  it('fields 12/13 follow the local time zone, field 7 stays UTC', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo'; // UTC+9, no DST
      const msg = buildFinancialRequest(PURCHASE);
      expect(msg.fields[7]).toBe('0612143015');
      expect(msg.fields[12]).toBe('233015');
      expect(msg.fields[13]).toBe('0612');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('rejects amounts that are not integer minor units in range', () => {
    for (const amount of [-1, 1.5, NaN, 1e12]) {
      expect(() => buildFinancialRequest({ ...PURCHASE, amount })).toThrow(RangeError);
    }
    expect(buildFinancialRequest({ ...PURCHASE, amount: 999_999_999_999 }).fields[4]).toBe('999999999999');
  });

  it('leaves field syntax to pack, which reports the field', () => {
    const msg = buildFinancialRequest({ ...PURCHASE, currency: 'EUR' });
    expect(isoError(() => pack(msg))).toMatchObject({ code: 'bad-format', field: 49 });
  });
});

describe('reversal (0400/0401)', () => {
  it('keeps the STAN, sets field 90, drops track 2 and the PIN, and keeps the chip data of a chip sale', () => {
    const withPin = { ...PURCHASE, pinBlock: new Uint8Array(8).fill(0x11), ksn: new Uint8Array(10).fill(0x22) };
    expect(buildFinancialRequest(withPin).fields[52]).toEqual(withPin.pinBlock);
    expect(buildFinancialRequest(withPin).fields[53]).toEqual(withPin.ksn);
    const msg = buildReversal(withPin, { repeat: false, transmittedAt: LATER });
    expect(msg.mti).toBe('0400');
    expect(msg.fields[11]).toBe('000123');
    expect(msg.fields[7]).toBe('0612143100');
    expect(msg.fields[12]).toBe(localTime(AT));
    expect(msg.fields[90]).toBe('0200' + '000123' + '0612143015' + '00000000000' + '00000000000');
    expect((msg.fields[90] as string).length).toBe(42);
    for (const n of [35, 52, 53]) expect(msg.fields[n]).toBeUndefined();
    // The issuer matches a chip sale's reversal to its cryptogram: field 55 goes with it.
    expect(msg.fields[55]).toEqual(PURCHASE.iccData);
    expect(msg.fields[2]).toBe(PURCHASE.pan);
    expect(msg.fields[4]).toBe('000000001234');
    expect(wire(msg)).toEqual(msg);
    expect(pack(msg).subarray(4, 5)[0]! & 0x80).toBe(0x80); // secondary bitmap for field 90
  });

  it('uses 0401 for a repeat, with the same STAN and field 90', () => {
    const first = buildReversal(PURCHASE, { repeat: false, transmittedAt: LATER });
    const repeat = buildReversal(PURCHASE, { repeat: true, transmittedAt: new Date(LATER.getTime() + 30_000) });
    expect(repeat.mti).toBe('0401');
    expect(repeat.fields[11]).toBe(first.fields[11]);
    expect(repeat.fields[90]).toBe(first.fields[90]);
    expect(repeat.fields[7]).toBe('0612143130');
  });
});

describe('advice (0220/0221)', () => {
  it('carries the offline approval code and never track 2', () => {
    const msg = buildAdvice({ ...PURCHASE, approvalCode: 'Y1' }, { repeat: false });
    expect(msg.mti).toBe('0220');
    expect(msg.fields[38]).toBe('Y1');
    expect(msg.fields[35]).toBeUndefined();
    expect(msg.fields[55]).toEqual(ICC);
    expect(wire(msg).fields[38]).toBe('Y1    ');
    expect(buildAdvice({ ...PURCHASE, approvalCode: 'Y1' }, { repeat: true }).mti).toBe('0221');
  });
});

describe('echo (0800)', () => {
  it('builds a network echo test', () => {
    const msg = buildEcho({ stan: 42, terminalId: 'TERM0001', transmittedAt: AT });
    expect(msg).toEqual({ mti: '0800', fields: { 7: '0612143015', 11: '000042', 41: 'TERM0001', 70: '301' } });
    expect(wire(msg)).toEqual(msg);
  });
});

describe('responses', () => {
  it('maps request MTIs to response MTIs', () => {
    expect(responseMtiFor(MTI.authRequest)).toBe('0110');
    expect(responseMtiFor(MTI.financialRequest)).toBe('0210');
    expect(responseMtiFor(MTI.advice)).toBe('0230');
    expect(responseMtiFor(MTI.adviceRepeat)).toBe('0230');
    expect(responseMtiFor(MTI.reversal)).toBe('0410');
    expect(responseMtiFor(MTI.reversalRepeat)).toBe('0410');
    expect(responseMtiFor(MTI.networkRequest)).toBe('0810');
    for (const m of ['0210', '0810', '9999', '', 'constructor', '__proto__']) expect(responseMtiFor(m)).toBeUndefined();
  });

  it('echoes the transaction fields but never card data', () => {
    const request = buildFinancialRequest({ ...PURCHASE, originalStan: 5 });
    request.fields[52] = new Uint8Array(8);
    const res = buildResponse(request, { responseCode: '00', approvalCode: 'A1B2C3', rrn: '612345678901' });
    expect(res.mti).toBe('0210');
    for (const n of [3, 4, 7, 11, 12, 13, 41, 42, 49]) expect(res.fields[n]).toBe(request.fields[n]);
    for (const n of [2, 14, 22, 25, 35, 52, 55, 62]) expect(res.fields[n]).toBeUndefined();
    expect(res.fields[37]).toBe('612345678901');
    expect(res.fields[38]).toBe('A1B2C3');
    expect(res.fields[39]).toBe('00');
    expect(wire(res)).toEqual(res);
  });

  it('echoes field 90 of a reversal and can restamp field 7', () => {
    const request = buildReversal(PURCHASE, { repeat: true, transmittedAt: LATER });
    const res = buildResponse(request, {
      responseCode: '00',
      transmittedAt: new Date(Date.UTC(2026, 5, 12, 14, 31, 1)),
    });
    expect(res.mti).toBe('0410');
    expect(res.fields[90]).toBe(request.fields[90]);
    expect(res.fields[7]).toBe('0612143101');
    expect(res.fields[2]).toBeUndefined();
  });

  it('refuses to answer a message that is not a request', () => {
    expect(isoError(() => buildResponse({ mti: '0210', fields: {} }, { responseCode: '00' }))).toMatchObject({
      code: 'bad-mti',
    });
  });

  it('parses a host answer read off the wire', () => {
    const request = buildFinancialRequest(PURCHASE);
    const res = wire(
      buildResponse(
        { ...request, fields: { ...request.fields, 41: 'T1' } },
        { responseCode: '51', rrn: '612345678901' },
      ),
    );
    expect(res.fields[41]).toBe('T1      ');
    expect(parseResponse(res)).toEqual({
      mti: '0210',
      stan: 123,
      terminalId: 'T1',
      responseCode: '51',
      rrn: '612345678901',
      amount: 1234,
      currency: '978',
      processingCode: '000000',
      transmittedAt: '0612143015',
    });
  });

  it('parses a minimal echo answer', () => {
    const res = wire(
      buildResponse(buildEcho({ stan: 9, terminalId: 'TERM0001', transmittedAt: AT }), { responseCode: '00' }),
    );
    expect(parseResponse(res)).toEqual({
      mti: '0810',
      stan: 9,
      terminalId: 'TERM0001',
      responseCode: '00',
      transmittedAt: '0612143015',
    });
  });

  it.each([11, 39, 41])('reports missing field %i', (n) => {
    const res = buildResponse(buildFinancialRequest(PURCHASE), { responseCode: '00' });
    delete res.fields[n];
    const err = isoError(() => parseResponse(res));
    expect(err.code).toBe('missing-field');
    expect(err.field).toBe(n);
    expect(err.offset).toBe(-1);
    expect(err.message).toBe(`field ${n}: required in a response but missing`);
  });

  it('rejects a request MTI', () => {
    const err = isoError(() => parseResponse(buildFinancialRequest(PURCHASE)));
    expect(err.code).toBe('bad-mti');
  });

  it('rejects a non-numeric STAN in a hand-built message', () => {
    const err = isoError(() => parseResponse({ mti: '0210', fields: { 11: 'ABC', 39: '00', 41: 'T' } }));
    expect(err).toMatchObject({ code: 'bad-format', field: 11 });
  });
});

describe('correlationKey', () => {
  it('matches a request with its response', () => {
    const request = buildFinancialRequest({ ...PURCHASE, terminalId: 'T1' });
    const response = wire(buildResponse(request, { responseCode: '00' }));
    expect(correlationKey(request)).toBe('T1/000123');
    expect(correlationKey(response)).toBe('T1/000123');
  });

  it('is undefined when field 11 or 41 is missing', () => {
    expect(correlationKey({ mti: '0210', fields: { 11: '000001' } })).toBeUndefined();
    expect(correlationKey({ mti: '0210', fields: { 41: 'T1' } })).toBeUndefined();
  });
});

describe('response code table', () => {
  it('has unique two-character codes with a meaning', () => {
    for (const r of RESPONSE_CODES) {
      expect(r.code).toMatch(/^[0-9A-Z]{2}$/);
      expect(r.meaning.length).toBeGreaterThan(0);
    }
    expect(new Set(RESPONSE_CODES.map((r) => r.code)).size).toBe(RESPONSE_CODES.length);
  });

  it('covers the codes the terminal handles', () => {
    const required = [
      '00',
      '01',
      '03',
      '05',
      '12',
      '13',
      '14',
      '25',
      '30',
      '41',
      '43',
      '51',
      '54',
      '55',
      '57',
      '58',
      '61',
      '65',
      '68',
      '75',
      '76',
      '91',
      '94',
      '96',
    ];
    for (const code of required) expect(describeResponseCode(code), code).toBeDefined();
  });

  it('classifies outcomes', () => {
    expect(describeResponseCode('00')).toEqual({ code: '00', meaning: 'Approved', class: 'approved' });
    expect(describeResponseCode('05')?.class).toBe('declined');
    expect(describeResponseCode('51')?.meaning).toBe('Insufficient funds');
    expect(describeResponseCode('91')?.class).toBe('retry-later');
    expect(describeResponseCode('30')?.class).toBe('error');
    expect(describeResponseCode('XX')).toBeUndefined();
    expect(describeResponseCode('toString')).toBeUndefined();
  });
});
