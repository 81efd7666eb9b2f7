/**
 * Messages a real acquirer accepts, read back by an ISO 8583:1987 decoder that shares nothing with our codec
 * (test/support/iso8583-1987-decoder.ts): the reversal the forwarder sends from the journal (field 22 of the
 * original, PAN and expiry from the vault, a reason in field 39, field 90 with the configured institution ids), an
 * advice's field 7, field 22's PIN digit, a void's references, field 55 up to 999 bytes, the 0810 echoing field 70.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { MockDisplay } from '../../hal/display/mock.js';
import { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import { CardVault } from '../../src/durability/card-vault.js';
import { posEntryMode } from '../../src/durability/entry-mode.js';
import { Forwarder } from '../../src/durability/forwarder.js';
import type { AcquirerClient, HostReply } from '../../src/acquirer/acquirer-client.js';
import {
  buildEcho,
  buildFinancialRequest,
  buildResponse,
  pack,
  PROCESSING_CODE,
  REVERSAL_REASON,
  unpack,
  type IsoMessage,
} from '../../src/iso8583/index.js';
import { Journal } from '../../src/journal/index.js';
import { SensitiveCard } from '../../src/card/sensitive-card.js';
import { testCard } from '../../src/card/test-cards.js';
import { financialRequestFor } from '../../src/terminal/effects/index.js';
import { createLogger } from '../../src/util/log.js';
import { decode1987 } from '../support/iso8583-1987-decoder.js';

const SALE_AT = Date.UTC(2026, 5, 12, 14, 30, 15); // field 7 0612143015
const PAN = '4761739001010010';
const ACQUIRER = '123456';
const FORWARDER = '98765432101';

/** Stands in for the acquirer's front end: keeps the bytes of every request and answers 00. */
class WireAcquirer {
  readonly wire: Buffer[] = [];
  async send(request: IsoMessage): Promise<HostReply> {
    this.wire.push(pack(request));
    const response = buildResponse(request, { responseCode: '00' });
    return {
      mti: response.mti,
      stan: Number(request.fields[11]),
      terminalId: 'TERM0001',
      responseCode: '00',
      message: response,
    };
  }
}

function rig() {
  const clock = new ManualClock(SALE_AT);
  const journal = Journal.open(':memory:', { now: () => clock.now() });
  const log = createLogger('silent');
  const anomalies = new AnomalyRecorder(journal, new MockDisplay(), log);
  const vault = CardVault.open(join(mkdtempSync(join(tmpdir(), 'pos-vault-')), 'saf.key'), { createIfMissing: true });
  const acquirer = new WireAcquirer();
  const forwarder = new Forwarder({
    journal,
    acquirer: acquirer as unknown as AcquirerClient,
    vault,
    clock,
    log,
    anomalies,
    backoff: { initialDelayMs: 1000, maxDelayMs: 8000 },
    intervalMs: 60_000,
    responseTimeoutMs: 30_000,
  });
  return { clock, journal, vault, acquirer, forwarder };
}

function text(d: ReturnType<typeof decode1987>, n: number): string | undefined {
  const v = d.fields.get(n);
  return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('hex') : v;
}

