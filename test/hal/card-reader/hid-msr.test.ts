import { EventEmitter } from 'node:events';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import {
  HidKeyboardDecoder,
  HidMsrReader,
  type HidDeviceInfoLike,
  type HidDeviceLike,
} from '../../../hal/card-reader/hid-msr.js';
import { track1Lrc, track2Lrc } from '../../../hal/card-reader/iso7813.js';
import type { EntryMode } from '../../../hal/card-reader/contract.js';
import type { DeviceFaultError } from '../../../hal/fault.js';
import { HID_SWIPES, type HidSwipeFixture } from '../fixtures/hid-swipes.js';
import { expectFault, track } from '../expect-fault.js';
import { typedReports } from '../../support/hid-typing.js';

const PAN = '4111111111111111';

/** Stands in for node-hid's HID object: the driver subscribes to 'data' and 'error' exactly as on the real one. */
class FakeHid extends EventEmitter implements HidDeviceLike {
  closed = false;
  constructor(private readonly deviceInfo?: HidDeviceInfoLike) {
    super();
  }
  close(): void {
    this.closed = true;
  }
  getDeviceInfo(): HidDeviceInfoLike {
    if (!this.deviceInfo) throw new Error('not supported');
    return this.deviceInfo;
  }
  report(hex: string): void {
    this.emit('data', Buffer.from(hex, 'hex'));
  }
}

// ---- typing text as a reader would (for cases the recorded fixtures do not cover) ----

const KEYS: Record<string, [number, number]> = {};
for (let i = 0; i < 26; i++) KEYS[String.fromCharCode(0x41 + i)] = [0x04 + i, 0x02];
for (const [i, c] of [...'1234567890'].entries()) KEYS[c] = [0x1e + i, 0];
for (const [i, c] of [...'!@#$%^&*()'].entries()) KEYS[c] = [0x1e + i, 0x20]; // right shift, for variety
Object.assign(KEYS, {
  '\r': [0x28, 0],
  ' ': [0x2c, 0],
  '=': [0x2e, 0],
  '+': [0x2e, 0x02],
  ';': [0x33, 0],
  ':': [0x33, 0x02],
  '/': [0x38, 0],
  '?': [0x38, 0x02],
  '-': [0x2d, 0],
  '.': [0x37, 0],
  '<': [0x36, 0x02],
  '>': [0x37, 0x02],
  '[': [0x2f, 0],
  ']': [0x30, 0],
  '\\': [0x31, 0],
  "'": [0x34, 0],
  '"': [0x34, 0x02],
  ',': [0x36, 0],
  _: [0x2d, 0x02],
});

function typeText(text: string): Buffer[] {
  const reports: Buffer[] = [];
  for (const c of text) {
    const key = KEYS[c];
    if (!key) throw new Error(`no key for ${JSON.stringify(c)}`);
    reports.push(Buffer.from([key[1], 0, key[0], 0, 0, 0, 0, 0]), Buffer.alloc(8));
  }
  return reports;
}

let clock: ManualClock;
let device: FakeHid;
let opens: number;
let reader: HidMsrReader;

function makeReader(extra: Partial<ConstructorParameters<typeof HidMsrReader>[0]> = {}): HidMsrReader {
  return new HidMsrReader({
    vendorId: 0x0801,
    productId: 0x0002,
    clock,
    openDevice: () => {
      opens++;
      device = new FakeHid({ release: 0x0102, serialNumber: 'MSR-77' });
      return device;
    },
    ...extra,
  });
}

/** Feeds a fixture: each hex chunk is one 'data' event, 1 ms apart; "+N" lets N ms pass. A final gap ends the swipe. */
async function replay(fixture: HidSwipeFixture): Promise<void> {
  for (const token of fixture.events.trim().split(/\s+/)) {
    if (token.startsWith('+')) await clock.advance(Number(token.slice(1)));
    else {
      device.report(token);
      await clock.advance(1);
    }
  }
  await clock.advance(250);
}

/** The default silence after an Enter that ends a swipe (the next track of the same swipe would come sooner). */
const INTER_TRACK_GAP_MS = 100;

async function typeSwipe(text: string): Promise<void> {
  for (const report of typeText(text)) {
    device.emit('data', report);
    await clock.advance(1);
  }
  // An Enter ends the swipe only once the inter-track gap has passed without another track.
  if (text.endsWith('\r')) await clock.advance(INTER_TRACK_GAP_MS);
}

