/** Splitting the ECR byte stream into lines, with a bound on what an unfinished line may hold. */

const NEWLINE = 0x0a;
const CR = 0x0d;

export type LineEvent = { line: Buffer } | { tooLong: true };

/**
 * Splits a byte stream on `\n` (a trailing `\r` is dropped) without ever holding more than `maxLineBytes` of an
 * unfinished line. A longer line is reported once, as soon as it crosses the limit, and skipped up to its newline.
 */
export class LineReader {
  private chunks: Buffer[] = [];
  private pending = 0;
  private discarding = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Bytes held for the current unfinished line. */
  get pendingBytes(): number {
    return this.pending;
  }

  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const part = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (nl === -1) {
        if (part.length > 0 && !this.discarding) {
          if (this.pending + part.length > this.maxLineBytes) {
            events.push({ tooLong: true });
            this.reset();
            this.discarding = true;
          } else {
            // Copied so a small remainder does not pin the whole socket chunk in memory.
            this.chunks.push(Buffer.from(part));
            this.pending += part.length;
          }
        }
        break;
      }
      if (this.discarding) {
        this.discarding = false;
      } else if (this.pending + part.length > this.maxLineBytes) {
        events.push({ tooLong: true });
      } else {
        events.push({ line: this.take(part) });
      }
      this.reset();
      start = nl + 1;
    }
    return events;
  }

  /** The stream ended: an unterminated last line still counts. */
  end(): LineEvent[] {
    const events: LineEvent[] = [];
    if (!this.discarding && this.pending > 0) events.push({ line: this.take(Buffer.alloc(0)) });
    this.reset();
    this.discarding = false;
    return events;
  }

  private take(last: Buffer): Buffer {
    const line = this.chunks.length === 0 ? last : Buffer.concat([...this.chunks, last]);
    return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
  }

  private reset(): void {
    this.chunks = [];
    this.pending = 0;
  }
}
