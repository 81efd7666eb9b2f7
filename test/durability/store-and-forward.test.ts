/**
 * Store-and-forward end to end: offline approval within the configured limits when the host cannot be asked, card
 * data sealed at rest, and forwarding in order as advices when the host is back. The assembled terminal, the
 * embedded host simulator on loopback and a ManualClock.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { startTerminalApp } from '../../src/app/compose.js';
import { VaultError } from '../../src/durability/card-vault.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';
import {
  FORWARDING,
  RESPONSE_TIMEOUT_MS,
  VISA_PAN,
  anomalyCodes,
  at,
  bootRig,
  durabilityConfig,
  hostBack,
  hostDown,
  journalPath,
  newDataDir,
  printedText,
  stopAll,
  type Rig,
} from './harness.js';

afterEach(stopAll);

/** Lets the forwarder work (clock at a standstill) until `condition` holds. */
async function forwarderUntil(rig: Rig, condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await rig.clock.advance(0);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  expect(condition(), what).toBe(true);
}

function fileBytes(path: string): Buffer {
  return existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
}

describe('offline approval when the host cannot be reached', () => {
  it('approves a chip sale under the floor limit offline, queues it sealed, and prints APPROVED OFFLINE', async () => {
    const rig = await bootRig();
    await hostDown(rig);
    const before = rig.ledger().length;

    const result = await rig.sale(1_500);
    expect(result).toMatchObject({
      type: 'result',
      outcome: 'offline-approved',
      responseCode: 'Y1',
      amount: 1_500,
      maskedPan: '476173******0010',
    });
    const stan = result['stan'] as number;
    expect(result['approvalCode']).toBe(`Y1${String(stan).padStart(4, '0')}`);
    expect(rig.ledger()).toHaveLength(before);

    const status = await rig.status();
    expect(status).toMatchObject({
      offlineQueue: { count: 1, total: 1_500, oldestAgeMs: 0 },
      pendingReversals: 0,
      journal: { safQueued: 1, inFlight: 0 },
    });
    const [item] = rig.app.journal.saf.queue();
    expect(item).toMatchObject({
      txnRef: result['txnRef'],
      stan,
      amount: 1_500,
      approvalCode: result['approvalCode'],
      entryMode: 'chip',
      state: 'queued',
      attempts: 0,
    });
    expect(Buffer.isBuffer(item!.cardBlob) && item!.cardBlob.length).toBeGreaterThan(28);
    // The request never left, so nothing is owed: the reversal armed for it was released.
    expect(rig.app.journal.reversals.forTransaction(result['txnRef'] as string)?.state ?? 'cleared').toBe('cleared');

    const printed = printedText(rig);
    expect(printed).toContain('APPROVED OFFLINE');
    expect(printed).not.toContain(VISA_PAN);

    // Neither the database nor its write-ahead log hold the card number in clear (the masked one is there).
    const db = fileBytes(journalPath(rig.dataDir));
    const wal = fileBytes(`${journalPath(rig.dataDir)}-wal`);
    expect(db.length + wal.length).toBeGreaterThan(0);
    const everything = Buffer.concat([db, wal]);
    expect(everything.includes('476173******0010')).toBe(true);
    expect(db.includes(VISA_PAN)).toBe(false);
    expect(wal.includes(VISA_PAN)).toBe(false);
    expect(everything.includes(Buffer.from(VISA_PAN, 'utf16le'))).toBe(false);
  });

  it('goes offline without asking the host when the network monitor reports the link down', async () => {
    const rig = await bootRig();
    rig.app.mocks.network!.setState({ link: 'down' });
    const before = rig.ledger().length;

    const result = await rig.sale(2_000, 'mastercard');
    expect(result).toMatchObject({ outcome: 'offline-approved', responseCode: 'Y1', entryMode: 'contactless' });
    expect(result['responseText']).toMatch(/network link down/);
    expect(rig.ledger()).toHaveLength(before);
    expect(rig.app.hostSim!.totals()).toMatchObject({ approvedCount: 0, adviceCount: 0 });
    // No request, no reversal of any kind.
    expect(rig.app.journal.reversals.forTransaction(result['txnRef'] as string)).toBeUndefined();
    expect(await rig.status()).toMatchObject({ offlineQueue: { count: 1, total: 2_000 } });
  });

  it('forwards the advice as soon as the network monitor reports the link back, not at the next periodic pass', async () => {
    const rig = await bootRig();
    // The pass due at boot has run: the next periodic one is a full interval away.
    await rig.clock.advance(1_000);
    rig.app.mocks.network!.setState({ link: 'down' });
    const result = await rig.sale(2_100, 'mastercard');
    expect(result).toMatchObject({ outcome: 'offline-approved' });
    // The host connection never dropped: only the monitor says the link is back.
    rig.app.mocks.network!.setState({ link: 'up' });
    await forwarderUntil(rig, () => rig.received('0220').some((e) => e.amount === 2_100), 'advice sent at once');
    expect(rig.clock.now() - at(rig.received('0220').at(-1)!)).toBeLessThan(FORWARDING.intervalMs);
    await forwarderUntil(rig, () => rig.app.journal.saf.queue().length === 0, 'advice forwarded');
  });
});

