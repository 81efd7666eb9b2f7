import { describe, expect, it } from 'vitest';
import { CARD_READER_FAULT_CODES } from '../../hal/card-reader/contract.js';
import { DISPLAY_FAULT_CODES } from '../../hal/display/contract.js';
import { NETWORK_FAULT_CODES } from '../../hal/network/contract.js';
import { PRINTER_FAULT_CODES } from '../../hal/printer/contract.js';
import {
  ANOMALIES,
  ANOMALY_CLASSES,
  HOST_LINK_FAULT_CODES,
  OPERATOR_ACTIONS,
  TEXT_MAX,
  TITLE_MAX,
  anomalyByCode,
  anomalyGuideMarkdown,
  anomalyByName,
  anomalyForDecline,
  anomalyForDeviceFault,
  anomalyForResponse,
  renderAnomalyScreen,
  renderAnomalySlip,
  type AnomalyClass,
} from '../../src/anomaly/index.js';
import { RESPONSE_CODES } from '../../src/iso8583/response-codes.js';

const RANGE_CLASSES: Record<string, AnomalyClass[]> = {
  '1': ['host-timeout', 'network-failure'],
  '2': ['declined'],
  '3': ['hardware-fault'],
  '4': ['operator-error'],
  '5': ['duplicate', 'unauthorized', 'suspected-fraud'],
  '6': ['system-fault', 'data-error'],
};

