import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { CARD_READER_FAULT_CODES, type CardData, type CardReaderFaultCode } from '../../../hal/card-reader/contract.js';
import { MockCardReader, type CardReaderOp } from '../../../hal/card-reader/mock.js';
import { expectFault, track } from '../expect-fault.js';

const chipCard: CardData = {
  entryMode: 'chip',
  pan: '4761739001010010',
  expiry: '2812',
  serviceCode: '201',
  iccData: new Uint8Array([0x9f, 0x02, 0x06]),
};
const swipeCard: CardData = { entryMode: 'swipe', pan: '5413330089010608', expiry: '2706', serviceCode: '101' };

let clock: ManualClock;
let reader: MockCardReader;

beforeEach(async () => {
  clock = new ManualClock();
  reader = new MockCardReader(clock, { model: 'RDR-7', firmware: '3.2.1', serial: 'SN42' });
  await reader.open();
});

describe('MockCardReader injected faults', () => {
  // One op per code; the Record type makes the table fail to compile when a code is added without a case.
  const where: Record<CardReaderFaultCode, CardReaderOp> = {
    'not-connected': 'open',
    timeout: 'wait',
    'read-failed': 'read',
    'card-removed': 'read',
    'chip-error': 'read',
    'unsupported-card': 'read',
    tamper: 'wait',
    busy: 'remove',
    cancelled: 'wait',
  };

  it('covers every fault code of the contract', () => {
    expect(Object.keys(where).sort()).toEqual([...CARD_READER_FAULT_CODES].sort());
  });

  it.each(CARD_READER_FAULT_CODES.map((code) => [code, where[code]] as const))(
    "rejects '%s' injected at op '%s'",
    async (code, op) => {
      reader.present(chipCard);
      reader.inject({ op, code });
      const call =
        op === 'open'
          ? reader.open()
          : op === 'wait'
            ? reader.waitForCard({ timeoutMs: 1000 })
            : op === 'read'
              ? reader.read()
              : reader.waitForRemoval({ timeoutMs: 1000 });
      const fault = await expectFault(call, 'card-reader', code);
      expect(fault.detail).toMatchObject({ injected: true });
      expect(reader.pendingFaults()).toEqual([]);
    },
  );

  it('rejects at once without waiting for the clock', async () => {
    reader.inject({ op: 'wait', code: 'timeout' });
    await expectFault(reader.waitForCard({ timeoutMs: 60_000 }), 'card-reader', 'timeout');
    expect(clock.pending()).toBe(0);
  });

  it('keeps a sticky fault until cleared', async () => {
    reader.present(swipeCard);
    reader.inject({ op: 'read', code: 'read-failed', times: Infinity });
    for (let i = 0; i < 3; i++) await expectFault(reader.read(), 'card-reader', 'read-failed');
    reader.clearFaults();
    await expect(reader.read()).resolves.toMatchObject({ pan: swipeCard.pan });
  });

  it('targets the nth call with atStep', async () => {
    reader.present(chipCard);
    reader.inject({ op: 'read', code: 'chip-error', atStep: 2 });
    await expect(reader.read()).resolves.toMatchObject({ entryMode: 'chip' });
    await expectFault(reader.read(), 'card-reader', 'chip-error');
    await expect(reader.read()).resolves.toMatchObject({ entryMode: 'chip' });
  });

  it('empties the reader when card-removed is injected', async () => {
    const removed: unknown[] = [];
    reader.on('card-removed', (e) => removed.push(e));
    reader.present(chipCard);
    reader.inject({ op: 'read', code: 'card-removed' });
    await expectFault(reader.read(), 'card-reader', 'card-removed');
    expect(reader.cardInReader).toBeUndefined();
    expect(removed).toHaveLength(1);
  });

  it('stays tampered after an injected tamper', async () => {
    const tampers: string[] = [];
    reader.on('tamper', (e) => tampers.push(e.reason));
    reader.inject({ op: 'wait', code: 'tamper' });
    await expectFault(reader.waitForCard({ timeoutMs: 100 }), 'card-reader', 'tamper');
    await expectFault(reader.info(), 'card-reader', 'tamper');
    expect(tampers).toEqual(['injected']);
    reader.clearTamper();
    await expect(reader.info()).resolves.toMatchObject({ model: 'RDR-7' });
  });
});