describe('reversal (0400) as the forwarder sends it from the journal', () => {
  for (const [why, code] of Object.entries(REVERSAL_REASON)) {
    it(`carries field 22 of the original, PAN and expiry from the vault, reason ${code} (${why}) and field 90 with the institution ids`, async () => {
      const { clock, journal, vault, acquirer, forwarder } = rig();
      journal.transactions.begin({ txnRef: 't1', kind: 'sale', amount: 1234, currency: '978' });
      journal.reversals.arm({
        txnRef: 't1',
        stan: 42,
        originalMti: '0200',
        processingCode: '000000',
        amount: 1234,
        currency: '978',
        transmittedAt: SALE_AT,
        terminalId: 'TERM0001',
        merchantId: 'MERCHANT0000001',
        maskedPan: '476173******0010',
        posEntryMode: '052',
        acquiringInstitutionId: ACQUIRER,
        forwardingInstitutionId: FORWARDER,
        cardBlob: vault.seal({ pan: PAN, expiry: '2812', entryMode: 'chip' }, 't1'),
      });
      journal.reversals.markPending('t1', 'no answer', { reasonCode: code });
      await clock.advance(45_000);
      await forwarder.drain();

      expect(acquirer.wire).toHaveLength(1);
      const d = decode1987(acquirer.wire[0]!);
      expect(d.mti).toBe('0400');
      expect(text(d, 2)).toBe(PAN);
      expect(text(d, 14)).toBe('2812');
      expect(text(d, 22)).toBe('052');
      expect(text(d, 39)).toBe(code);
      expect(text(d, 11)).toBe('000042');
      expect(text(d, 7)).toBe('0612143100'); // this transmission
      expect(text(d, 32)).toBe(ACQUIRER);
      expect(text(d, 33)).toBe(FORWARDER);
      expect(text(d, 90)).toBe(`0200000042${'0612143015'}${'00000123456'}${FORWARDER}`);
      for (const secret of [35, 52, 55]) expect(d.fields.has(secret)).toBe(false);
      // Acknowledged: the sealed card goes with it.
      expect(journal.reversals.forTransaction('t1')).toMatchObject({ state: 'acknowledged', cardBlob: null });
    });
  }

  it('without configured ids: no field 32/33 and zeros in field 90; an unreadable blob still sends the reversal', async () => {
    const { clock, journal, acquirer, forwarder } = rig();
    const other = CardVault.open(join(mkdtempSync(join(tmpdir(), 'pos-vault-')), 'other.key'), {
      createIfMissing: true,
    });
    journal.transactions.begin({ txnRef: 't2', kind: 'sale', amount: 500, currency: '978' });
    journal.reversals.arm({
      txnRef: 't2',
      stan: 7,
      originalMti: '0200',
      processingCode: '000000',
      amount: 500,
      currency: '978',
      transmittedAt: SALE_AT,
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
      posEntryMode: '072',
      cardBlob: other.seal({ pan: PAN, expiry: '2812', entryMode: 'contactless' }, 't2'),
    });
    journal.reversals.markPending('t2', 'crashed');
    await clock.advance(1000);
    await forwarder.drain();
    const d = decode1987(acquirer.wire[0]!);
    expect([d.fields.has(2), d.fields.has(32), d.fields.has(33)]).toEqual([false, false, false]);
    expect(text(d, 22)).toBe('072');
    expect(text(d, 39)).toBe(REVERSAL_REASON.malfunction);
    expect(text(d, 90)).toBe(`0200000007${'0612143015'}${'0'.repeat(22)}`);
  });
});

describe('the sealed card of a reversal row', () => {
  const arm = (journal: Journal, txnRef: string, cardBlob: Buffer) => {
    journal.transactions.begin({ txnRef, kind: 'sale', amount: 1, currency: '978' });
    return journal.reversals.arm({
      txnRef,
      stan: 3,
      originalMti: '0200',
      processingCode: '000000',
      amount: 1,
      currency: '978',
      transmittedAt: SALE_AT,
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
      cardBlob,
    });
  };

  it('is erased when the answer clears the reversal, and a clear PAN is never taken for a blob', () => {
    const { journal, vault } = rig();
    expect(
      Buffer.isBuffer(arm(journal, 'c1', vault.seal({ pan: PAN, expiry: '2812', entryMode: 'chip' }, 'c1')).cardBlob),
    ).toBe(true);
    journal.recordAuthorization('c1', 'authorized', { stan: 3, responseCode: '05' });
    expect(journal.reversals.forTransaction('c1')).toMatchObject({ state: 'cleared', cardBlob: null });
    expect(() => arm(journal, 'c2', Buffer.from(JSON.stringify({ pan: PAN, expiry: '2812' })))).toThrow(
      /card-data|clear card data/,
    );
    expect(journal.reversals.forTransaction('c2')).toBeUndefined();
  });
});