describe('anomaly table', () => {
  it('has unique codes and names in the documented ranges', () => {
    expect(new Set(ANOMALIES.map((a) => a.code)).size).toBe(ANOMALIES.length);
    expect(new Set(ANOMALIES.map((a) => a.name)).size).toBe(ANOMALIES.length);
    for (const a of ANOMALIES) {
      expect(a.code).toMatch(/^E[1-6]\d\d$/);
      expect(a.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(RANGE_CLASSES[a.code[1]!], `${a.code} ${a.class}`).toContain(a.class);
    }
  });

  it('covers every class', () => {
    for (const cls of ANOMALY_CLASSES)
      expect(
        ANOMALIES.some((a) => a.class === cls),
        cls,
      ).toBe(true);
  });

  it('keeps screen texts within the display limits and documents support', () => {
    for (const a of ANOMALIES) {
      expect(a.title.length, `${a.code} title`).toBeLessThanOrEqual(TITLE_MAX);
      expect(a.message.length, `${a.code} message`).toBeLessThanOrEqual(TEXT_MAX);
      expect(a.actionText.length, `${a.code} actionText`).toBeLessThanOrEqual(TEXT_MAX);
      expect(a.title.length * a.message.length * a.actionText.length).toBeGreaterThan(0);
      expect(a.support.length).toBeGreaterThan(20);
      expect(OPERATOR_ACTIONS).toContain(a.action);
    }
  });

  it('has the names the machines raise', () => {
    for (const name of [
      'bad-amount',
      'unauthorized-operation',
      'unknown-original',
      'card-timeout',
      'reader-read-failed',
      'declined',
      'cancelled-by-operator',
      'storage-fault',
      'system-fault',
      'printer-paper-near-end',
      'host-timeout',
      'malformed-response',
      'mismatched-response',
      'link-lost',
      'network-failure',
      'crash-recovered',
    ] as const) {
      expect(anomalyByName(name).name).toBe(name);
    }
    expect(() => anomalyByName('nope' as never)).toThrow(RangeError);
  });

  it('finds by code, case-insensitively', () => {
    expect(anomalyByCode('E301')?.name).toBe('printer-paper-out');
    expect(anomalyByCode('e301')?.name).toBe('printer-paper-out');
    expect(anomalyByCode('E999')).toBeUndefined();
  });

  it('marks tamper critical and paper near end a warning', () => {
    expect(anomalyByName('reader-tamper').severity).toBe('critical');
    expect(anomalyByName('printer-paper-near-end').severity).toBe('warning');
  });
});

describe('device faults', () => {
  const generic = anomalyByName('hardware-fault');
  // Not device malfunctions: nobody presented a card, or someone cancelled.
  const notHardware: Record<string, string> = {
    'card-reader/timeout': 'card-timeout',
    'card-reader/cancelled': 'cancelled-by-operator',
  };
  const devices = [
    ['card-reader', CARD_READER_FAULT_CODES],
    ['printer', PRINTER_FAULT_CODES],
    ['display', DISPLAY_FAULT_CODES],
    ['network', NETWORK_FAULT_CODES],
  ] as const;

  for (const [device, codes] of devices) {
    it(`maps every ${device} fault code to its own anomaly`, () => {
      for (const code of codes) {
        const def = anomalyForDeviceFault({ device, code });
        expect(def, `${device}/${code}`).not.toBe(generic);
        const expected = notHardware[`${device}/${code}`];
        if (expected) expect(def.name).toBe(expected);
        else expect(def.class, `${device}/${code}`).toBe('hardware-fault');
      }
    });
  }

  it('maps the printer warning and the host-link faults', () => {
    expect(anomalyForDeviceFault({ device: 'printer', code: 'paper-near-end' }).name).toBe('printer-paper-near-end');
    for (const code of HOST_LINK_FAULT_CODES)
      expect(anomalyForDeviceFault({ device: 'host-link', code })).not.toBe(generic);
    expect(anomalyForDeviceFault({ device: 'host-link', code: 'timeout' }).name).toBe('host-timeout');
    expect(anomalyForDeviceFault({ device: 'host-link', code: 'not-connected' }).class).toBe('network-failure');
  });

  it('maps unknown devices and codes to the generic hardware fault', () => {
    expect(anomalyForDeviceFault({ device: 'printer', code: 'on-fire' })).toBe(generic);
    expect(anomalyForDeviceFault({ device: 'scale', code: 'offline' })).toBe(generic);
    expect(anomalyForDeviceFault({ device: 'printer', code: 'toString' })).toBe(generic);
  });
});

describe('declines', () => {
  it('fills in the reason from the response code table', () => {
    const def = anomalyForDecline('05');
    expect(def.class).toBe('declined');
    expect(def.message).toBe('Declined: 05 Do not honour');
    expect(def.code).toBe('E201');
  });

  it('uses the specific decline anomalies', () => {
    expect(anomalyForDecline('51').name).toBe('declined-funds');
    expect(anomalyForDecline('54').name).toBe('declined-expired');
    expect(anomalyForDecline('55').name).toBe('declined-pin');
    expect(anomalyForDecline('01').name).toBe('declined-refer');
    expect(anomalyForDecline('43').name).toBe('declined-pickup');
  });

  it('gives every declining response code a declined anomaly naming its reason', () => {
    for (const rc of RESPONSE_CODES.filter((r) => ['declined', 'refer', 'pick-up'].includes(r.class))) {
      const def = anomalyForDecline(rc.code);
      expect(def.class).toBe('declined');
      expect(def.message.length).toBeLessThanOrEqual(TEXT_MAX);
      expect(def.message).toContain(rc.code);
      expect(def.message).toContain(rc.meaning.slice(0, 20));
    }
  });

  it('handles an unknown code without throwing', () => {
    expect(anomalyForDecline('Q7').message).toBe('Declined: Q7 Unknown reason');
  });

  it('leaves the table entries untouched', () => {
    anomalyForDecline('51');
    expect(anomalyByName('declined-funds').message).toBe('Declined: insufficient funds or limit');
  });

  it('routes any response code by its outcome', () => {
    expect(anomalyForResponse('00')).toBeUndefined();
    expect(anomalyForResponse('05')?.class).toBe('declined');
    expect(anomalyForResponse('91')?.name).toBe('issuer-unavailable');
    expect(anomalyForResponse('30')?.name).toBe('host-rejected');
    expect(anomalyForResponse('ZZ')?.name).toBe('unknown-response-code');
    expect(anomalyForResponse('ZZ')?.message).toContain('ZZ');
  });
});

describe('error screen and slip', () => {
  it('shows message, reason and action with the code', () => {
    const screen = renderAnomalyScreen(anomalyByName('printer-paper-out'), { reason: 'paper end sensor' });
    expect(screen).toEqual({
      title: 'Paper out',
      lines: ['The printer is out of paper', 'paper end sensor', 'Load a new paper roll, then reprint'],
      code: 'E301',
      severity: 'error',
    });
  });

  it('maps critical to the error picture and skips a reason already in the message', () => {
    expect(renderAnomalyScreen(anomalyByName('reader-tamper')).severity).toBe('error');
    const decline = anomalyForDecline('51');
    expect(renderAnomalyScreen(decline, { reason: '51 Insufficient funds' }).lines).toEqual([
      decline.message,
      decline.actionText,
    ]);
    expect(renderAnomalyScreen(anomalyByName('card-timeout')).severity).toBe('info');
  });

  it('prints a slip with the transaction facts and the masked card only', () => {
    const def = anomalyByName('host-timeout');
    const slip = renderAnomalySlip(
      def,
      {
        at: Date.UTC(2024, 4, 1, 12, 30, 5),
        txnRef: 'ref-1',
        stan: 42,
        amount: 1234,
        currency: '978',
        maskedPan: '411111******1111',
        message: 'The bank did not answer in time: 30000 ms',
      },
      { timeZone: 'UTC' },
    );
    expect(slip.cut).toBe(true);
    const text = slip.lines.map((l) => ('text' in l ? l.text : '---')).join('\n');
    expect(text).toContain('ANOMALY E101');
    expect(text).toContain('Time: 2024-05-01 12:30:05 UTC');
    expect(text).toContain('STAN: 000042');
    expect(text).toContain('Amount: 12.34 EUR');
    expect(text).toContain('Card: 411111******1111');
    expect(text).toContain('30000 ms');
    expect(text).toContain(def.actionText);
  });
});

describe('README guide', () => {
  it('has one row per anomaly', () => {
    const lines = anomalyGuideMarkdown().trimEnd().split('\n');
    expect(lines).toHaveLength(ANOMALIES.length + 2);
    expect(lines[2]).toMatch(/^\| E101 \| `host-timeout` \|/);
  });
});
