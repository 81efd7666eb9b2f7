/**
 * Fuzz: keyboard HID reports from a magnetic stripe reader. Bytes reach HidMsrReader as node-hid 'data' events, split
 * anywhere; the reader assembles reports, decodes keys, ends the swipe on Enter or on silence (ManualClock) and parses
 * the tracks. read() must give card data or a DeviceFaultError 'read-failed' with a known reason and no card data, and
 * after any garbage a clean swipe must still read.
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { HID_REPORT_BYTES, HidMsrReader, MAX_SWIPE_CHARS } from '../../../hal/card-reader/hid-msr.js';
import {
  SWIPE_FAILURE_REASONS,
  track1Lrc,
  track2Lrc,
  type SwipeFailureReason,
} from '../../../hal/card-reader/iso7813.js';
import { luhnValid } from '../../../hal/card-reader/luhn.js';
import { DeviceFaultError } from '../../../hal/fault.js';
import { HID_SWIPES } from '../../hal/fixtures/hid-swipes.js';
import { typedReports } from '../../support/hid-typing.js';
import { CASES, fcParams, FuzzFailure, Tally, timeoutFor } from './budget.js';
import { applyByteMutations, biasedBytes, byteMutation, chunk, chunkSizes, mutationList } from './mutate.js';

const SURFACE = 'hid-msr';
const NOW = Date.UTC(2026, 0, 15);
const REASONS: readonly SwipeFailureReason[] = SWIPE_FAILURE_REASONS;
/** Modifiers that shift or chord, Enter, the track punctuation keys, ErrorRollOver and the modifier usages. */
const HID_BYTES = [0x00, 0x02, 0x20, 0x01, 0x04, 0x08, 0x28, 0x58, 0x22, 0x05, 0x33, 0x38, 0x2e, 0x03, 0xe1, 0xff];

/** Press and release per character (test/support/hid-typing.ts); a character off the layout is an empty report. */
const typed = (text: string, reportId: number | undefined) =>
  typedReports(text, { ...(reportId === undefined ? {} : { reportId }), unknownAsNoKey: true });

/** A card with a Luhn-valid PAN and a current expiry, as track 1 + track 2, with or without LRCs. */
const card = fc
  .record({
    body: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 18 }),
    name: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ /.'), minLength: 2, maxLength: 26 }),
    year: fc.integer({ min: 26, max: 45 }),
    month: fc.integer({ min: 1, max: 12 }),
    service: fc.constantFrom('101', '201', '120', '601', '221'),
    disc: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 8 }),
    tracks: fc.constantFrom('both', 'both', 't1', 't2'),
    lrc: fc.boolean(),
  })
  .map((c) => {
    const body = c.body.join('');
    const pan = body + ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].find((d) => luhnValid(body + d)) ?? 0);
    const yymm = `${c.year}${String(c.month).padStart(2, '0')}`;
    const t1 = `%B${pan}^${c.name}^${yymm}${c.service}${c.disc.join('')}?`;
    const t2 = `;${pan}=${yymm}${c.service}${c.disc.join('')}?`;
    const one = c.lrc ? t1 + track1Lrc(t1) : t1;
    const two = c.lrc ? t2 + track2Lrc(t2) : t2;
    return { pan, text: c.tracks === 't1' ? one : c.tracks === 't2' ? two : one + two };
  });

interface HidCase {
  reportId: number | undefined;
  bytes: Uint8Array;
  /** Empty: one report per event, as hidraw delivers them. */
  sizes: number[];
  pan: string | undefined;
}

const reportIdArb = fc.oneof(fc.constant(undefined), fc.constant(undefined), fc.integer({ min: 0, max: 255 }));
const split = fc.oneof(fc.constant<number[]>([]), chunkSizes);

