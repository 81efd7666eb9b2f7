import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../../hal/acquirer-link/framing.js';

describe('2-byte length framing', () => {
  it('encodes the length big-endian in front of the payload', () => {
    expect(encodeFrame(Buffer.from('ABC')).toString('hex')).toBe('0003414243');
  });

  it('reassembles frames split across chunks and merged in one chunk', () => {
    const decoder = new FrameDecoder();
    const wire = Buffer.concat([encodeFrame(Buffer.from('first')), encodeFrame(Buffer.from('second'))]);
    const got: string[] = [];
    for (const byte of wire) {
      const r = decoder.push(Buffer.from([byte]));
      expect(r.ok).toBe(true);
      got.push(...r.frames.map((f) => f.toString()));
    }
    expect(got).toEqual(['first', 'second']);
    const merged = decoder.push(wire);
    expect(merged.frames.map((f) => f.toString())).toEqual(['first', 'second']);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('drops zero-length keep-alive frames', () => {
    const decoder = new FrameDecoder();
    const r = decoder.push(Buffer.concat([Buffer.from([0, 0]), encodeFrame(Buffer.from('x'))]));
    expect(r.frames.map((f) => f.toString())).toEqual(['x']);
  });

  it('reports an announced length over the limit and discards the stream', () => {
    const decoder = new FrameDecoder(100);
    const r = decoder.push(
      Buffer.concat([encodeFrame(Buffer.from('ok')), Buffer.from([0x01, 0x00]), Buffer.alloc(10)]),
    );
    expect(r.ok).toBe(false);
    expect(r.frames.map((f) => f.toString())).toEqual(['ok']);
    if (!r.ok) expect(r.error).toEqual({ code: 'frame-too-large', announced: 256, limit: 100 });
    expect(decoder.pendingBytes).toBe(0);
  });

  it('keeps a partial frame pending', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from([0x00, 0x05, 0x41, 0x42]));
    expect(decoder.pendingBytes).toBe(4);
  });

  it('rejects a payload too large for the header', () => {
    expect(() => encodeFrame(Buffer.alloc(70_000))).toThrow(RangeError);
  });

  it('any chunking of any frame sequence yields the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const wire = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          const decoder = new FrameDecoder();
          const out: Buffer[] = [];
          let offset = 0;
          let i = 0;
          while (offset < wire.length) {
            const size = cuts[i++ % cuts.length]!;
            const r = decoder.push(wire.subarray(offset, offset + size));
            out.push(...r.frames);
            offset += size;
          }
          expect(out.map((b) => b.toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
        },
      ),
      { numRuns: 500 },
    );
  });
});
