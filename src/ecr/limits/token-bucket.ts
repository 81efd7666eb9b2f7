/**
 * Per-client rate limit: one token bucket per client key (limits/client-key.ts: a token's holder or an address), shared
 * by every connection of that client, so opening more connections does not buy more requests. Refilled continuously
 * on an injected time source. Cheap on purpose: a refused request costs a map lookup and a subtraction, never a write.
 */

export interface RateLimitOptions {
  /** Requests a client may send at once after a quiet spell. */
  burst: number;
  /** Sustained requests per second. */
  perSecond: number;
  /** Buckets kept at most; the least recently used is forgotten first (a full bucket is the same as none). */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;
  /** Quiet this long, a bucket has refilled to its burst: keeping it changes nothing, so it is dropped. */
  private readonly fullAfterMs: number;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number,
  ) {
    if (!(options.burst >= 1) || !(options.perSecond > 0))
      throw new RangeError('rate limit needs burst >= 1, perSecond > 0');
    this.maxClients = options.maxClients ?? 4096;
    this.fullAfterMs = (options.burst / options.perSecond) * 1000;
  }

  /** Takes one token for `key`; false when the client is over its limit. */
  take(key: string): boolean {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      const refill = (Math.max(0, now - bucket.at) / 1000) * this.options.perSecond;
      bucket = { tokens: Math.min(this.options.burst, bucket.tokens + refill), at: now };
    } else {
      bucket = { tokens: this.options.burst, at: now };
    }
    this.dropIdle(now);
    // Re-inserted so the map's order is least recently used first.
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Buckets held now (bounded by maxClients; idle ones are dropped as requests come). */
  get size(): number {
    return this.buckets.size;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  /** The least recently used come first: drop from the front while they have been quiet long enough to be full. */
  private dropIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at < this.fullAfterMs) return;
      this.buckets.delete(key);
    }
  }
}
