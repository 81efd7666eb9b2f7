/**
 * A deadline index: for each key (a terminal), the earliest time something about it can change without a message,
 * kept in a binary min-heap so a periodic check takes out only the keys that are due instead of scanning them all.
 *
 * Moving a key's deadline later leaves the earlier entry in place: it falls due early, the owner looks at the key
 * (nothing changed), and schedules it again at its real deadline. Moving it earlier adds an entry and leaves the
 * later one behind as stale (skipped when it surfaces). So the heap holds at most a few entries per key, however
 * many messages arrive, and each message costs O(1) unless it brings a deadline forward (O(log n)).
 */
export class DeadlineIndex {
  private readonly heapAt: number[] = [];
  private readonly heapKey: string[] = [];
  /** The deadline each key is due at; an entry of the heap that disagrees is stale. */
  private readonly due = new Map<string, number>();

  get size(): number {
    return this.due.size;
  }

  /** When `key` is next due, if it is scheduled. */
  deadline(key: string): number | undefined {
    return this.due.get(key);
  }

  /** Makes `key` due at `at` unless it is already due earlier. Infinity (or NaN) schedules nothing. */
  schedule(key: string, at: number): void {
    if (!(at < Number.POSITIVE_INFINITY)) return;
    const current = this.due.get(key);
    if (current !== undefined && current <= at) return;
    this.due.set(key, at);
    this.push(at, key);
  }

  /** Forgets `key` (its heap entries become stale). */
  remove(key: string): void {
    this.due.delete(key);
  }

  /** Takes out every key due at or before `at`, earliest first; each is unscheduled until scheduled again. */
  takeDue(at: number): string[] {
    const out: string[] = [];
    while (this.heapAt.length > 0 && (this.heapAt[0] as number) <= at) {
      const entryAt = this.heapAt[0] as number;
      const key = this.heapKey[0] as string;
      this.pop();
      if (this.due.get(key) !== entryAt) continue;
      this.due.delete(key);
      out.push(key);
    }
    // Stale entries pile up only when deadlines keep moving earlier; rebuild once they outnumber the live ones.
    if (this.heapAt.length > 64 && this.heapAt.length > 4 * this.due.size) this.rebuild();
    return out;
  }

  private rebuild(): void {
    this.heapAt.length = 0;
    this.heapKey.length = 0;
    for (const [key, at] of this.due) this.push(at, key);
  }

  private push(at: number, key: string): void {
    const h = this.heapAt;
    const k = this.heapKey;
    let i = h.length;
    h.push(at);
    k.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pAt = h[parent] as number;
      if (pAt <= at) break;
      h[i] = pAt;
      k[i] = k[parent] as string;
      i = parent;
    }
    h[i] = at;
    k[i] = key;
  }

  private pop(): void {
    const h = this.heapAt;
    const k = this.heapKey;
    const lastAt = h.pop() as number;
    const lastKey = k.pop() as string;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (h[right] as number) < (h[left] as number) ? right : left;
      if ((h[child] as number) >= lastAt) break;
      h[i] = h[child] as number;
      k[i] = k[child] as string;
      i = child;
    }
    h[i] = lastAt;
    k[i] = lastKey;
  }
}