/** The fault, serialised every way it could leave the process, must not carry the PAN. */
function expectNoPan(error: DeviceFaultError, pan = PAN): void {
  const everything = [error.message, JSON.stringify(error.toJSON()), JSON.stringify(error.detail ?? {}), error.stack];
  for (const text of everything) expect(String(text)).not.toContain(pan);
}

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 15));
  opens = 0;
  reader = makeReader();
  await reader.open();
});

describe('HidMsrReader with recorded report sequences', () => {
  it.each(HID_SWIPES.map((f) => [f.name, f] as const))('%s', async (_name, fixture) => {
    const presented: EntryMode[] = [];
    reader.on('card-presented', (p) => presented.push(p.entryMode));
    const wait = reader.waitForCard({ timeoutMs: 60_000 });
    await replay(fixture);
    await expect(wait).resolves.toEqual({ entryMode: 'swipe' });
    expect(presented[0]).toBe('swipe');

    if (fixture.expect.ok) {
      const card = await reader.read();
      expect(card).toMatchObject({ entryMode: 'swipe', pan: fixture.expect.pan, expiry: fixture.expect.expiry });
      expect(card.cardholderName).toBe(fixture.expect.name);
    } else {
      const error = await expectFault(reader.read(), 'card-reader', 'read-failed');
      expect(error.detail).toEqual({ reason: fixture.expect.reason });
      expectNoPan(error);
    }
  });

  it('a stalled swipe reads as two: a first half without its end sentinel, then a second without a start', async () => {
    const fixture = HID_SWIPES.find((f) => f.name === 'stalled-mid-swipe');
    if (!fixture) throw new Error('fixture missing');
    const [first, second] = fixture.events.split('+400');
    let swipes = 0;
    reader.on('card-presented', () => swipes++);
    await replay({ ...fixture, events: first ?? '' });
    expect(swipes).toBe(1);
    const error = await expectFault(reader.read(), 'card-reader', 'read-failed');
    expect(error.detail).toEqual({ reason: 'no-end-sentinel' });
    expectNoPan(error);
    await replay({ ...fixture, events: second ?? '' });
    expect(swipes).toBe(2);
    expect((await expectFault(reader.read(), 'card-reader', 'read-failed')).detail).toEqual({
      reason: 'no-start-sentinel',
    });
  });
});

