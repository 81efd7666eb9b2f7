/**
 * Property tests for everything in the card reader drivers that parses bytes from outside: the serial FrameParser,
 * the HID keyboard decoder feeding the swipe parser, and the track parsers. None may throw; every failure must be one
 * of the typed results. At least 20,000 cases each. Checks inside properties use node:assert, which costs far less
 * per call than expect() and keeps the whole file within a few seconds.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { HidKeyboardDecoder, HidMsrReader } from '../../../hal/card-reader/hid-msr.js';
import {
  SWIPE_FAILURE_REASONS,
  isSwipeFailure,
  parseSwipe,
  parseTrack1,
  parseTrack2,
  track1Lrc,
  track2Lrc,
  type SwipeFailureReason,
} from '../../../hal/card-reader/iso7813.js';
import { luhnValid } from '../../../hal/card-reader/luhn.js';
import { ACK, FrameParser, NAK, STX, encodeFrame, type FrameParseResult } from '../../../hal/serial-link/frame.js';
import { DeviceFaultError } from '../../../hal/fault.js';
import { typedReports } from '../../support/hid-typing.js';

const RUNS = 20_000;
const NOW = Date.UTC(2026, 0, 15);
const REASONS: readonly SwipeFailureReason[] = SWIPE_FAILURE_REASONS;
const FRAME_ERRORS = ['bad-lrc', 'bad-etx', 'oversize', 'timeout'];

// ---- frame parser ----

function feed(parser: FrameParser, bytes: Uint8Array, sizes: number[]): FrameParseResult {
  const all: FrameParseResult = { frames: [], errors: [], controls: [], skipped: 0 };
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes.length === 0 ? bytes.length : (sizes[i % sizes.length] as number);
    const r = parser.push(bytes.subarray(at, at + size));
    at += size;
    all.frames.push(...r.frames);
    all.errors.push(...r.errors);
    all.controls.push(...r.controls);
    all.skipped += r.skipped;
  }
  return all;
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 24 }), { maxLength: 8 });
/** Bytes biased towards the ones that mean something to the parser. */
const wireByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 1, arbitrary: fc.constantFrom(STX, 0x03, ACK, NAK, 0x00) },
);

function checkShape(result: FrameParseResult, maxPayload: number): void {
  for (const frame of result.frames) assert.ok(frame.length <= maxPayload);
  for (const error of result.errors) assert.ok(FRAME_ERRORS.includes(error.code));
}