describe('advice (0220)', () => {
  it("field 7 is the advice's own transmission time; fields 12/13 and 22 stay those of the sale", async () => {
    const { clock, journal, vault, acquirer, forwarder } = rig();
    journal.transactions.begin({ txnRef: 'o1', kind: 'sale', amount: 900, currency: '978' });
    journal.recordOfflineApproval(
      'o1',
      'offline-approved',
      { stan: 9, responseCode: 'Y1', approvalCode: 'Y10009', outcome: 'offline-approved' },
      {
        stan: 9,
        processingCode: '000000',
        amount: 900,
        currency: '978',
        approvalCode: 'Y10009',
        entryMode: 'chip',
        maskedPan: '476173******0010',
        transmittedAt: SALE_AT,
        terminalId: 'TERM0001',
        merchantId: 'MERCHANT0000001',
        posEntryMode: '051',
        acquiringInstitutionId: ACQUIRER,
        cardBlob: vault.seal({ pan: PAN, expiry: '2812', entryMode: 'chip' }, 'o1'),
      },
    );
    await clock.advance(3 * 3600_000);
    await forwarder.drain();
    const d = decode1987(acquirer.wire[0]!);
    expect(d.mti).toBe('0220');
    expect(text(d, 7)).toBe('0612173015');
    expect(text(d, 22)).toBe('051');
    expect(text(d, 32)).toBe(ACQUIRER);
    expect(text(d, 2)).toBe(PAN);
  });
});

describe("field 22's PIN digit tells the truth about the hardware", () => {
  const cases = [
    ['chip', '05'],
    ['contactless', '07'],
    ['swipe', '90'],
    ['fallback-swipe', '80'],
    ['manual', '01'],
  ] as const;
  for (const [entryMode, pan] of cases) {
    it(`${entryMode}: ${pan}2 without a PIN pad, ${pan}1 with one`, () => {
      expect(posEntryMode(entryMode, false)).toBe(`${pan}2`);
      expect(posEntryMode(entryMode, true)).toBe(`${pan}1`);
    });
  }

  it('the request built for a card says 2 unless a PIN pad is configured, and carries field 32 when configured', () => {
    const card = new SensitiveCard(testCard('visa')!);
    const input = { txnRef: 'r', kind: 'sale' as const, amount: 100, currency: '978', card };
    const identity = { terminalId: 'TERM0001', merchantId: 'MERCHANT0000001' };
    const plain = decode1987(pack(buildFinancialRequest(financialRequestFor(input, 1, identity, new Date(SALE_AT)))));
    expect(text(plain, 22)).toBe('052');
    expect(plain.fields.has(32)).toBe(false);
    const withPad = decode1987(
      pack(
        buildFinancialRequest(
          financialRequestFor(input, 1, identity, new Date(SALE_AT), {
            pinPad: true,
            acquiringInstitutionId: ACQUIRER,
          }),
        ),
      ),
    );
    expect(text(withPad, 22)).toBe('051');
    expect(text(withPad, 32)).toBe(ACQUIRER);
  });
});