describe('HidMsrReader behaviour', () => {
  const T1 = `%B${PAN}^DOE/JOHN^28121010000000000000?`;
  const T2 = `;${PAN}=28121010000000000?`;

  it('reports model from the USB ids and firmware and serial from the device info', async () => {
    expect(await reader.info()).toEqual({ model: 'HID MSR 0801:0002', firmware: '1.02', serial: 'MSR-77' });
    const bare = new HidMsrReader({
      vendorId: 0x0acd,
      productId: 0x0520,
      clock,
      openDevice: () => ({ on: () => undefined, close: () => undefined }),
    });
    await bare.open();
    expect(await bare.info()).toEqual({ model: 'HID MSR 0acd:0520', firmware: 'unknown' });
  });

  it('ends a swipe on the inter-character gap when the reader sends no Enter', async () => {
    const wait = track(reader.waitForCard({ timeoutMs: 60_000 }));
    await typeSwipe(T1 + T2);
    // typeSwipe let 2 ms pass since the last character went down (its press and its release report).
    await clock.advance(197);
    expect(wait.settled).toBe(false);
    await clock.advance(1);
    await expect(wait.promise).resolves.toEqual({ entryMode: 'swipe' });
    expect((await reader.read()).pan).toBe(PAN);
  });

  it('honours a configured inter-character timeout', async () => {
    reader = makeReader({ interCharTimeoutMs: 50 });
    await reader.open();
    const wait = track(reader.waitForCard({ timeoutMs: 60_000 }));
    await typeSwipe(T2);
    await clock.advance(50);
    expect(wait.settled).toBe(true);
  });

  it('verifies forwarded LRCs: a wrong one fails the swipe', async () => {
    const wrong = track2Lrc(T2) === '0' ? '1' : '0';
    await typeSwipe(`${T1}${track1Lrc(T1)}${T2}${wrong}\r`);
    const error = await expectFault(reader.read(), 'card-reader', 'read-failed');
    expect(error.detail).toEqual({ reason: 'bad-lrc' });
    expectNoPan(error);
  });

  it.each([
    ['luhn', `;4111111111111112=28121010000000000?\r`, '4111111111111112'],
    ['expired', `;${PAN}=25121010000000000?\r`, PAN],
    ['track-mismatch', `${T1};${PAN}=29121010000000000?\r`, PAN],
    ['bad-service-code', `;${PAN}=281210?\r`, PAN],
  ])('fails %s without putting the PAN in the fault', async (reason, text, pan) => {
    await typeSwipe(text);
    const error = await expectFault(reader.read(), 'card-reader', 'read-failed');
    expect(error.detail).toEqual({ reason });
    expectNoPan(error, pan);
  });

  it("reads 'fallback-swipe' after the chip was tried, until a swipe is read", async () => {
    reader.setChipAttempted(true);
    const wait = reader.waitForCard({ timeoutMs: 60_000 });
    await typeSwipe(`${T1}${T2}\r`);
    await expect(wait).resolves.toEqual({ entryMode: 'fallback-swipe' });
    expect((await reader.read()).entryMode).toBe('fallback-swipe');
    await typeSwipe(`${T2}\r`);
    expect((await reader.read()).entryMode).toBe('swipe');
  });

  it('resolves waitForCard for a swipe made during the wait, and read consumes it', async () => {
    // Issue 12 changed this case: a swipe made before the wait is discarded (see "swipes belong to their wait").
    const wait = reader.waitForCard({ timeoutMs: 60_000 });
    await typeSwipe(`${T2}\r`);
    await expect(wait).resolves.toEqual({ entryMode: 'swipe' });
    await reader.read();
    const error = await expectFault(reader.read(), 'card-reader', 'read-failed');
    expect(error.detail).toEqual({ reason: 'empty' });
  });

  it('times out, cancels and refuses a second wait on the clock', async () => {
    const wait = track(reader.waitForCard({ timeoutMs: 1000 }));
    await expectFault(reader.waitForCard({ timeoutMs: 1000 }), 'card-reader', 'busy');
    await clock.advance(999);
    expect(wait.settled).toBe(false);
    await clock.advance(1);
    await expectFault(wait.promise, 'card-reader', 'timeout');

    const controller = new AbortController();
    const aborted = reader.waitForCard({ timeoutMs: Infinity, signal: controller.signal });
    controller.abort();
    await expectFault(aborted, 'card-reader', 'cancelled');
    await expectFault(reader.waitForCard({ timeoutMs: 1, signal: controller.signal }), 'card-reader', 'cancelled');
  });

  it('a swipe reader is always empty: waitForRemoval resolves at once', async () => {
    await expect(reader.waitForRemoval({ timeoutMs: 10 })).resolves.toBeUndefined();
  });

  it("a device error (unplug) rejects the pending wait with 'not-connected' until reopened", async () => {
    const wait = reader.waitForCard({ timeoutMs: Infinity });
    const unplugged = device;
    unplugged.emit('error', new Error('could not read from HID device'));
    await expectFault(wait, 'card-reader', 'not-connected');
    expect(unplugged.closed).toBe(true);
    await expectFault(reader.read(), 'card-reader', 'not-connected');
    await expectFault(reader.info(), 'card-reader', 'not-connected');
    // Reports from the dead handle are ignored.
    for (const report of typeText(`${T2}\r`)) unplugged.emit('data', report);

    await reader.open();
    expect(opens).toBe(2);
    await typeSwipe(`${T2}\r`);
    expect((await reader.read()).pan).toBe(PAN);
  });

  it('close releases the device, rejects waits and drops an unread swipe', async () => {
    await typeSwipe(`${T2}\r`);
    await reader.close();
    expect(device.closed).toBe(true);
    await expectFault(reader.read(), 'card-reader', 'not-connected');
    await reader.open();
    await expectFault(reader.read(), 'card-reader', 'read-failed');
  });

  it("an open that fails is 'not-connected'", async () => {
    const broken = new HidMsrReader({
      vendorId: 1,
      productId: 2,
      openDevice: () => {
        throw new Error('cannot open device with vendor id 0x1 and product id 0x2');
      },
    });
    const error = await expectFault(broken.open(), 'card-reader', 'not-connected');
    expect(error.detail).toEqual({ vendorId: 1, productId: 2 });
  });

  it("the default opener loads node-hid on demand; with no such device attached it is 'not-connected'", async () => {
    const real = new HidMsrReader({ vendorId: 0xfffe, productId: 0xfffd });
    await expectFault(real.open(), 'card-reader', 'not-connected');
  });

  it('reads 9-byte reports with a report-ID byte when configured', async () => {
    reader = makeReader({ reportId: true });
    await reader.open();
    for (const report of typeText(`${T2}\r`)) device.emit('data', Buffer.concat([Buffer.from([0x01]), report]));
    await clock.advance(INTER_TRACK_GAP_MS);
    expect((await reader.read()).pan).toBe(PAN);
  });

  it('bounds a runaway device: a swipe that never ends fails bad-length', async () => {
    for (let i = 0; i < 700; i++) {
      device.emit('data', Buffer.from([0, 0, 0x1e, 0, 0, 0, 0, 0]));
      device.emit('data', Buffer.alloc(8));
    }
    await clock.advance(250);
    const error = await expectFault(reader.read(), 'card-reader', 'read-failed');
    expect(error.detail).toEqual({ reason: 'bad-length' });
  });
});

