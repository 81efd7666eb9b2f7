/**
 * Fuzz: bytes from the serial card module. Streams of STX/LEN/payload/ETX/LRC frames and ACK/NAK bytes, damaged and
 * split, with silences on the ManualClock, go through the FrameParser the way SerialCardModule uses it (onTimeout
 * set). Out may come only whole frames within the size limit and the four typed frame errors; the parser never holds
 * more than one frame, and once the line has been quiet a good frame parses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import {
  ACK,
  encodeFrame,
  ETX,
  FRAME_OVERHEAD,
  FrameParser,
  NAK,
  STX,
  type FrameError,
  type FrameParseResult,
} from '../../../hal/serial-link/frame.js';
import { CASES, fcParams, FuzzFailure, Tally, timeoutFor } from './budget.js';
import { applyByteMutations, biasedBytes, byteMutation, chunk, chunkSizes, mutationList } from './mutate.js';

const SURFACE = 'serial-frame';
/** Small, so damaged LEN bytes reach 'oversize' often and big frames still fit. */
const MAX_PAYLOAD = 256;
const TIMEOUT_MS = 100;
const FRAME_CODES: readonly FrameError['code'][] = ['bad-lrc', 'bad-etx', 'oversize', 'timeout'];
const SERIAL_BYTES = [STX, ETX, ACK, NAK, 0x00, 0x01, 0xff, 0x7b, 0x7d];

/** Payloads as the module sends them (JSON messages), and arbitrary ones. */
const payload = fc.oneof(
  fc
    .constantFrom(
      '{"seq":1,"id":1,"rsp":"INFO","model":"M","firmware":"1.0","serial":"S","tamper":false}',
      '{"seq":2,"evt":"CARD_PRESENTED","entryMode":"chip"}',
      '{"seq":3,"id":3,"rsp":"READ","ok":true,"entryMode":"chip","pan":"4111111111111111","expiry":"2812","serviceCode":"201"}',
      '{"seq":4,"evt":"TAMPER","reason":"case opened"}',
      '{}',
    )
    .map((s) => Uint8Array.from(Buffer.from(s))),
  fc.uint8Array({ maxLength: MAX_PAYLOAD }),
);

type Item = { frame: Uint8Array } | { control: number };
const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 3, arbitrary: payload.map((p) => ({ frame: p })) },
  { weight: 1, arbitrary: fc.constantFrom(ACK, NAK).map((c) => ({ control: c })) },
);

interface SerialCase {
  bytes: Uint8Array;
  sizes: number[];
  /** Time to let pass before each chunk (by index); from TIMEOUT_MS on, the line counts as silent. */
  pauses: number[];
  /** The frames and controls when nothing was damaged, for the exact check. */
  clean: { frames: Buffer[]; controls: ('ack' | 'nak')[] } | undefined;
}

const pauses = fc.array(
  fc.oneof(
    fc.constant(0),
    fc.constant(0),
    fc.integer({ min: 1, max: TIMEOUT_MS - 1 }),
    fc.integer({ min: TIMEOUT_MS, max: 1000 }),
  ),
  { maxLength: 6 },
);

const serialCase: fc.Arbitrary<SerialCase> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        items: fc.array(item, { minLength: 1, maxLength: 5 }),
        m: mutationList(byteMutation),
        sizes: chunkSizes,
        pauses,
      })
      .map(({ items, m, sizes, pauses: p }) => {
        const stream = Buffer.concat(
          items.map((i) => ('frame' in i ? encodeFrame(i.frame) : Buffer.from([i.control]))),
        );
        const intact = m.length === 0 && p.every((ms) => ms < TIMEOUT_MS);
        return {
          bytes: applyByteMutations(stream, m, SERIAL_BYTES),
          sizes,
          pauses: p,
          clean: intact
            ? {
                frames: items.flatMap((i) => ('frame' in i ? [Buffer.from(i.frame)] : [])),
                controls: items.flatMap((i) =>
                  'control' in i ? [i.control === ACK ? ('ack' as const) : ('nak' as const)] : [],
                ),
              }
            : undefined,
        };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ bytes: biasedBytes(SERIAL_BYTES, 300), sizes: chunkSizes, pauses })
      .map((c) => ({ ...c, clean: undefined })),
  },
);

