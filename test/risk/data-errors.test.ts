import { describe, expect, it } from 'vitest';
import { describeResponseCode } from '../../src/iso8583/response-codes.js';
import { checkResponse, transmissionTime } from '../../src/risk/data-errors.js';
import { expectCleanEvidence } from './support.js';

const NOW = Date.UTC(2026, 4, 15, 10, 0, 0);
const options = { maxSkewMs: 5 * 60_000, knownCode: (c: string) => describeResponseCode(c) !== undefined };
const request = { stan: 123, amount: 1250, terminalId: 'TERM0001' };
const approved = { stan: 123, amount: 1250, terminalId: 'TERM0001', responseCode: '00', transmittedAt: '0515100000' };

describe('checkResponse', () => {
  it('finds nothing in a response that matches its request and our clock', () => {
    expect(checkResponse(request, approved, NOW, options)).toEqual([]);
    const { amount: _a, transmittedAt: _t, ...bare } = approved;
    expect(checkResponse(request, bare, NOW, options)).toEqual([]);
  });

  it('reports STAN, amount and terminal mismatches on an approval as money that may have moved', () => {
    const errors = checkResponse(
      request,
      { ...approved, stan: 124, amount: 1300, terminalId: 'TERM0002' },
      NOW,
      options,
    );
    expect(errors.map((e) => e.kind)).toEqual(['mismatched-stan', 'mismatched-amount', 'mismatched-terminal']);
    for (const e of errors) {
      expect(e.anomaly).toBe('mismatched-response');
      expect(e.moneyMayHaveMoved).toBe(true);
      expectCleanEvidence(e.evidence);
    }
    expect(errors[0]?.evidence).toEqual({ requestStan: 123, responseStan: 124, responseCode: '00', approval: true });
    expect(errors[1]?.evidence).toMatchObject({ requestAmount: 1250, responseAmount: 1300 });
    expect(errors[2]?.evidence).toMatchObject({ requestTerminalId: 'TERM0001', responseTerminalId: 'TERM0002' });
  });

  it('a mismatch on a decline moved no money', () => {
    const [error] = checkResponse(request, { ...approved, responseCode: '05', stan: 9 }, NOW, options);
    expect(error).toMatchObject({ kind: 'mismatched-stan', moneyMayHaveMoved: false, evidence: { approval: false } });
  });

  it('reports an unknown response code', () => {
    const errors = checkResponse(request, { ...approved, responseCode: 'Q7' }, NOW, options);
    expect(errors).toEqual([
      {
        kind: 'unknown-response-code',
        anomaly: 'unknown-response-code',
        evidence: { responseCode: 'Q7' },
        moneyMayHaveMoved: false,
      },
    ]);
  });

  it('reports clock skew beyond tolerance in either direction', () => {
    expect(checkResponse(request, { ...approved, transmittedAt: '0515100459' }, NOW, options)).toEqual([]);
    const [ahead] = checkResponse(request, { ...approved, transmittedAt: '0515101000' }, NOW, options);
    expect(ahead).toMatchObject({
      kind: 'clock-skew',
      anomaly: 'clock-skew',
      moneyMayHaveMoved: false,
      evidence: {
        skewMs: -10 * 60_000,
        maxSkewMs: 300_000,
        hostTime: '2026-05-15T10:10:00.000Z',
        terminalTime: '2026-05-15T10:00:00.000Z',
      },
    });
    const [behind] = checkResponse(request, { ...approved, transmittedAt: '0515090000' }, NOW, options);
    expect(behind?.evidence).toMatchObject({ skewMs: 60 * 60_000 });
  });

  it('handles the year rollover: host Dec 31 23:59 against our Jan 1 00:01 is two minutes, not a year', () => {
    const newYear = Date.UTC(2027, 0, 1, 0, 1, 0);
    const host = { ...approved, transmittedAt: '1231235900' };
    expect(checkResponse(request, host, newYear, options)).toEqual([]);
    expect(transmissionTime('1231235900', newYear)).toBe(Date.UTC(2026, 11, 31, 23, 59, 0));
    // And the other way round: the host already in the new year.
    expect(transmissionTime('0101000100', Date.UTC(2026, 11, 31, 23, 59, 0))).toBe(Date.UTC(2027, 0, 1, 0, 1, 0));
    const [skew] = checkResponse(request, host, newYear, { ...options, maxSkewMs: 60_000 });
    expect(skew?.evidence).toMatchObject({ skewMs: 120_000, hostTime: '2026-12-31T23:59:00.000Z' });
  });

  it('reads 29 February only in a leap year nearby, and reports a field 7 that is no date', () => {
    expect(transmissionTime('0229120000', Date.UTC(2028, 1, 28))).toBe(Date.UTC(2028, 1, 29, 12));
    expect(transmissionTime('0229120000', Date.UTC(2026, 5, 1))).toBeUndefined();
    for (const bad of ['1301000000', '0132000000', '0101240000', '0101006000', '01010000', 'abcdefghij']) {
      const [error] = checkResponse(request, { ...approved, transmittedAt: bad }, NOW, options);
      expect(error).toMatchObject({
        kind: 'malformed-transmission-time',
        anomaly: 'malformed-response',
        moneyMayHaveMoved: false,
      });
    }
  });
});