/** Report-level damage a reader or a USB stack produces: a report lost, repeated, reordered, a key changed. */
const reportEdit = fc.record({
  kind: fc.constantFrom('drop', 'repeat', 'swap', 'key', 'modifier'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});

function editReports(
  reports: Uint8Array[],
  edits: { kind: string; at: number; value: number }[],
  offset: number,
): Uint8Array[] {
  const out: Uint8Array[] = reports.map((r) => Uint8Array.from(r));
  for (const e of edits) {
    if (out.length === 0) break;
    const at = e.at % out.length;
    const r = out[at] as Uint8Array;
    if (e.kind === 'drop') out.splice(at, 1);
    else if (e.kind === 'repeat') out.splice(at, 0, Uint8Array.from(r));
    else if (e.kind === 'swap' && at + 1 < out.length) [out[at], out[at + 1]] = [out[at + 1] as Uint8Array, r];
    else if (e.kind === 'key') r[offset + 2 + (e.value % 6)] = e.value;
    else if (e.kind === 'modifier') r[offset] = e.value;
  }
  return out;
}

const cardCase: fc.Arbitrary<HidCase> = fc
  .record({
    c: card,
    reportId: reportIdArb,
    enter: fc.boolean(),
    edits: mutationList(reportEdit, 3),
    bytes: mutationList(byteMutation, 2),
    sizes: split,
  })
  .map(({ c, reportId, enter, edits, bytes, sizes }) => {
    const reports = editReports(typed(c.text + (enter ? '\r' : ''), reportId), edits, reportId === undefined ? 0 : 1);
    return { reportId, bytes: applyByteMutations(Buffer.concat(reports), bytes, HID_BYTES), sizes, pan: c.pan };
  });

/** The recorded-shape fixtures (pauses dropped), damaged. */
const FIXTURE_BYTES = HID_SWIPES.map((f) =>
  Buffer.from(
    f.events
      .split(/\s+/)
      .filter((t) => t !== '' && !t.startsWith('+'))
      .join(''),
    'hex',
  ),
);
const fixtureCase: fc.Arbitrary<HidCase> = fc
  .record({ i: fc.nat(FIXTURE_BYTES.length - 1), m: mutationList(byteMutation, 3), sizes: split })
  .map(({ i, m, sizes }) => ({
    reportId: undefined,
    bytes: applyByteMutations(FIXTURE_BYTES[i] as Buffer, m, HID_BYTES),
    sizes,
    pan: '4111111111111111',
  }));

/** Reports made of keys a wedge reader types, with the odd stray byte. */
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
const randomReports: fc.Arbitrary<HidCase> = fc
  .record({ reports: fc.array(report, { maxLength: 60 }), sizes: split })
  .map(({ reports, sizes }) => ({ reportId: undefined, bytes: Buffer.concat(reports), sizes, pan: undefined }));

const randomBytes: fc.Arbitrary<HidCase> = fc
  .record({ reportId: reportIdArb, bytes: biasedBytes(HID_BYTES, 200), sizes: split })
  .map(({ reportId, bytes, sizes }) => ({ reportId, bytes, sizes, pan: undefined }));

/** A stuck or runaway device: far more characters than a swipe, with or without an Enter. */
const runaway: fc.Arbitrary<HidCase> = fc
  .record({ n: fc.integer({ min: MAX_SWIPE_CHARS - 5, max: MAX_SWIPE_CHARS * 2 }), enter: fc.boolean() })
  .map(({ n, enter }) => ({
    reportId: undefined,
    bytes: Buffer.concat(typed('7'.repeat(n) + (enter ? '\r' : ''), undefined)),
    sizes: [],
    pan: undefined,
  }));

const hidCase: fc.Arbitrary<HidCase> = fc.oneof(
  { weight: 6, arbitrary: cardCase },
  { weight: 2, arbitrary: fixtureCase },
  { weight: 2, arbitrary: randomReports },
  { weight: 1, arbitrary: randomBytes },
  { weight: 1, arbitrary: runaway },
);

class FakeHid extends EventEmitter {
  close(): void {}
}

const PROBE_PAN = '4111111111111111';
const PROBE = `%B${PROBE_PAN}^PROBE/CARD^2812101?;${PROBE_PAN}=2812101?\r`;

/** read() as card data, or the failure reason; anything else is a finding. */
async function readOutcome(reader: HidMsrReader, c: HidCase): Promise<string> {
  try {
    const data = await reader.read();
    if (!luhnValid(data.pan) || !/^\d{4}$/.test(data.expiry ?? ''))
      throw new FuzzFailure(SURFACE, `accepted card data that fails its own checks`, c.bytes);
    return 'accepted';
  } catch (err) {
    if (err instanceof FuzzFailure) throw err;
    const reason = err instanceof DeviceFaultError ? err.detail?.reason : undefined;
    if (
      !(err instanceof DeviceFaultError) ||
      err.device !== 'card-reader' ||
      err.code !== 'read-failed' ||
      !REASONS.includes(reason as SwipeFailureReason)
    ) {
      throw new FuzzFailure(SURFACE, 'read() failed with an untyped error', c.bytes, err);
    }
    // A refused swipe never carries the card number out, in any form it could be logged in.
    if (
      c.pan !== undefined &&
      [err.message, JSON.stringify(err.toJSON()), err.stack ?? ''].some((t) => t.includes(c.pan as string))
    ) {
      throw new FuzzFailure(SURFACE, 'a read-failed fault carries the PAN', c.bytes);
    }
    return `read-failed:${String(reason)}`;
  }
}

describe('fuzz: HID keyboard reports from the stripe reader', () => {
  it(
    `${CASES} report streams: card data or a typed read-failed, and a clean swipe reads afterwards`,
    async () => {
      const tally = new Tally(SURFACE);
      await fc.assert(
        fc.asyncProperty(hidCase, async (c) => {
          tally.begin();
          const clock = new ManualClock(NOW);
          const device = new FakeHid();
          const reader = new HidMsrReader({
            vendorId: 1,
            productId: 2,
            clock,
            openDevice: () => device,
            reportId: c.reportId !== undefined,
          });
          await reader.open();
          const reportBytes = HID_REPORT_BYTES + (c.reportId === undefined ? 0 : 1);
          const parts = c.sizes.length === 0 ? chunk(c.bytes, [reportBytes]) : chunk(c.bytes, c.sizes);
          try {
            for (const part of parts) device.emit('data', Buffer.from(part));
          } catch (err) {
            throw new FuzzFailure(SURFACE, 'a data event threw', c.bytes, err);
          }
          // Silence ends a swipe that had no Enter.
          await clock.advance(1000);
          tally.add(await readOutcome(reader, c));

          // Clean state: all keys up, then a good swipe.
          device.emit('data', Buffer.alloc(reportBytes, 0).fill(c.reportId ?? 0, 0, reportBytes - HID_REPORT_BYTES));
          for (const r of typed(PROBE, c.reportId)) device.emit('data', Buffer.from(r));
          // The swipe ends after the inter-track gap of silence that follows its last Enter.
          await clock.advance(1000);
          let probe: Awaited<ReturnType<HidMsrReader['read']>>;
          try {
            probe = await reader.read();
          } catch (err) {
            throw new FuzzFailure(SURFACE, 'a clean swipe after this input did not read', c.bytes, err);
          }
          if (probe.pan !== PROBE_PAN)
            throw new FuzzFailure(SURFACE, 'a clean swipe after this input read wrong', c.bytes);
          await reader.close();
        }),
        fcParams(SURFACE, CASES),
      );
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      const outcomes = [...tally.counts.keys()];
      for (const reason of ['bad-length', 'no-start-sentinel', 'empty'])
        expect(outcomes).toContain(`read-failed:${reason}`);
    },
    timeoutFor(CASES, 3),
  );

  // Found by this fuzz: a report cut short (a byte lost on the way) left a fragment that misaligned every later
  // report, so no swipe ever read again. A fragment older than the inter-character gap is now dropped.
  it('regression: a fragment of a report left before a silence does not misalign the next swipe', async () => {
    const clock = new ManualClock(NOW);
    const device = new FakeHid();
    const reader = new HidMsrReader({ vendorId: 1, productId: 2, clock, openDevice: () => device, reportId: true });
    await reader.open();
    device.emit('data', Buffer.from('0000020000', 'hex'));
    await clock.advance(1000);
    for (const r of typed(PROBE, 0)) device.emit('data', Buffer.from(r));
    await clock.advance(1000);
    expect((await reader.read()).pan).toBe(PROBE_PAN);
    // A report split across two events without a silence still assembles.
    const [down, up] = typed('%', 0) as [Uint8Array, Uint8Array];
    device.emit('data', Buffer.from(down.subarray(0, 4)));
    await clock.advance(5);
    device.emit('data', Buffer.concat([down.subarray(4), up]));
    for (const r of typed(PROBE.slice(1), 0)) device.emit('data', Buffer.from(r));
    await clock.advance(1000);
    expect((await reader.read()).pan).toBe(PROBE_PAN);
    await reader.close();
  });
});
