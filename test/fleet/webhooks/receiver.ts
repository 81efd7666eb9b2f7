/**
 * A real HTTP receiver on loopback for webhook tests: it answers from a script (a status, or 'hang' to never
 * answer), keeps every request with the simulated time it arrived, and dedups by Idempotency-Key as a careful
 * receiver would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../hal/clock.js';

/** A status, a status with a Retry-After, or 'hang' (never answer). */
export type Answer = number | { status: number; retryAfter: string } | 'hang';

export interface Received {
  at: number;
  key: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export class Receiver {
  readonly requests: Received[] = [];
  /** Idempotency keys of the deliveries accepted (2xx), once each however often they came. */
  readonly accepted = new Set<string>();
  /** How many times a key was accepted again (0 for a sender that never repeats a delivered call). */
  duplicates = 0;
  private readonly hanging = new Map<ServerResponse, number>();
  private server: Server | undefined;
  url = '';

  /** `script(n)`: the answer to the n-th request (0-based); after the script, `then`. */
  constructor(
    private readonly clock: Clock,
    private readonly script: (n: number, req: Received) => Answer = () => 200,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got: Received = {
          at: this.clock.now(),
          key: String(req.headers['idempotency-key'] ?? ''),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const answer = this.script(this.requests.length, got);
        this.requests.push(got);
        if (answer === 'hang') {
          this.hanging.set(res, this.requests.length - 1);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        const status = typeof answer === 'number' ? answer : answer.status;
        if (status >= 200 && status < 300) {
          if (this.accepted.has(got.key)) this.duplicates++;
          this.accepted.add(got.key);
        }
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (typeof answer === 'object') headers['retry-after'] = answer.retryAfter;
        res.writeHead(status, headers).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /**
   * Requests held without an answer whose sender is still waiting: a held request is over once the same key came
   * again (a delivery is never sent twice at once), even before its closed connection is noticed here.
   */
  get held(): number {
    let n = 0;
    for (const index of this.hanging.values()) {
      const key = this.requests[index]!.key;
      if (this.requests.findLastIndex((q) => q.key === key) === index) n++;
    }
    return n;
  }

  keys(): string[] {
    return this.requests.map((r) => r.key);
  }

  async close(): Promise<void> {
    for (const res of this.hanging.keys()) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