describe('FrameParser properties', () => {
  it('random byte streams: never throws, and how the bytes are chunked changes nothing', () => {
    fc.assert(
      fc.property(fc.array(wireByte, { maxLength: 200 }), chunkSizes, fc.nat({ max: 64 }), (bytes, sizes, m) => {
        const data = Uint8Array.from(bytes);
        const whole = feed(new FrameParser({ maxPayload: m, clock: new ManualClock() }), data, []);
        const chunked = feed(new FrameParser({ maxPayload: m, clock: new ManualClock() }), data, sizes);
        checkShape(whole, m);
        assert.deepEqual(chunked, whole);
      }),
      { numRuns: RUNS },
    );
  });

  const frameStream = fc.array(
    fc.record({
      payload: fc.uint8Array({ maxLength: 48 }),
      before: fc.constantFrom<number[]>([], [ACK], [NAK], [ACK, NAK]),
    }),
    { minLength: 1, maxLength: 6 },
  );

  it('clean streams of frames and ACK/NAKs come out exactly, however chunked', () => {
    fc.assert(
      fc.property(frameStream, chunkSizes, (items, sizes) => {
        const data = Buffer.concat(items.flatMap((i) => [Buffer.from(i.before), encodeFrame(i.payload)]));
        const out = feed(new FrameParser({ clock: new ManualClock() }), data, sizes);
        assert.deepEqual(
          out.frames,
          items.map((i) => Buffer.from(i.payload)),
        );
        assert.deepEqual(
          out.controls,
          items.flatMap((i) => i.before.map((b) => (b === ACK ? 'ack' : 'nak'))),
        );
        assert.deepEqual(out.errors, []);
      }),
      { numRuns: RUNS },
    );
  });

  it('one corrupted payload byte costs exactly that frame (bad-lrc); noise between frames costs nothing', () => {
    fc.assert(
      fc.property(
        frameStream,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        // Printable noise: never STX, ACK or NAK.
        fc.array(fc.integer({ min: 0x20, max: 0x7f }), { maxLength: 6 }),
        chunkSizes,
        (items, pick, flip, noise, sizes) => {
          const victim = pick % items.length;
          const parts = items.map((item, i) => {
            const frame = encodeFrame(item.payload);
            const at = 3 + (pick % Math.max(1, item.payload.length));
            if (i === victim && item.payload.length > 0) frame[at] = (frame[at] as number) ^ flip;
            return Buffer.concat([Buffer.from(noise), frame]);
          });
          const out = feed(new FrameParser({ clock: new ManualClock() }), Buffer.concat(parts), sizes);
          const damaged = (items[victim]?.payload.length ?? 0) > 0;
          assert.deepEqual(
            out.frames,
            items.filter((_, i) => !(damaged && i === victim)).map((i) => Buffer.from(i.payload)),
          );
          assert.deepEqual(out.errors, damaged ? [{ code: 'bad-lrc', length: items[victim]?.payload.length }] : []);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('mutated streams (flips, insertions, deletions, timeouts): never throws, typed errors only', () => {
    const mutation = fc.record({
      kind: fc.constantFrom('flip', 'insert', 'delete', 'pause'),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(frameStream, fc.array(mutation, { maxLength: 4 }), chunkSizes, (items, mutations, sizes) => {
        const bytes = [...Buffer.concat(items.map((i) => encodeFrame(i.payload)))];
        const pauses = new Set<number>();
        for (const m of mutations) {
          const at = bytes.length === 0 ? 0 : m.at % bytes.length;
          if (m.kind === 'flip') bytes[at] = (bytes[at] ?? 0) ^ (m.value || 1);
          else if (m.kind === 'insert') bytes.splice(at, 0, m.value);
          else if (m.kind === 'delete') bytes.splice(at, 1);
          else pauses.add(at);
        }
        // A clock that jumps on demand, synchronously: the parser notices the gap on its next push.
        let now = 0;
        const clock = { now: () => now, setTimeout: () => ({ cancel: () => undefined }) };
        const parser = new FrameParser({ clock, maxPayload: 64 });
        const data = Uint8Array.from(bytes);
        const out: FrameParseResult[] = [];
        let at = 0;
        for (let i = 0; at < data.length; i++) {
          const size = sizes.length === 0 ? data.length : (sizes[i % sizes.length] as number);
          // A pause falls before this chunk: time jumps past the inter-byte timeout.
          if ([...pauses].some((p) => p >= at && p < at + size)) now += 1000;
          out.push(parser.push(data.subarray(at, at + size)));
          at += size;
        }
        for (const r of out) checkShape(r, 64);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- HID decoder and track parsers ----

/** Keycodes a wedge reader types, with the odd stray one; modifiers mostly shift. */
const report = fc
  .tuple(
    fc.constantFrom(0, 0, 0, 0x02, 0x20, 0x01, 0x04),
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 6, arbitrary: fc.integer({ min: 0x1e, max: 0x38 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
      { minLength: 6, maxLength: 6 },
    ),
  )
  .map(([mod, keys]) => Uint8Array.from([mod, 0, ...keys]));

function checkSwipe(result: ReturnType<typeof parseSwipe>): void {
  if (isSwipeFailure(result)) {
    assert.ok(REASONS.includes(result.reason));
    return;
  }
  assert.ok(luhnValid(result.pan));
  assert.match(result.expiry, /^\d{4}$/);
  assert.match(result.serviceCode ?? '', /^\d{3}$/);
}

/** Press and release per character, US layout (test/support/hid-typing.ts). */
const typed = (text: string) => typedReports(text);

/** A card with a Luhn-valid PAN and a current expiry, as both tracks. */
const card = fc
  .record({
    body: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 18 }),
    name: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ /.'), minLength: 2, maxLength: 26 }),
    year: fc.integer({ min: 26, max: 45 }),
    month: fc.integer({ min: 1, max: 12 }),
    service: fc.constantFrom('101', '201', '120', '601', '221'),
    disc: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 8 }),
    lrc: fc.boolean(),
  })
  .map((c) => {
    const body = c.body.join('');
    const check = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].find((d) => luhnValid(body + d)) ?? 0;
    const pan = body + check;
    const yymm = `${c.year}${String(c.month).padStart(2, '0')}`;
    const t1 = `%B${pan}^${c.name}^${yymm}${c.service}${c.disc.join('')}?`;
    const t2 = `;${pan}=${yymm}${c.service}${c.disc.join('')}?`;
    const text = c.lrc ? t1 + track1Lrc(t1) + t2 + track2Lrc(t2) : t1 + t2;
    return { pan, yymm, name: c.name.replace(/ +$/, ''), service: c.service, text };
  });

describe('HID decoder and track parser properties', () => {
  it('random HID reports through the decoder and the swipe parser: typed results only', () => {
    fc.assert(
      fc.property(fc.array(report, { maxLength: 60 }), (reports) => {
        const decoder = new HidKeyboardDecoder();
        const text = reports.map((r) => decoder.decode(r)).join('');
        checkSwipe(parseSwipe(text, { now: NOW }));
      }),
      { numRuns: RUNS },
    );
  });

  it('valid cards typed, then damaged (reports dropped, repeated, swapped, keys changed): typed results only', () => {
    const damage = fc.array(
      fc.record({
        kind: fc.constantFrom('drop', 'repeat', 'swap', 'key'),
        at: fc.nat(),
        key: fc.integer({ min: 0, max: 255 }),
      }),
      { maxLength: 3 },
    );
    fc.assert(
      fc.property(card, damage, (c, edits) => {
        const reports = typed(`${c.text}\r`);
        for (const e of edits) {
          const at = e.at % reports.length;
          if (e.kind === 'drop') reports.splice(at, 1);
          else if (e.kind === 'repeat') reports.splice(at, 0, reports[at] ?? new Uint8Array(8));
          else if (e.kind === 'swap' && at + 1 < reports.length) {
            const [x, y] = [reports[at], reports[at + 1]];
            if (x && y) [reports[at], reports[at + 1]] = [y, x];
          } else if (e.kind === 'key') {
            const r = reports[at];
            if (r) reports[at] = Uint8Array.from([r[0] ?? 0, 0, e.key, 0, 0, 0, 0, 0]);
          }
        }
        const decoder = new HidKeyboardDecoder();
        const result = parseSwipe(reports.map((r) => decoder.decode(r)).join(''), { now: NOW });
        checkSwipe(result);
        if (edits.length === 0) assert.equal(isSwipeFailure(result) ? result.reason : result.pan, c.pan);
      }),
      { numRuns: RUNS },
    );
  });

  it('valid cards round-trip through typing, decoding and parsing', () => {
    fc.assert(
      fc.property(card, fc.boolean(), (c, fallback) => {
        const decoder = new HidKeyboardDecoder();
        const text = typed(`${c.text}\r`)
          .map((r) => decoder.decode(r))
          .join('');
        const result = parseSwipe(text, { now: NOW, chipAttempted: fallback });
        assert.ok(!isSwipeFailure(result), isSwipeFailure(result) ? result.reason : '');
        assert.equal(result.entryMode, fallback ? 'fallback-swipe' : 'swipe');
        assert.equal(result.pan, c.pan);
        assert.equal(result.expiry, c.yymm);
        assert.equal(result.serviceCode, c.service);
        assert.equal(result.cardholderName, c.name === '' ? undefined : c.name);
      }),
      { numRuns: RUNS },
    );
  });

  it('random track-like text through parseTrack1, parseTrack2 and parseSwipe: typed results only', () => {
    const trackChar = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...'0123456789'.split('')) },
      { weight: 3, arbitrary: fc.constantFrom('%', 'B', '^', '?', ';', '=', '+', 'E', '\r', ' ', '/') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    );
    fc.assert(
      fc.property(fc.string({ unit: trackChar, maxLength: 120 }), (text) => {
        for (const r of [parseTrack1(text), parseTrack2(text)]) {
          if (isSwipeFailure(r)) assert.ok(REASONS.includes(r.reason));
          else assert.match(r.pan, /^\d{12,19}$/);
        }
        checkSwipe(parseSwipe(text, { now: NOW }));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('HidMsrReader end to end with random reports', () => {
  it('whatever the device sends, read() gives card data or a typed read-failed fault without the data', async () => {
    class Fake extends EventEmitter {
      close(): void {}
    }
    await fc.assert(
      fc.asyncProperty(fc.array(report, { maxLength: 40 }), card, fc.boolean(), async (reports, c, withCard) => {
        const clock = new ManualClock(NOW);
        const device = new Fake();
        const reader = new HidMsrReader({ vendorId: 1, productId: 2, clock, openDevice: () => device });
        await reader.open();
        const all = withCard ? [...reports, ...typed(c.text)] : reports;
        for (const r of all) device.emit('data', Buffer.from(r));
        await clock.advance(1000);
        try {
          checkSwipe(await reader.read());
        } catch (error) {
          expect(error).toBeInstanceOf(DeviceFaultError);
          const fault = error as DeviceFaultError;
          expect(fault.code).toBe('read-failed');
          expect(REASONS).toContain(fault.detail?.reason);
          if (withCard) expect(JSON.stringify(fault.toJSON())).not.toContain(c.pan);
        }
        await reader.close();
      }),
      { numRuns: 5_000 },
    );
  });
});
