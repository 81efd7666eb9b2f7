/** The one classifier: response codes by class and code, host errors and self-test results to taxonomy anomalies. */
import { describe, expect, it } from 'vitest';
import {
  anomalyByName,
  anomalyForDeviceFault,
  anomalyForHostError,
  anomalyForResponse,
  anomalyForSelfTest,
  responseAnomalyName,
  type AnomalyName,
} from '../../src/anomaly/index.js';
import type { HostErrorCode } from '../../src/vocabulary/index.js';
import { RESPONSE_CODES, type ResponseClass } from '../../src/iso8583/index.js';
import { EVERY_TWO_CHARACTER_CODE } from '../support/field39.js';

const BY_CLASS: Readonly<Record<ResponseClass, AnomalyName | undefined>> = {
  approved: undefined,
  'partially-approved': undefined,
  declined: 'declined',
  refer: 'declined-refer',
  'pick-up': 'declined-pickup',
  'retry-later': 'issuer-unavailable',
  error: 'host-rejected',
};
/** Declines with their own anomaly (the taxonomy's support texts name these codes). */
const SPECIFIC: Readonly<Record<string, AnomalyName>> = {
  '51': 'declined-funds',
  '61': 'declined-funds',
  '65': 'declined-funds',
  '54': 'declined-expired',
  '55': 'declined-pin',
  '75': 'declined-pin',
  '59': 'declined-pickup',
};

describe('anomaly classifier', () => {
  it('names the anomaly of every table code by its class, and of its own code where the taxonomy has one', () => {
    for (const r of RESPONSE_CODES)
      expect(responseAnomalyName(r.code), r.code).toBe(SPECIFIC[r.code] ?? BY_CLASS[r.class]);
  });

  it('gives the codes the issue names their anomaly', () => {
    expect(anomalyForResponse('51')?.code).toBe('E202');
    expect(anomalyForResponse('43')?.code).toBe('E206');
    expect(anomalyForResponse('41')?.code).toBe('E206');
    expect(anomalyForResponse('91')?.code).toBe('E105');
    expect(anomalyForResponse('96')?.code).toBe('E105');
    expect(anomalyForResponse('30')?.code).toBe('E609');
    expect(anomalyForResponse('94')?.code).toBe('E609');
    expect(anomalyForResponse('01')?.code).toBe('E205');
    for (const code of ['00', '08', '10', '11', '16']) expect(anomalyForResponse(code), code).toBeUndefined();
  });

  it('never leaves a two-character value without an answer: unknown codes are E607', () => {
    for (const code of EVERY_TWO_CHARACTER_CODE) {
      const name = responseAnomalyName(code);
      if (RESPONSE_CODES.some((r) => r.code === code)) continue;
      expect(name, code).toBe('unknown-response-code');
    }
  });

  it('maps every host error code', () => {
    const expected: Record<HostErrorCode, AnomalyName> = {
      'bad-request': 'system-fault',
      'not-connected': 'network-failure',
      timeout: 'host-timeout',
      'link-down': 'link-lost',
      cancelled: 'host-timeout',
      busy: 'system-fault',
      stopped: 'network-failure',
      'garbled-response': 'malformed-response',
      'mismatched-response': 'mismatched-response',
      'bad-mac': 'mac-failure',
      'no-mac-key': 'mac-key-missing',
    };
    for (const [code, name] of Object.entries(expected))
      expect(anomalyForHostError(code as HostErrorCode), code).toBe(name);
  });

  it('maps self-test results', () => {
    expect(anomalyForSelfTest({ component: 'printer', code: 'paper-out' })).toBe('printer-paper-out');
    expect(anomalyForSelfTest({ component: 'card-reader', code: 'not-connected' })).toBe('reader-fault');
    expect(anomalyForSelfTest({ component: 'storage', code: 'low-space' })).toBe('storage-fault');
    expect(anomalyForSelfTest({ component: 'clock', code: 'skew' })).toBe('clock-skew');
    expect(anomalyForSelfTest({ component: 'host', code: 'unreachable' })).toBe('network-failure');
    expect(anomalyForSelfTest({ component: 'host', code: 'echo-refused' })).toBe('host-rejected');
    expect(anomalyForSelfTest({ component: 'host', code: 'timeout' })).toBe('host-timeout');
  });

  it('keeps names typed: an unknown one does not compile', () => {
    // @ts-expect-error 'no-such-anomaly' is not an AnomalyName
    expect(() => anomalyByName('no-such-anomaly')).toThrow(RangeError);
  });
});

describe('PIN pad faults', () => {
  it("names the cardholder's cancel and timeout as theirs, and a tampered pad as tamper", () => {
    expect(anomalyForDeviceFault({ device: 'pin-pad', code: 'cancelled' }).name).toBe('cancelled-by-operator');
    expect(anomalyForDeviceFault({ device: 'pin-pad', code: 'timeout' }).name).toBe('card-timeout');
    expect(anomalyForDeviceFault({ device: 'pin-pad', code: 'tamper' }).name).toBe('reader-tamper');
    expect(anomalyForDeviceFault({ device: 'pin-pad', code: 'no-keys' }).name).toBe('hardware-fault');
  });
});
