/**
 * Register request ids are not card numbers: a register that numbers its requests by epoch milliseconds gets a
 * Luhn-valid id about one time in ten, and each of those must start its sale. A card number used as an id, or
 * written into free text, is still refused wherever it could leak (journal, ECR replies).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig } from '../../src/config/index.js';
import { parseRequestLine } from '../../src/ecr/protocol.js';
import { EcrClient } from '../../src/ecr/client.js';
import { assertNoCardData, Journal, JournalError } from '../../src/journal/index.js';
import { testCard, testCardNames } from '../../src/card/test-cards.js';
import { createLogger } from '../../src/util/log.js';
import { luhnValidPan } from '../../src/util/pan.js';

/** 1,000 consecutive epoch-millisecond values from a fixed instant (2025-12-01T00:00:00Z). */
const START_MS = Date.UTC(2025, 11, 1);
const EPOCH_MS_IDS = Array.from({ length: 1000 }, (_, i) => String(START_MS + i));

/** A Luhn-valid number of `length` digits starting with `prefix`. */
function luhnNumber(prefix: string, length: number): string {
  const body = prefix.padEnd(length - 1, '7');
  for (let d = 0; d <= 9; d++) if (luhnValidPan(body + d)) return body + d;
  throw new Error('unreachable');
}

const TEST_CARD_PANS = [
  ...new Set(
    testCardNames()
      .map((n) => testCard(n)!.pan)
      .filter(luhnValidPan),
  ),
];
// One per scheme range, at every length that scheme issues.
const SCHEME_PANS = [
  luhnNumber('4', 13),
  luhnNumber('4', 16),
  luhnNumber('4', 19),
  luhnNumber('51', 16),
  luhnNumber('2221', 16),
  luhnNumber('2720', 16),
  luhnNumber('34', 15),
  luhnNumber('37', 15),
  luhnNumber('36', 14),
  luhnNumber('6011', 16),
  luhnNumber('65', 19),
  luhnNumber('3528', 16),
  luhnNumber('62', 19),
  luhnNumber('5018', 13),
  luhnNumber('2200', 16),
  luhnNumber('9792', 16),
  '4111111111111111',
  '5555555555554444',
  '378282246310005',
];

function refused(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (err instanceof JournalError && err.code === 'card-data-refused') return true;
    throw err;
  }
}

describe('ECR request ids and the card-data guard', () => {
  it('has about one Luhn-valid id in ten among 1,000 consecutive epoch-ms ids (the case that was refused)', () => {
    const valid = EPOCH_MS_IDS.filter(luhnValidPan).length;
    expect(valid).toBeGreaterThanOrEqual(90);
    expect(valid).toBeLessThanOrEqual(110);
  });

  it('journals a transaction for each of 1,000 consecutive epoch-ms request ids', () => {
    const journal = Journal.open(':memory:');
    try {
      const refusedIds = EPOCH_MS_IDS.filter((id, i) =>
        refused(() =>
          journal.transactions.begin({ txnRef: `t${i}`, kind: 'sale', amount: 100, currency: '978', ecrRequestId: id }),
        ),
      );
      expect(refusedIds).toEqual([]);
      expect(journal.counts().transactions).toBe(1000);
      expect(journal.transactions.findByEcrRequestId(EPOCH_MS_IDS[999]!)?.txnRef).toBe('t999');
    } finally {
      journal.close();
    }
  });

  it('takes every epoch-ms id (string or number) at the ECR protocol, and ids of other clocks too', () => {
    const microseconds = EPOCH_MS_IDS.slice(0, 200).map((id) => `${id}123`);
    const bad = [...EPOCH_MS_IDS, ...microseconds].filter((id) => {
      const asString = parseRequestLine(JSON.stringify({ id, cmd: 'sale', amount: 100 }));
      const asNumber = parseRequestLine(JSON.stringify({ id: Number(id), cmd: 'sale', amount: 100 }));
      return !asString.ok || !asNumber.ok;
    });
    expect(bad).toEqual([]);
  });

  it('still refuses every test card PAN and scheme PAN as a request id, in journal free text and under id keys', () => {
    expect(TEST_CARD_PANS.length).toBeGreaterThanOrEqual(6);
    const journal = Journal.open(':memory:');
    try {
      for (const [i, pan] of [...TEST_CARD_PANS, ...SCHEME_PANS].entries()) {
        const grouped = pan.length === 16 ? pan.replace(/(\d{4})(?=\d)/g, '$1 ') : pan;
        for (const id of [pan, `REQ-${pan}`, grouped]) {
          const parsed = parseRequestLine(JSON.stringify({ id, cmd: 'sale', amount: 100 }));
          expect(parsed.ok, id).toBe(false);
          expect(JSON.stringify(parsed), id).not.toContain(pan.slice(6));
          expect(
            refused(() =>
              journal.transactions.begin({
                txnRef: `p${i}-${id}`,
                kind: 'sale',
                amount: 1,
                currency: '978',
                ecrRequestId: id,
              }),
            ),
            id,
          ).toBe(true);
        }
        expect(
          refused(() => assertNoCardData({ reason: `card ${pan} declined` }, 'detail')),
          pan,
        ).toBe(true);
        expect(
          refused(() => assertNoCardData({ txnRef: pan, sentAt: pan, list: { ids: [pan] } }, 'detail')),
          pan,
        ).toBe(true);
      }
      // Free text stays strict: a Luhn-valid run of no known scheme is refused there, only identifiers get the IIN rule.
      expect(
        refused(() => assertNoCardData({ reason: `request ${EPOCH_MS_IDS.find(luhnValidPan)} failed` }, 'detail')),
      ).toBe(true);
    } finally {
      journal.close();
    }
  });

  it('does not echo a card number written into another field of a request', () => {
    for (const pan of TEST_CARD_PANS) {
      const parsed = parseRequestLine(JSON.stringify({ id: 'r1', cmd: 'sale', amount: pan }));
      expect(parsed.ok).toBe(false);
      expect(JSON.stringify(parsed)).not.toContain(pan);
    }
  });
});