describe('MockCardReader behaviour', () => {
  it('reports configured info', async () => {
    await expect(reader.info()).resolves.toEqual({ model: 'RDR-7', firmware: '3.2.1', serial: 'SN42' });
  });

  it('rejects not-connected before open and after close', async () => {
    const closed = new MockCardReader(clock);
    await expectFault(closed.info(), 'card-reader', 'not-connected');
    await expectFault(closed.waitForCard({ timeoutMs: 10 }), 'card-reader', 'not-connected');
    await reader.close();
    await expectFault(reader.read(), 'card-reader', 'not-connected');
  });

  it('times out waiting for a card on the clock, not before', async () => {
    const wait = track(reader.waitForCard({ timeoutMs: 5000 }));
    await clock.advance(4999);
    expect(wait.settled).toBe(false);
    await clock.advance(1);
    await expectFault(wait.promise, 'card-reader', 'timeout');
    expect(clock.pending()).toBe(0);
  });

  it('resolves a wait when a card is presented, and drops the timer', async () => {
    const presented: string[] = [];
    reader.on('card-presented', (e) => presented.push(e.entryMode));
    const wait = reader.waitForCard({ timeoutMs: 5000 });
    await clock.advance(1000);
    reader.present(chipCard);
    await expect(wait).resolves.toEqual({ entryMode: 'chip' });
    expect(presented).toEqual(['chip']);
    expect(clock.pending()).toBe(0);
  });

  it('resolves at once when a card not yet read is already in the reader', async () => {
    // Issue 12 changed this case: a chip card inserted before the wait counts; a swipe made then is discarded (below).
    reader.present(chipCard);
    await expect(reader.waitForCard({ timeoutMs: 0 })).resolves.toEqual({ entryMode: 'chip' });
  });

  it('rejects cancelled when the signal aborts, and when already aborted', async () => {
    const ac = new AbortController();
    const wait = track(reader.waitForCard({ timeoutMs: 60_000, signal: ac.signal }));
    await clock.advance(10);
    expect(wait.settled).toBe(false);
    ac.abort();
    await expectFault(wait.promise, 'card-reader', 'cancelled');
    expect(clock.pending()).toBe(0);
    await expectFault(reader.waitForCard({ timeoutMs: 10, signal: ac.signal }), 'card-reader', 'cancelled');
  });

  it('rejects busy for a second concurrent wait', async () => {
    const first = reader.waitForCard({ timeoutMs: 1000 });
    await expectFault(reader.waitForCard({ timeoutMs: 1000 }), 'card-reader', 'busy');
    reader.present(chipCard);
    await expect(first).resolves.toEqual({ entryMode: 'chip' });
  });

  it('rejects card-removed when the card leaves during a read', async () => {
    const slow = new MockCardReader(clock, { readDurationMs: 300 });
    await slow.open();
    slow.present(chipCard);
    const read = track(slow.read());
    await clock.advance(100);
    expect(read.settled).toBe(false);
    slow.remove();
    await expectFault(read.promise, 'card-reader', 'card-removed');
    expect(clock.pending()).toBe(0);
  });

  it('completes a slow read after its duration', async () => {
    const slow = new MockCardReader(clock, { readDurationMs: 300 });
    await slow.open();
    slow.present(chipCard);
    const read = track(slow.read());
    await expectFault(slow.read(), 'card-reader', 'busy');
    await clock.advance(299);
    expect(read.settled).toBe(false);
    await clock.advance(1);
    await expect(read.promise).resolves.toMatchObject({ pan: chipCard.pan, expiry: '2812' });
  });

  it('rejects read-failed when there is no card', async () => {
    await expectFault(reader.read(), 'card-reader', 'read-failed');
  });

  it('hands out copies of the card data', async () => {
    reader.present(chipCard);
    const card = await reader.read();
    card.iccData?.fill(0);
    card.pan = '0';
    const again = await reader.read();
    expect(again.pan).toBe(chipCard.pan);
    expect([...(again.iccData ?? [])]).toEqual([0x9f, 0x02, 0x06]);
  });

  it('waits for removal, then admits the next queued card', async () => {
    const events: string[] = [];
    reader.on('card-presented', (e) => events.push(`presented:${e.entryMode}`));
    reader.on('card-removed', () => events.push('removed'));
    reader.present(chipCard);
    reader.present(swipeCard);
    expect(reader.cardInReader).toBe('chip');
    const removal = reader.waitForRemoval({ timeoutMs: 5000 });
    reader.remove();
    await expect(removal).resolves.toBeUndefined();
    expect(reader.cardInReader).toBe('swipe');
    expect(events).toEqual(['presented:chip', 'removed', 'presented:swipe']);
    await expect(reader.read()).resolves.toMatchObject({ entryMode: 'swipe' });
  });

  it('times out waiting for removal', async () => {
    reader.present(chipCard);
    const removal = track(reader.waitForRemoval({ timeoutMs: 2000 }));
    await clock.advance(2000);
    await expectFault(removal.promise, 'card-reader', 'timeout');
  });

  it('resolves removal at once when the reader is empty', async () => {
    await expect(reader.waitForRemoval({ timeoutMs: 0 })).resolves.toBeUndefined();
  });

  it('rejects pending calls with not-connected on close', async () => {
    const wait = reader.waitForCard({ timeoutMs: 5000 });
    await reader.close();
    await expectFault(wait, 'card-reader', 'not-connected');
    expect(clock.pending()).toBe(0);
  });

  it('emits tamper, fails pending and later calls until cleared', async () => {
    const tampers: string[] = [];
    const off = reader.on('tamper', (e) => tampers.push(e.reason));
    const wait = reader.waitForCard({ timeoutMs: 5000 });
    reader.tamper('case opened');
    await expectFault(wait, 'card-reader', 'tamper');
    await expectFault(reader.read(), 'card-reader', 'tamper');
    expect(tampers).toEqual(['case opened']);
    off();
    reader.tamper('again');
    expect(tampers).toEqual(['case opened']);
  });
});