const PROBE = Buffer.from('{"seq":99,"evt":"CARD_REMOVED"}');

describe('fuzz: serial card module frames', () => {
  it(
    `${CASES} byte streams: whole frames or typed frame errors, bounded, and a good frame parses after a silence`,
    async () => {
      const tally = new Tally(SURFACE);
      await fc.assert(
        fc.asyncProperty(serialCase, async (c) => {
          tally.begin();
          const clock = new ManualClock();
          const timedOut: FrameError[] = [];
          const parser = new FrameParser({
            maxPayload: MAX_PAYLOAD,
            interByteTimeoutMs: TIMEOUT_MS,
            clock,
            onTimeout: (e) => timedOut.push(e),
          });
          const all: FrameParseResult = { frames: [], errors: [], controls: [], skipped: 0 };
          const collect = (r: FrameParseResult) => {
            all.frames.push(...r.frames);
            all.errors.push(...r.errors);
            all.controls.push(...r.controls);
          };
          const parts = chunk(c.bytes, c.sizes);
          for (let i = 0; i < parts.length; i++) {
            const pause = c.pauses[i] ?? 0;
            if (pause > 0) await clock.advance(pause);
            try {
              collect(parser.push(parts[i] as Uint8Array));
            } catch (err) {
              throw new FuzzFailure(SURFACE, 'FrameParser.push threw', c.bytes, err);
            }
            // Never more than one frame's worth held back: a runaway LEN is refused, not buffered.
            if (parser.pendingBytes > MAX_PAYLOAD + FRAME_OVERHEAD)
              throw new FuzzFailure(SURFACE, `parser holds ${parser.pendingBytes} bytes`, c.bytes);
          }
          all.errors.push(...timedOut.splice(0));

          for (const f of all.frames) {
            if (f.length > MAX_PAYLOAD)
              throw new FuzzFailure(SURFACE, `frame of ${f.length} bytes over the limit`, c.bytes);
            tally.add('accepted');
          }
          for (const e of all.errors) {
            if (!FRAME_CODES.includes(e.code))
              throw new FuzzFailure(SURFACE, `untyped frame error ${JSON.stringify(e)}`, c.bytes);
            tally.add(`error:${e.code}`);
          }
          if (all.frames.length === 0 && all.errors.length === 0) tally.add('skipped:no-frame');
          if (c.clean) {
            // Undamaged, unhurried streams come out exactly, however they were split.
            const same =
              all.errors.length === 0 &&
              all.frames.length === c.clean.frames.length &&
              all.frames.every((f, i) => f.equals(c.clean!.frames[i]!));
            if (!same || JSON.stringify(all.controls) !== JSON.stringify(c.clean.controls)) {
              throw new FuzzFailure(SURFACE, 'an intact stream did not come out exactly', c.bytes);
            }
          }

          // Clean state: once the line has been quiet past the inter-byte timeout, a good frame parses.
          await clock.advance(TIMEOUT_MS + 1);
          const after = parser.push(encodeFrame(PROBE));
          const last = after.frames[after.frames.length - 1];
          if (after.frames.length !== 1 || !last?.equals(PROBE))
            throw new FuzzFailure(SURFACE, 'a good frame after a silence did not parse', c.bytes);
          if (parser.pendingBytes !== 0) throw new FuzzFailure(SURFACE, 'bytes held after a whole frame', c.bytes);
        }),
        fcParams(SURFACE, CASES),
      );
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      for (const code of FRAME_CODES) expect([...tally.counts.keys()]).toContain(`error:${code}`);
    },
    timeoutFor(CASES, 3),
  );
});
