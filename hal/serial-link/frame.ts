/**
 * Link-layer framing of the serial devices, the card module's and the PIN pad's (full description:
 * hal/card-reader/SERIAL-FRAME.md).
 *
 *   STX 0x02 | LEN (2 bytes, big-endian, payload length) | PAYLOAD | ETX 0x03 | LRC
 *
 * LRC = XOR of every byte from the first LEN byte through ETX inclusive (STX excluded). Outside a frame a single
 * byte ACK 0x06 accepts the last frame received, NAK 0x15 asks for it again. Stop-and-wait: one unacknowledged frame
 * per direction at a time.
 *
 * The parser is pure apart from time: garbage before STX is skipped, frames may arrive split or merged, a bad LRC
 * drops the frame (the caller NAKs), a bad ETX or an oversize LEN means the length cannot be trusted, so it resyncs
 * on the next STX after the false one, and a frame left incomplete for longer than the inter-byte timeout is dropped.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';

export const STX = 0x02;
export const ETX = 0x03;
export const ACK = 0x06;
export const NAK = 0x15;
/** STX + LEN(2) + ETX + LRC around the payload. */
export const FRAME_OVERHEAD = 5;
export const MAX_LEN_FIELD = 0xffff;
export const DEFAULT_MAX_PAYLOAD = 4096;
export const DEFAULT_INTER_BYTE_TIMEOUT_MS = 100;

export type FrameError =
  | { code: 'bad-lrc'; length: number }
  | { code: 'bad-etx'; length: number }
  | { code: 'oversize'; announced: number; limit: number }
  | { code: 'timeout'; pendingBytes: number };

export type ControlByte = 'ack' | 'nak';

export interface FrameParseResult {
  /** Payloads of the whole, valid frames, in order. */
  frames: Buffer[];
  errors: FrameError[];
  /** ACK / NAK bytes received between frames, in order. */
  controls: ControlByte[];
  /** Bytes dropped while hunting for STX (noise, or the remains of a broken frame). */
  skipped: number;
}

export interface FrameParserOptions {
  /** Largest payload accepted; a LEN above it is 'oversize'. Default 4096. */
  maxPayload?: number;
  /** Silence allowed inside a frame before it is dropped as 'timeout'. Default 100 ms. */
  interByteTimeoutMs?: number;
  clock?: Clock;
  /**
   * Called when the inter-byte timer fires on an incomplete frame, so the caller can NAK at once. Without it the
   * timeout is noticed, and reported, by the next push().
   */
  onTimeout?: (error: FrameError) => void;
}

export function lrcOf(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let lrc = 0;
  for (let i = start; i < end; i++) lrc ^= bytes[i] as number;
  return lrc;
}

export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > MAX_LEN_FIELD) {
    throw new RangeError(`payload of ${payload.length} bytes exceeds the 2-byte LEN field`);
  }
  const out = Buffer.allocUnsafe(payload.length + FRAME_OVERHEAD);
  out[0] = STX;
  out.writeUInt16BE(payload.length, 1);
  out.set(payload, 3);
  out[3 + payload.length] = ETX;
  out[4 + payload.length] = lrcOf(out, 1, 4 + payload.length);
  return out;
}

export class FrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  /**
   * Bytes up to the next STX are the remains of a broken frame. ACK/NAK values there are data, not controls: a
   * phantom ACK would confirm a frame the peer never got, while a lost real ACK only costs a retransmit.
   */
  private inRemains = false;
  private lastByteAt = 0;
  private timer: TimerHandle | undefined;
  private readonly maxPayload: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: FrameParserOptions = {}) {
    this.maxPayload = Math.min(options.maxPayload ?? DEFAULT_MAX_PAYLOAD, MAX_LEN_FIELD);
    this.timeoutMs = options.interByteTimeoutMs ?? DEFAULT_INTER_BYTE_TIMEOUT_MS;
    this.clock = options.clock ?? systemClock;
  }

  /** Bytes of an incomplete frame held back. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  push(bytes: Uint8Array): FrameParseResult {
    const result: FrameParseResult = { frames: [], errors: [], controls: [], skipped: 0 };
    const now = this.clock.now();
    if (this.buffer.length > 0 && now - this.lastByteAt > this.timeoutMs) {
      result.errors.push(this.dropPending());
    }
    if (bytes.length === 0) return result;
    this.lastByteAt = now;
    let buf: Buffer = this.buffer.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.buffer, bytes]);

    while (buf.length > 0) {
      if (buf[0] !== STX) {
        let i = 0;
        while (i < buf.length && buf[i] !== STX) {
          const b = buf[i];
          if (!this.inRemains && b === ACK) result.controls.push('ack');
          else if (!this.inRemains && b === NAK) result.controls.push('nak');
          else result.skipped++;
          i++;
        }
        buf = buf.subarray(i);
        continue;
      }
      if (buf.length < 3) break;
      const length = buf.readUInt16BE(1);
      if (length > this.maxPayload) {
        result.errors.push({ code: 'oversize', announced: length, limit: this.maxPayload });
        buf = this.resync(buf);
        continue;
      }
      const total = length + FRAME_OVERHEAD;
      if (buf.length < total) break;
      if (buf[3 + length] !== ETX) {
        result.errors.push({ code: 'bad-etx', length });
        buf = this.resync(buf);
        continue;
      }
      if (lrcOf(buf, 1, 4 + length) !== buf[4 + length]) {
        // ETX sits where LEN says: the length is believable, only the content is damaged. Skip the whole frame.
        result.errors.push({ code: 'bad-lrc', length });
      } else {
        result.frames.push(Buffer.from(buf.subarray(3, 3 + length)));
      }
      this.inRemains = false;
      buf = buf.subarray(total);
    }

    this.buffer = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    this.armTimer();
    return result;
  }

  /** Drop any partial frame (after the link was reset or reopened). */
  reset(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.buffer = Buffer.alloc(0);
    this.inRemains = false;
  }

  private dropPending(): FrameError {
    const error: FrameError = { code: 'timeout', pendingBytes: this.buffer.length };
    this.reset();
    // A late tail of the dropped frame may still arrive.
    this.inRemains = true;
    return error;
  }

  /** The STX at the head was false: rescan from the byte after it. */
  private resync(buf: Buffer): Buffer {
    this.inRemains = true;
    return buf.subarray(1);
  }

  private armTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const onTimeout = this.options.onTimeout;
    if (!onTimeout || this.buffer.length === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.buffer.length > 0) onTimeout(this.dropPending());
    }, this.timeoutMs);
  }
}
