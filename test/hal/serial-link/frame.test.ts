import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import {
  ACK,
  ETX,
  FrameParser,
  NAK,
  STX,
  encodeFrame,
  lrcOf,
  type FrameError,
} from '../../../hal/serial-link/frame.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const payloads = (r: { frames: Buffer[] }) => r.frames.map((f) => f.toString());

describe('encodeFrame', () => {
  it('wraps a payload as STX | LEN big-endian | PAYLOAD | ETX | LRC over LEN..ETX', () => {
    expect(encodeFrame(Buffer.from('{}')).toString('hex')).toBe('0200027b7d0307');
    const empty = encodeFrame(Buffer.alloc(0));
    expect([...empty]).toEqual([STX, 0, 0, ETX, ETX]);
    const big = encodeFrame(Buffer.alloc(300, 0x41));
    expect(big.readUInt16BE(1)).toBe(300);
    expect(big[big.length - 1]).toBe(lrcOf(big, 1, big.length - 1));
  });

  it('refuses a payload the 2-byte LEN cannot express', () => {
    expect(() => encodeFrame(Buffer.alloc(0x10000))).toThrow(RangeError);
  });
});

describe('FrameParser', () => {
  const a = encodeFrame(Buffer.from('{"id":1}'));
  const b = encodeFrame(Buffer.from('{"id":2}'));

  it('reads frames split at every byte and frames merged in one chunk', () => {
    const parser = new FrameParser();
    const got: string[] = [];
    for (const byte of Buffer.concat([a, b])) got.push(...payloads(parser.push(Buffer.from([byte]))));
    expect(got).toEqual(['{"id":1}', '{"id":2}']);
    expect(payloads(new FrameParser().push(Buffer.concat([a, b, a])))).toEqual(['{"id":1}', '{"id":2}', '{"id":1}']);
  });

  it('carries payload bytes equal to STX, ETX, ACK and NAK', () => {
    const tricky = Buffer.from([STX, ETX, ACK, NAK, STX, 0, 0]);
    const result = new FrameParser().push(encodeFrame(tricky));
    expect(result.frames).toEqual([tricky]);
    expect(result.controls).toEqual([]);
  });

  it('skips garbage before STX and reports ACK/NAK between frames in order', () => {
    const stream = Buffer.concat([hex('ff 00 41'), Buffer.from([ACK]), a, Buffer.from([NAK, 0x7e])]);
    const result = new FrameParser().push(stream);
    expect(payloads(result)).toEqual(['{"id":1}']);
    expect(result.controls).toEqual(['ack', 'nak']);
    expect(result.skipped).toBe(4);
    expect(result.errors).toEqual([]);
  });

  it('drops a frame with a bad LRC whole and reads the next one', () => {
    const bad = Buffer.from(a);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x01;
    const result = new FrameParser().push(Buffer.concat([bad, b]));
    expect(result.errors).toEqual([{ code: 'bad-lrc', length: 8 }]);
    expect(payloads(result)).toEqual(['{"id":2}']);
    expect(result.skipped).toBe(0);
  });

  it('resyncs after a bad ETX: LEN is not trusted and the next STX is found inside', () => {
    // A frame whose tail was lost: its LEN runs into the next frame, where no ETX sits.
    const truncated = a.subarray(0, a.length - 4);
    const result = new FrameParser().push(Buffer.concat([truncated, b, Buffer.from([ACK]), b]));
    expect(result.errors.map((e) => e.code)).toEqual(['bad-etx']);
    expect(payloads(result)).toEqual(['{"id":2}', '{"id":2}']);
    expect(result.controls).toEqual(['ack']);
  });

  it('does not take ACK/NAK bytes among the remains of a broken frame as controls', () => {
    // LEN=5 but ETX missing: the 0x06 inside is payload of a broken frame, not an ACK.
    const broken = Buffer.from([STX, 0, 5, ACK, NAK, ACK, 0x41, 0x42, 0x43]);
    const result = new FrameParser().push(Buffer.concat([broken, b, Buffer.from([ACK])]));
    expect(result.controls).toEqual(['ack']);
    expect(payloads(result)).toEqual(['{"id":2}']);
  });

  it('refuses an oversize LEN at once, without waiting for the bytes, and resyncs', () => {
    const parser = new FrameParser({ maxPayload: 16 });
    const result = parser.push(Buffer.concat([hex('02 00 11'), b]));
    expect(result.errors).toEqual([{ code: 'oversize', announced: 17, limit: 16 }]);
    expect(payloads(result)).toEqual(['{"id":2}']);
    expect(parser.pendingBytes).toBe(0);
  });

  it('drops an incomplete frame after the inter-byte timeout (noticed on the next push)', async () => {
    const clock = new ManualClock();
    const parser = new FrameParser({ clock, interByteTimeoutMs: 100 });
    expect(parser.push(a.subarray(0, 5)).frames).toEqual([]);
    expect(parser.pendingBytes).toBe(5);
    await clock.advance(100);
    // Exactly at the limit: still the same frame.
    expect(payloads(parser.push(a.subarray(5)))).toEqual(['{"id":1}']);

    parser.push(a.subarray(0, 5));
    await clock.advance(101);
    const late = parser.push(Buffer.concat([a.subarray(5), b]));
    expect(late.errors).toEqual([{ code: 'timeout', pendingBytes: 5 }]);
    expect(payloads(late)).toEqual(['{"id":2}']);
  });

  it('reports the timeout through onTimeout when the clock fires, so the caller can NAK at once', async () => {
    const clock = new ManualClock();
    const timeouts: FrameError[] = [];
    const parser = new FrameParser({ clock, interByteTimeoutMs: 100, onTimeout: (e) => timeouts.push(e) });
    parser.push(a.subarray(0, 3));
    await clock.advance(60);
    parser.push(a.subarray(3, 6)); // each byte restarts the timer
    await clock.advance(99);
    expect(timeouts).toEqual([]);
    await clock.advance(1);
    expect(timeouts).toEqual([{ code: 'timeout', pendingBytes: 6 }]);
    expect(parser.pendingBytes).toBe(0);
    // The late tail is remains: skipped, and an ACK value inside it is not a control.
    const tail = parser.push(a.subarray(6));
    expect(tail.frames).toEqual([]);
    expect(tail.controls).toEqual([]);
    expect(payloads(parser.push(b))).toEqual(['{"id":2}']);
    expect(clock.pending()).toBe(0);
  });

  it('reset drops a partial frame and its timer', async () => {
    const clock = new ManualClock();
    const timeouts: FrameError[] = [];
    const parser = new FrameParser({ clock, onTimeout: (e) => timeouts.push(e) });
    parser.push(a.subarray(0, 4));
    parser.reset();
    await clock.advance(1000);
    expect(timeouts).toEqual([]);
    expect(payloads(parser.push(a))).toEqual(['{"id":1}']);
  });
});