describe('HidKeyboardDecoder', () => {
  const r = (...bytes: number[]) => Uint8Array.from([...bytes, ...new Array(8 - bytes.length).fill(0)]);

  it('maps the US layout with either shift key', () => {
    const d = new HidKeyboardDecoder();
    const typed = [
      d.decode(r(0x02, 0, 0x22)), // %
      d.decode(r()),
      d.decode(r(0x20, 0, 0x23)), // ^ (right shift)
      d.decode(r()),
      d.decode(r(0x02, 0, 0x38)), // ?
      d.decode(r()),
      d.decode(r(0, 0, 0x33)), // ;
      d.decode(r()),
      d.decode(r(0, 0, 0x2e)), // =
      d.decode(r()),
      d.decode(r(0, 0, 0x59)), // keypad 1
      d.decode(r()),
      d.decode(r(0, 0, 0x58)), // keypad Enter
    ].join('');
    expect(typed).toBe('%^?;=1\r');
  });

  it('types a held key once, and again only after a report without it', () => {
    const d = new HidKeyboardDecoder();
    expect(d.decode(r(0, 0, 0x1e))).toBe('1');
    expect(d.decode(r(0, 0, 0x1e))).toBe('');
    expect(d.decode(r(0, 0, 0x1e, 0x1f))).toBe('2');
    expect(d.decode(r(0, 0, 0x1f))).toBe('');
    expect(d.decode(r())).toBe('');
    expect(d.decode(r(0, 0, 0x1e))).toBe('1');
  });

  it('ignores rollover-error reports, chords with ctrl/alt/gui, modifier usages and short reports', () => {
    const d = new HidKeyboardDecoder();
    expect(d.decode(r(0, 0, 1, 1, 1, 1, 1, 1))).toBe('');
    expect(d.decode(r(0x01, 0, 0x04))).toBe('');
    expect(d.decode(r(0x04, 0, 0x05))).toBe('');
    expect(d.decode(r(0, 0, 0xe1))).toBe('');
    expect(d.decode(Uint8Array.from([0, 0, 0x04]))).toBe('');
    expect(d.decode(r(0, 0, 0x7f))).toBe('\uFFFD');
  });
});

