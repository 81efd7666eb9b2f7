/**
 * Length-prefixed framing used on the acquirer link: every message is preceded by its length as a 2-byte
 * big-endian integer (the usual "2-byte header" of ISO 8583 over TCP). The decoder is pure so it can be fuzzed.
 */
export const FRAME_HEADER_BYTES = 2;
export const MAX_FRAME_BYTES = 0xffff;

export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME_BYTES) {
    throw new RangeError(`frame of ${payload.length} bytes exceeds the 2-byte length header`);
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt16BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export type FrameDecodeResult =
  | { ok: true; frames: Buffer[] }
  | { ok: false; frames: Buffer[]; error: { code: 'frame-too-large'; announced: number; limit: number } };

export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet forming a whole frame (a peer that closes now closed mid-frame). */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /**
   * Feed received bytes; returns every whole frame now available. Zero-length frames are keep-alives and are
   * dropped. An announced length over the limit poisons the stream: nothing after it can be trusted, so the
   * caller must drop the connection.
   */
  push(chunk: Uint8Array): FrameDecodeResult {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    let offset = 0;
    while (this.buffer.length - offset >= FRAME_HEADER_BYTES) {
      const length = this.buffer.readUInt16BE(offset);
      if (length > this.maxFrameBytes) {
        this.buffer = Buffer.alloc(0);
        return { ok: false, frames, error: { code: 'frame-too-large', announced: length, limit: this.maxFrameBytes } };
      }
      if (this.buffer.length - offset - FRAME_HEADER_BYTES < length) break;
      const start = offset + FRAME_HEADER_BYTES;
      if (length > 0) frames.push(Buffer.from(this.buffer.subarray(start, start + length)));
      offset = start + length;
    }
    this.buffer = offset === 0 ? this.buffer : Buffer.from(this.buffer.subarray(offset));
    return { ok: true, frames };
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}