describe('log lines', () => {
  it('keep an epoch-ms request id and mask a card number in a message, a reason or an id', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    const id = EPOCH_MS_IDS.find(luhnValidPan)!;
    for (const pan of TEST_CARD_PANS) {
      log.info({ ecrRequestId: id, reason: `declined ${pan}`, detail: { txnRef: pan } }, `card ${pan} seen`);
    }
    expect(lines).toHaveLength(TEST_CARD_PANS.length);
    expect(lines.every((line) => line.includes(`"ecrRequestId":"${id}"`))).toBe(true);
    for (const pan of TEST_CARD_PANS) expect(lines.join('\n')).not.toContain(pan);
    expect(lines[0]).toContain(`${TEST_CARD_PANS[0]!.slice(0, 6)}******${TEST_CARD_PANS[0]!.slice(-4)}`);
  });
});

describe('ECR request ids end to end', () => {
  const running: Array<{ app: TerminalApp; client: EcrClient }> = [];
  afterEach(async () => {
    for (const { app, client } of running.splice(0)) {
      await client.close();
      await app.stop();
    }
  });

  it('starts a sale for each Luhn-valid epoch-ms id (the ones refused as internal before)', async () => {
    const { config } = loadConfig({ env: {} });
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-ids-'));
    const app = await startTerminalApp(
      {
        ...config,
        dataDir,
        host: { ...config.host, address: '127.0.0.1:0' },
        ecr: { ...config.ecr, port: 0, socketPath: null },
        mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
      },
      { log: createLogger('silent') },
    );
    const client = await EcrClient.connect({ port: app.ecr.port });
    running.push({ app, client });
    const ids = EPOCH_MS_IDS.filter(luhnValidPan).slice(0, 25);
    const outcomes: string[] = [];
    for (const id of ids) {
      const messages = await client.request({ id, cmd: 'sale', amount: 100 + outcomes.length }, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
        if (m.type === 'state' && m['state'] === 'confirmingDuplicate') void client.call({ cmd: 'confirm' });
      });
      outcomes.push(String(messages.at(-1)?.['outcome'] ?? messages.at(-1)?.['code']));
    }
    expect(outcomes).toEqual(ids.map(() => 'approved'));
    expect(ids.every((id) => app.journal.transactions.findByEcrRequestId(id)?.outcome === 'approved')).toBe(true);
  }, 60_000);

  it('starts a sale for every one of 1,000 consecutive epoch-ms ids sent by the register (each then cancelled)', async () => {
    const { config } = loadConfig({ env: {} });
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-ids-'));
    const app = await startTerminalApp(
      {
        ...config,
        dataDir,
        host: { ...config.host, address: '127.0.0.1:0' },
        ecr: { ...config.ecr, port: 0, socketPath: null },
        mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
      },
      { log: createLogger('silent') },
    );
    const client = await EcrClient.connect({ port: app.ecr.port });
    running.push({ app, client });
    const notStarted: string[] = [];
    for (const id of EPOCH_MS_IDS) {
      let started = false;
      const messages = await client.request({ id, cmd: 'sale', amount: 100 }, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard') {
          started = true;
          void client.call({ cmd: 'cancel' });
        }
      });
      if (!started || messages.at(-1)?.['outcome'] !== 'cancelled') notStarted.push(id);
    }
    expect(notStarted).toEqual([]);
    expect(app.journal.counts().transactions).toBe(EPOCH_MS_IDS.length);
  }, 120_000);
});