describe('HidMsrReader: swipes belong to their wait, tracks to their swipe', () => {
  const T1 = `%B${PAN}^DOE/JOHN^28121010000000000000?`;
  const T2 = `;${PAN}=28121010000000000?`;

  /** Types as a keyboard-wedge reader does, `msPerReport` apart on the clock. */
  async function swipe(text: string, msPerReport = 1): Promise<void> {
    for (const report of typedReports(text)) {
      device.emit('data', Buffer.from(report));
      await clock.advance(msPerReport);
    }
  }

  it('a reader that sends Enter after each track gives one swipe with both tracks, not two sales', async () => {
    const presented: EntryMode[] = [];
    reader.on('card-presented', (p) => presented.push(p.entryMode));
    const wait = reader.waitForCard({ timeoutMs: 60_000 });
    await swipe(`${T1}\r${T2}\r`, 2);
    await clock.advance(INTER_TRACK_GAP_MS);
    await expect(wait).resolves.toEqual({ entryMode: 'swipe' });
    const card = await reader.read();
    expect(card).toMatchObject({
      pan: PAN,
      cardholderName: 'DOE/JOHN',
      track1: expect.any(String),
      track2: expect.any(String),
    });
    expect(presented).toEqual(['swipe']);
    // Nothing is left for a next sale.
    const next = track(reader.waitForCard({ timeoutMs: 60_000 }));
    await clock.advance(1_000);
    expect(next.settled).toBe(false);
  });

  it('after an Enter the swipe ends when the inter-track gap passes, on the clock; a later swipe is a new one', async () => {
    const presented: EntryMode[] = [];
    reader.on('card-presented', (p) => presented.push(p.entryMode));
    const wait = track(reader.waitForCard({ timeoutMs: 60_000 }));
    await swipe(`${T2}\r`);
    // The Enter's press and release reports let 2 ms pass.
    await clock.advance(INTER_TRACK_GAP_MS - 3);
    expect(wait.settled).toBe(false);
    await clock.advance(1);
    expect(wait.settled).toBe(true);
    await swipe(`${T2}\r`);
    await clock.advance(INTER_TRACK_GAP_MS);
    expect(presented).toEqual(['swipe', 'swipe']);
  });

  it('honours a configured inter-track gap', async () => {
    reader = makeReader({ interTrackGapMs: 30 });
    await reader.open();
    const wait = track(reader.waitForCard({ timeoutMs: 60_000 }));
    await swipe(`${T1}\r`);
    await clock.advance(40);
    // Track 2 came 41 ms after track 1's Enter: a second swipe, which replaces the unread first.
    await swipe(`${T2}\r`);
    await clock.advance(30);
    expect(wait.settled).toBe(true);
    expect((await reader.read()).cardholderName).toBeUndefined();
  });

  it.each([
    ['a second before the sale', 1_000],
    ['ten minutes before the sale', 600_000],
  ])(
    'a swipe made while idle (%s) is discarded unread at the next wait, reported without card data',
    async (_when, ageMs) => {
      const discarded: Array<{ ageMs: number }> = [];
      reader.on('swipe-discarded', (e) => discarded.push(e));
      await swipe(`${T1}${T2}\r`);
      await clock.advance(INTER_TRACK_GAP_MS);
      const swipeStartedAt = clock.now() - INTER_TRACK_GAP_MS - typedReports(`${T1}${T2}\r`).length;
      await clock.advance(ageMs);
      const wait = track(reader.waitForCard({ timeoutMs: Infinity }));
      await clock.advance(0);
      expect(wait.settled).toBe(false);
      expect(discarded).toEqual([{ ageMs: clock.now() - swipeStartedAt }]);
      expect(JSON.stringify(discarded)).not.toContain(PAN);
      expect((await expectFault(reader.read(), 'card-reader', 'read-failed')).detail).toEqual({ reason: 'empty' });
      // The cardholder swipes again for this sale: that one is read.
      await swipe(`${T2}\r`);
      await clock.advance(INTER_TRACK_GAP_MS);
      await expect(wait.promise).resolves.toEqual({ entryMode: 'swipe' });
      expect((await reader.read()).pan).toBe(PAN);
      expect(discarded).toHaveLength(1);
    },
  );

  it('a swipe begun while idle and finished during the wait is discarded too', async () => {
    const discarded: unknown[] = [];
    reader.on('swipe-discarded', (e) => discarded.push(e));
    const reports = typedReports(`${T1}${T2}\r`);
    for (const report of reports.slice(0, 10)) {
      device.emit('data', Buffer.from(report));
      await clock.advance(1);
    }
    const wait = track(reader.waitForCard({ timeoutMs: Infinity }));
    for (const report of reports.slice(10)) {
      device.emit('data', Buffer.from(report));
      await clock.advance(1);
    }
    await clock.advance(INTER_TRACK_GAP_MS);
    expect(wait.settled).toBe(false);
    expect(discarded).toHaveLength(1);
  });
});