describe('MockCardReader presentations', () => {
  it('a card that has been read is not offered again: the next wait needs a new presentation', async () => {
    reader.present(chipCard);
    await reader.waitForCard({ timeoutMs: 1_000 });
    await reader.read();
    const next = track(reader.waitForCard({ timeoutMs: 1_000 }));
    await clock.advance(0);
    expect(next.settled).toBe(false);
    reader.present(chipCard);
    await clock.advance(0);
    expect(next.settled).toBe(true);
    expect(reader.cardInReader).toBe(chipCard.entryMode);
  });

  it('a failed read also uses up the presentation (the cardholder must present again)', async () => {
    reader.inject({ op: 'read', code: 'read-failed' });
    reader.present(chipCard);
    await reader.waitForCard({ timeoutMs: 1_000 });
    await expect(reader.read()).rejects.toMatchObject({ code: 'read-failed' });
    const again = track(reader.waitForCard({ timeoutMs: 1_000 }));
    await clock.advance(0);
    expect(again.settled).toBe(false);
  });

  it('a chip card stays inserted after its read until removed; the next wait does not get it', async () => {
    reader.present(chipCard);
    await reader.waitForCard({ timeoutMs: 1_000 });
    await reader.read();
    expect(reader.cardInReader).toBe('chip');
    expect(reader.cardUsed).toBe(true);
    const removal = track(reader.waitForRemoval({ timeoutMs: Infinity }));
    const nextSale = track(reader.waitForCard({ timeoutMs: Infinity }));
    await clock.advance(3_600_000);
    expect(removal.settled).toBe(false);
    expect(nextSale.settled).toBe(false);
    reader.remove();
    await clock.advance(0);
    expect(removal.settled).toBe(true);
    expect(nextSale.settled).toBe(false);
    reader.present(chipCard);
    await expect(nextSale.promise).resolves.toEqual({ entryMode: 'chip' });
  });

  it.each([
    ['swipe', swipeCard],
    ['contactless', { ...chipCard, entryMode: 'contactless' as const }],
  ] as const)('a %s card is gone once read: removal resolves at once', async (_mode, card) => {
    const wait = reader.waitForCard({ timeoutMs: 1_000 });
    reader.present(card);
    await wait;
    await reader.read();
    expect(reader.cardInReader).toBeUndefined();
    await expect(reader.waitForRemoval({ timeoutMs: 0 })).resolves.toBeUndefined();
  });

  it('a swipe made while idle is discarded at the next wait, without card data; a swipe during the wait is taken', async () => {
    const discarded: unknown[] = [];
    reader.on('swipe-discarded', (e) => discarded.push(e));
    reader.present(swipeCard);
    await clock.advance(90_000);
    const wait = track(reader.waitForCard({ timeoutMs: Infinity }));
    await clock.advance(0);
    expect(wait.settled).toBe(false);
    expect(discarded).toEqual([{ ageMs: 90_000 }]);
    expect(JSON.stringify(discarded)).not.toContain(swipeCard.pan);
    await expectFault(reader.read(), 'card-reader', 'read-failed');
    reader.present(swipeCard);
    await expect(wait.promise).resolves.toEqual({ entryMode: 'swipe' });
    await expect(reader.read()).resolves.toMatchObject({ pan: swipeCard.pan });
    expect(discarded).toHaveLength(1);
  });

  it('a cardholder who takes the card when asked empties the reader at the removal wait', async () => {
    reader.present(chipCard, { removeWhenAsked: true });
    await reader.read();
    expect(reader.cardInReader).toBe('chip');
    await expect(reader.waitForRemoval({ timeoutMs: 0 })).resolves.toBeUndefined();
    expect(reader.cardInReader).toBeUndefined();
  });
});