describe('offline limits', () => {
  /** Declined by the terminal (Z3), a network-failure anomaly E102 with the reason, nothing queued for it. */
  function expectDeclinedOffline(rig: Rig, result: Record<string, unknown>, reason: RegExp): void {
    expect(result).toMatchObject({
      outcome: 'declined',
      responseCode: 'Z3',
      anomaly: { code: 'E102', name: 'network-failure' },
    });
    expect(result['responseText']).toMatch(reason);
    expect(result['approvalCode']).toBeUndefined();
    const anomalies = rig.app.journal.anomalies.list({ code: 'E102' }).filter((a) => a.txnRef === result['txnRef']);
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]!.message).toMatch(reason);
    expect(rig.app.journal.saf.queue().map((i) => i.txnRef)).not.toContain(result['txnRef']);
    expect(rig.app.journal.transactions.get(result['txnRef'] as string)).toMatchObject({
      outcome: 'declined',
      anomalyCode: 'E102',
    });
  }

  it('declines over the floor limit and a swiped card', async () => {
    const rig = await bootRig({ offline: { floorLimit: 5_000 } });
    rig.app.mocks.network!.setState({ link: 'down' });

    expectDeclinedOffline(rig, await rig.sale(5_001), /over the offline floor limit 5000/);
    expectDeclinedOffline(rig, await rig.sale(100, 'swipe-visa'), /swipe cards are not accepted offline/);
    expect(await rig.sale(5_000)).toMatchObject({ outcome: 'offline-approved' });
    expect(rig.app.journal.saf.stats()).toMatchObject({ count: 1, total: 5_000 });
  });

  it('declines past the maximum offline total, then past the maximum count', async () => {
    const rig = await bootRig({ offline: { floorLimit: 5_000, maxCount: 3, maxTotal: 6_000 } });
    rig.app.mocks.network!.setState({ link: 'down' });

    expect(await rig.sale(2_500)).toMatchObject({ outcome: 'offline-approved' });
    expect(await rig.sale(2_500)).toMatchObject({ outcome: 'offline-approved' });
    expectDeclinedOffline(rig, await rig.sale(1_500), /offline total would exceed 6000/);
    // Up to the total exactly is allowed.
    expect(await rig.sale(1_000)).toMatchObject({ outcome: 'offline-approved' });
    expectDeclinedOffline(rig, await rig.sale(1), /offline queue is full \(3 of 3\)/);
    expect(await rig.status()).toMatchObject({ offlineQueue: { count: 3, total: 6_000 } });
  });

  it('declines while the oldest queued sale is older than maxAgeMs', async () => {
    const rig = await bootRig({ offline: { maxAgeMs: 3_600_000 } });
    await hostDown(rig);
    expect(await rig.sale(1_000)).toMatchObject({ outcome: 'offline-approved' });

    await rig.clock.advance(3_600_000);
    // Exactly at the limit is still allowed...
    expect(await rig.sale(1_100)).toMatchObject({ outcome: 'offline-approved' });
    await rig.clock.advance(1);
    // ...one millisecond later it is not.
    expectDeclinedOffline(rig, await rig.sale(1_200), /oldest offline sale is older than 1 h/);
    const status = await rig.status();
    expect(status).toMatchObject({ offlineQueue: { count: 2, total: 2_100, oldestAgeMs: 3_600_001 } });
  });

  it('declines a refund offline when refunds are not allowed', async () => {
    const rig = await bootRig({ offline: { allowRefunds: false } });
    rig.app.mocks.network!.setState({ link: 'down' });
    const result = await rig.refund(1_000);
    expect(result).toMatchObject({ kind: 'refund' });
    expectDeclinedOffline(rig, result, /refunds need the host/);
  });
});