describe('void (0200, processing code 02)', () => {
  it('names its original by RRN (37), approval code (38) and field 90 (MTI, STAN, date-time, institution ids)', () => {
    const card = new SensitiveCard(testCard('visa')!);
    const original = {
      txnRef: 's1',
      stan: 77,
      amount: 2500,
      currency: '978',
      approvalCode: 'A12345',
      rrn: '000000000077',
      requestMti: '0200',
      transmittedAt: SALE_AT,
    };
    const fields = financialRequestFor(
      { txnRef: 'v1', kind: 'void', amount: 2500, currency: '978', card, original },
      78,
      { terminalId: 'TERM0001', merchantId: 'MERCHANT0000001' },
      new Date(SALE_AT + 600_000),
      { pinPad: false, acquiringInstitutionId: ACQUIRER },
    );
    const d = decode1987(pack(buildFinancialRequest(fields)));
    expect(text(d, 3)).toBe(PROCESSING_CODE.void);
    expect(text(d, 11)).toBe('000078');
    expect(text(d, 37)).toBe('000000000077');
    expect(text(d, 38)).toBe('A12345');
    expect(text(d, 90)).toBe(`0200000077${'0612143015'}${'00000123456'}${'0'.repeat(11)}`);
  });

  it('an offline-approved original is named by its 0220', () => {
    const fields = financialRequestFor(
      {
        txnRef: 'v2',
        kind: 'void',
        amount: 900,
        currency: '978',
        original: {
          txnRef: 'o1',
          stan: 9,
          amount: 900,
          currency: '978',
          approvalCode: 'Y10009',
          requestMti: '0220',
          transmittedAt: SALE_AT,
        },
      },
      10,
      { terminalId: 'TERM0001', merchantId: 'MERCHANT0000001' },
      new Date(SALE_AT),
    );
    const d = decode1987(pack(buildFinancialRequest(fields)));
    expect(text(d, 90)?.slice(0, 10)).toBe('0220000009');
    expect(d.fields.has(37)).toBe(false);
  });

  it('a sale journaled before its time was kept: 37 and 38 still name it, field 90 is left out rather than guessed', () => {
    const fields = financialRequestFor(
      {
        txnRef: 'v3',
        kind: 'void',
        amount: 100,
        currency: '978',
        original: { txnRef: 'old', stan: 3, amount: 100, currency: '978', approvalCode: 'A00003', rrn: '000000000003' },
      },
      11,
      { terminalId: 'TERM0001', merchantId: 'MERCHANT0000001' },
      new Date(SALE_AT),
    );
    const d = decode1987(pack(buildFinancialRequest(fields)));
    expect([text(d, 37), text(d, 38), d.fields.has(90)]).toEqual(['000000000003', 'A00003', false]);
  });

  it('the journal keeps what a void needs: request MTI and transmission time of each sale', () => {
    const { journal, vault } = rig();
    journal.transactions.begin({ txnRef: 'a', kind: 'sale', amount: 1, currency: '978' });
    journal.reversals.arm({
      txnRef: 'a',
      stan: 1,
      originalMti: '0200',
      processingCode: '000000',
      amount: 1,
      currency: '978',
      transmittedAt: SALE_AT,
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
    });
    journal.recordAuthorization('a', 'authorized', {
      stan: 1,
      responseCode: '00',
      approvalCode: 'A00001',
      rrn: '000000000001',
    });
    expect(journal.transactions.get('a')).toMatchObject({
      requestMti: '0200',
      transmittedAt: SALE_AT,
      rrn: '000000000001',
      approvalCode: 'A00001',
    });
    expect(journal.reversals.forTransaction('a')).toMatchObject({ state: 'cleared', cardBlob: null });
    journal.transactions.begin({ txnRef: 'b', kind: 'sale', amount: 1, currency: '978' });
    journal.recordOfflineApproval(
      'b',
      'offline-approved',
      { stan: 2 },
      {
        stan: 2,
        processingCode: '000000',
        amount: 1,
        currency: '978',
        approvalCode: 'Y10002',
        entryMode: 'chip',
        maskedPan: '476173******0010',
        transmittedAt: SALE_AT + 5,
        terminalId: 'TERM0001',
        merchantId: 'MERCHANT0000001',
        cardBlob: vault.seal({ pan: PAN, expiry: '2812', entryMode: 'chip' }, 'b'),
      },
    );
    expect(journal.transactions.get('b')).toMatchObject({ requestMti: '0220', transmittedAt: SALE_AT + 5 });
  });
});

describe('field 55 and the 0810', () => {
  it('field 55 is LLLVAR up to 999 bytes, as in the standard', () => {
    for (const size of [255, 256, 999]) {
      const icc = new Uint8Array(size).map((_, i) => i & 0xff);
      const bytes = pack({ mti: '0200', fields: { 11: '000001', 55: icc } });
      expect(bytes.subarray(4 + 8 + 6, 4 + 8 + 6 + 3).toString('latin1')).toBe(String(size).padStart(3, '0'));
      expect(decode1987(bytes).fields.get(55)).toEqual(Buffer.from(icc));
      expect(unpack(bytes).fields[55]).toEqual(icc);
    }
    expect(() => pack({ mti: '0200', fields: { 11: '000001', 55: new Uint8Array(1000) } })).toThrow();
  });

  it('an answer to an 0800 echoes field 70', () => {
    const echo = buildEcho({ stan: 5, terminalId: 'TERM0001', transmittedAt: new Date(SALE_AT) });
    const d = decode1987(pack(buildResponse(echo, { responseCode: '00' })));
    expect(d.mti).toBe('0810');
    expect(text(d, 70)).toBe('301');
  });
});
