import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pack, unpack } from '../../src/iso8583/codec.js';
import { ISO8583_ERROR_CODES, Iso8583Error, type Iso8583ErrorCode } from '../../src/iso8583/errors.js';
import { messageArb } from './arbitraries.js';

const CODES: ReadonlySet<Iso8583ErrorCode> = new Set<Iso8583ErrorCode>(ISO8583_ERROR_CODES);

let framesChecked = 0;

/**
 * The unpack contract for any input: either a message that re-packs to exactly the same bytes,
 * or an Iso8583Error with a sane code, field and offset. Any other outcome fails.
 */
function checkFrame(frame: Uint8Array): void {
  framesChecked++;
  let msg: ReturnType<typeof unpack>;
  try {
    msg = unpack(frame);
  } catch (e) {
    if (!(e instanceof Iso8583Error)) throw new Error(`unpack threw a non-Iso8583Error: ${String(e)}`);
    if (!CODES.has(e.code)) throw new Error(`unexpected code ${e.code}`);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > frame.length) {
      throw new Error(`offset ${e.offset} outside frame of ${frame.length} bytes`);
    }
    if (e.field !== undefined && !(Number.isInteger(e.field) && e.field >= 1 && e.field <= 128)) {
      throw new Error(`bad field ${e.field}`);
    }
    return;
  }
  const again = pack(msg);
  if (Buffer.compare(again, frame) !== 0) throw new Error('accepted frame does not re-pack to the same bytes');
}

describe('codec properties', () => {
  it('round-trips random valid messages', () => {
    fc.assert(
      fc.property(messageArb, (msg) => {
        const bytes = pack(msg);
        const back = unpack(bytes);
        expect(back).toEqual(msg);
        expect(Buffer.compare(pack(back), bytes)).toBe(0);
      }),
      { numRuns: 1500 },
    );
  });

  describe('unpack on hostile input returns a message or throws Iso8583Error', () => {
    it('random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (b) => checkFrame(b)),
        { numRuns: 30_000 },
      );
    });

    it('valid MTI and random bitmaps followed by random digits or bytes', () => {
      const digitByte = fc.integer({ min: 0x30, max: 0x39 });
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 8, maxLength: 16 }),
          fc.oneof(
            fc.array(digitByte, { maxLength: 300 }),
            fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }),
          ),
          (bitmaps, tail) => checkFrame(Buffer.concat([Buffer.from('0200'), bitmaps, Buffer.from(tail)])),
        ),
        { numRuns: 20_000 },
      );
    });

    it('valid frames with bytes flipped, replaced, removed, inserted, truncated or extended', () => {
      const pool = fc.sample(messageArb, { numRuns: 300, seed: 8583 }).map((m) => pack(m));
      type Op =
        | { kind: 'flip'; at: number; mask: number }
        | { kind: 'set'; at: number; byte: number }
        | { kind: 'delete'; at: number }
        | { kind: 'insert'; at: number; byte: number }
        | { kind: 'truncate'; at: number }
        | { kind: 'extend'; bytes: Uint8Array };
      const at = fc.nat({ max: 0xffff });
      const byte = fc.integer({ min: 0, max: 255 });
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at, mask: fc.integer({ min: 1, max: 255 }) }),
        fc.record({ kind: fc.constant('set' as const), at, byte }),
        fc.record({ kind: fc.constant('delete' as const), at }),
        fc.record({ kind: fc.constant('insert' as const), at, byte }),
        fc.record({ kind: fc.constant('truncate' as const), at }),
        fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      );
      const apply = (frame: Buffer, o: Op): Buffer => {
        const i = frame.length === 0 ? 0 : o.kind === 'extend' ? 0 : (o as { at: number }).at % frame.length;
        switch (o.kind) {
          case 'flip': {
            const b = Buffer.from(frame);
            if (b.length > 0) b[i] = (b[i] ?? 0) ^ o.mask;
            return b;
          }
          case 'set': {
            const b = Buffer.from(frame);
            if (b.length > 0) b[i] = o.byte;
            return b;
          }
          case 'delete':
            return Buffer.concat([frame.subarray(0, i), frame.subarray(i + 1)]);
          case 'insert':
            return Buffer.concat([frame.subarray(0, i), Buffer.from([o.byte]), frame.subarray(i)]);
          case 'truncate':
            return frame.subarray(0, i);
          case 'extend':
            return Buffer.concat([frame, o.bytes]);
        }
      };
      fc.assert(
        fc.property(fc.nat({ max: pool.length - 1 }), fc.array(op, { minLength: 1, maxLength: 4 }), (which, ops) => {
          let frame = pool[which] as Buffer;
          for (const o of ops) frame = apply(frame, o);
          checkFrame(frame);
        }),
        { numRuns: 100_000 },
      );
      // Each unmutated frame must still be accepted.
      for (const frame of pool) expect(() => unpack(frame)).not.toThrow();
    });

    it('checked at least 100,000 frames in total', () => {
      expect(framesChecked).toBeGreaterThanOrEqual(100_000);
    });
  });
});