describe('forwarding when the host is back', () => {
  it('forwards the queue in order as 0220, removing each item only after its answer; a rejected advice is set aside without blocking', async () => {
    const rig = await bootRig();
    await hostDown(rig);
    const sales = [];
    for (const [amount, card] of [
      [1_000, 'visa'],
      [1_100, 'insufficient-funds'],
      [1_200, 'mastercard'],
    ] as const) {
      const result = await rig.sale(amount, card);
      expect(result).toMatchObject({ outcome: 'offline-approved' });
      sales.push(result);
    }
    const queue = rig.app.journal.saf.queue();
    expect(queue.map((i) => i.txnRef)).toEqual(sales.map((s) => s['txnRef']));
    const stans = queue.map((i) => i.stan);
    expect(stans).toEqual([...stans].sort((a, b) => a - b));

    await hostBack(rig);
    await forwarderUntil(rig, () => rig.app.journal.saf.stats().count === 0, 'queue drained');

    const advices = rig.ledger().filter((e) => e.dir === 'in' && (e.mti === '0220' || e.mti === '0221'));
    expect(advices.map((e) => [e.mti, Number(e.stan), e.amount])).toEqual([
      ['0220', stans[0], 1_000],
      ['0220', stans[1], 1_100],
      ['0220', stans[2], 1_200],
    ]);
    // The advice carries the card number (the host needs it): the vault opened the sealed blob.
    expect(advices.map((e) => e.pan)).toEqual(['476173******0010', '400000******5100', '541333******0011']);

    const [first, rejected, third] = queue.map((i) => rig.app.journal.saf.item(i.id)!);
    expect(first).toMatchObject({ state: 'forwarded', responseCode: '00', cardBlob: null });
    expect(third).toMatchObject({ state: 'forwarded', responseCode: '00', cardBlob: null });
    expect(rejected).toMatchObject({ state: 'set-aside', responseCode: '51', cardBlob: null });
    expect(rejected!.reason).toMatch(/host answered 51/);

    const e609 = rig.app.journal.anomalies.list({ code: 'E609' });
    expect(e609).toHaveLength(1);
    expect(e609[0]).toMatchObject({
      txnRef: sales[1]!['txnRef'],
      stan: stans[1],
      amount: 1_100,
      maskedPan: '400000******5100',
    });
    expect(rig.app.journal.transactions.events(sales[0]!['txnRef'] as string).map((e) => e.state)).toContain(
      'forwarded',
    );
    expect(rig.app.journal.transactions.events(sales[1]!['txnRef'] as string).map((e) => e.state)).toContain(
      'advice-rejected',
    );
    expect(anomalyCodes(rig, sales[2]!['txnRef'] as string)).toEqual([]);

    expect(rig.app.hostSim!.totals()).toMatchObject({
      adviceCount: 2,
      adviceAmount: 2_200,
      approvedCount: 0,
      duplicates: 0,
    });
    expect(await rig.status()).toMatchObject({
      offlineQueue: { count: 0, total: 0, oldestAgeMs: null },
      journal: { safQueued: 0 },
    });
  });

  /**
   * Two offline sales; the host comes back silent, so the first advice goes unanswered and fails at the response
   * timeout; then the host answers again and the forwarder retries on its own. Resolves with the queue items.
   */
  async function unansweredAdviceThenRetry(rig: Rig) {
    await hostDown(rig);
    const first = await rig.sale(1_000);
    const second = await rig.sale(1_300);
    const [a, b] = rig.app.journal.saf.queue();
    expect([a!.txnRef, b!.txnRef]).toEqual([first['txnRef'], second['txnRef']]);

    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    await hostBack(rig);
    await forwarderUntil(rig, () => rig.received('0220').length >= 1, 'first advice sent');
    const sentAt = at(rig.received('0220')[0]!);
    // Unanswered: still queued, card data still sealed.
    expect(rig.app.journal.saf.item(a!.id)).toMatchObject({ state: 'queued' });
    expect(Buffer.isBuffer(rig.app.journal.saf.item(a!.id)!.cardBlob)).toBe(true);

    await rig.clock.advance(sentAt + RESPONSE_TIMEOUT_MS - rig.clock.now());
    await until(() => /^timeout/.test(rig.app.journal.saf.item(a!.id)!.reason ?? ''), 'advice attempt failed');
    expect(rig.app.journal.saf.item(a!.id)).toMatchObject({ state: 'queued', attempts: 1 });
    expect(rig.app.journal.saf.stats()).toMatchObject({ count: 2, total: 2_300 });
    // The next one waited its turn.
    expect(rig.received('0220').map((e) => Number(e.stan))).toEqual([a!.stan]);
    expect(rig.received('0221')).toEqual([]);

    rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });
    // Retried by the forwarder on its own (backoff or periodic pass): no new trigger needed.
    for (let i = 0; i < 10 && rig.app.journal.saf.stats().count > 0; i++) {
      await rig.clock.advance(FORWARDING.intervalMs / 4);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await until(() => rig.app.journal.saf.stats().count === 0, 'queue drained');
    const advices = rig.ledger().filter((e) => e.dir === 'in' && (e.mti === '0220' || e.mti === '0221'));
    return { a: a!, b: b!, advices };
  }

  it('keeps an advice the host did not answer and repeats it as 0221; the host counts it once', async () => {
    const rig = await bootRig();
    const { a, b, advices } = await unansweredAdviceThenRetry(rig);
    expect(advices.filter((e) => Number(e.stan) === a.stan).map((e) => e.mti)).toEqual(['0220', '0221']);
    expect(advices.map((e) => Number(e.stan))).toEqual([a.stan, a.stan, b.stan]);
    expect(rig.app.journal.saf.item(a.id)).toMatchObject({ state: 'forwarded', responseCode: '00', cardBlob: null });
    expect(rig.app.journal.saf.item(b.id)).toMatchObject({ state: 'forwarded', responseCode: '00', cardBlob: null });
    expect(rig.app.hostSim!.totals()).toMatchObject({ adviceCount: 2, adviceAmount: 2_300, duplicates: 1 });
  });

  // The forwarder counts a batch's attempts before the first advice leaves; when one goes unanswered, the ones behind
  // it (never sent) must get their count back and later go out as a first 0220.
  it('sends an advice that never left as a first 0220, even after the one before it went unanswered', async () => {
    const rig = await bootRig();
    const { b, advices } = await unansweredAdviceThenRetry(rig);
    expect(advices.filter((e) => Number(e.stan) === b.stan).map((e) => e.mti)).toEqual(['0220']);
    expect(rig.app.journal.saf.item(b.id)).toMatchObject({ state: 'forwarded', responseCode: '00' });
  });
});

describe('the card vault key', () => {
  it('refuses to start without a key file when it may not create one', async () => {
    const dataDir = newDataDir();
    const config = durabilityConfig(dataDir, { createKeyIfMissing: false });
    const error = await startTerminalApp(config, { clock: new ManualClock(), log: createLogger('silent') }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe('key-missing');
    expect((error as VaultError).message).toContain(join(dataDir, 'keys', 'saf.key'));
    expect(existsSync(join(dataDir, 'keys', 'saf.key'))).toBe(false);
  });

  it('refuses to start with a key file group and others can read, saying chmod 600', async () => {
    const dataDir = newDataDir();
    const keyFile = join(dataDir, 'keys', 'saf.key');
    mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, Buffer.alloc(32, 9), { mode: 0o644 });
    chmodSync(keyFile, 0o644);
    const error = await startTerminalApp(durabilityConfig(dataDir), {
      clock: new ManualClock(),
      log: createLogger('silent'),
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe('key-permissions');
    expect((error as VaultError).message).toMatch(/mode 0644/);
    expect((error as VaultError).message).toMatch(/chmod 600/);

    // With the mode fixed, the same key starts the terminal.
    chmodSync(keyFile, 0o600);
    const rig = await bootRig({ dataDir });
    expect(await rig.status()).toMatchObject({ type: 'status', state: 'ready' });
  });
});
