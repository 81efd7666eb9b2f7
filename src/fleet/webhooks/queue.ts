/**
 * The durable delivery queue: one row per (webhook, alert change), written before anything is sent, so a delivery
 * survives a restart and is sent after it. The row's id is the idempotency key every attempt carries. Finished rows
 * (sent, or given up with the reason) stay for `keepDays` so what happened can be read back.
 */
import Database from 'better-sqlite3';

export type DeliveryState = 'pending' | 'sent' | 'failed';

export interface Delivery {
  id: string;
  webhook: string;
  url: string;
  body: string;
  createdAt: number;
  attempts: number;
  nextAt: number;
  state: DeliveryState;
  lastError: string | null;
  lastStatus: number | null;
  finishedAt: number | null;
}

interface Row {
  id: string;
  webhook: string;
  url: string;
  body: string;
  created_at: number;
  attempts: number;
  next_at: number;
  state: DeliveryState;
  last_error: string | null;
  last_status: number | null;
  finished_at: number | null;
}

export class DeliveryQueue {
  private readonly db: Database.Database;
  private pendingCount: number;
  private readonly stmt: Record<
    'insert' | 'due' | 'sent' | 'retry' | 'failed' | 'webhooks' | 'byId' | 'prune' | 'count' | 'all',
    Database.Statement
  >;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS webhook_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        webhook TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
        last_error TEXT,
        last_status INTEGER,
        finished_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (webhook, next_at) WHERE state = 'pending';
    `);
    const cols = 'id, webhook, url, body, created_at, attempts, next_at, state, last_error, last_status, finished_at';
    this.stmt = {
      insert: this.db.prepare(
        `INSERT INTO webhook_deliveries (id, webhook, url, body, created_at, next_at, state, last_error, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      due: this.db.prepare(
        `SELECT ${cols} FROM webhook_deliveries WHERE state = 'pending' AND webhook = ? AND next_at <= ? ORDER BY next_at, seq LIMIT ?`,
      ),
      sent: this.db.prepare(
        "UPDATE webhook_deliveries SET state = 'sent', attempts = attempts + 1, last_status = ?, last_error = NULL, finished_at = ? WHERE id = ? AND state = 'pending'",
      ),
      retry: this.db.prepare(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = ?, last_status = ?, last_error = ? WHERE id = ? AND state = 'pending'",
      ),
      failed: this.db.prepare(
        "UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + ?, last_status = coalesce(?, last_status), last_error = ?, finished_at = ? WHERE id = ? AND state = 'pending'",
      ),
      webhooks: this.db.prepare("SELECT DISTINCT webhook FROM webhook_deliveries WHERE state = 'pending'"),
      byId: this.db.prepare(`SELECT ${cols} FROM webhook_deliveries WHERE id = ?`),
      prune: this.db.prepare("DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_at < ?"),
      count: this.db.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'pending'"),
      all: this.db.prepare(`SELECT ${cols} FROM webhook_deliveries ORDER BY seq`),
    };
    this.pendingCount = (this.stmt.count.get() as { n: number }).n;
  }

  get pending(): number {
    return this.pendingCount;
  }

  /** Queues a delivery due now; when `refused` is given it is recorded as failed at once (the queue is full). */
  add(d: { id: string; webhook: string; url: string; body: string; at: number }, refused?: string): void {
    if (refused === undefined) {
      this.stmt.insert.run(d.id, d.webhook, d.url, d.body, d.at, d.at, 'pending', null, null);
      this.pendingCount++;
    } else {
      this.stmt.insert.run(d.id, d.webhook, d.url, d.body, d.at, d.at, 'failed', refused, d.at);
    }
  }

  due(webhook: string, now: number, limit: number): Delivery[] {
    return (this.stmt.due.all(webhook, now, limit) as Row[]).map(toDelivery);
  }

  markSent(id: string, status: number, at: number): void {
    if (this.stmt.sent.run(status, at, id).changes > 0) this.pendingCount--;
  }

  markRetry(id: string, nextAt: number, status: number | null, error: string): void {
    this.stmt.retry.run(nextAt, status, error, id);
  }

  /** `attempted`: whether this failure ends an attempt (false: given up before sending). */
  markFailed(id: string, error: string, at: number, status: number | null = null, attempted = true): void {
    if (this.stmt.failed.run(attempted ? 1 : 0, status, error, at, id).changes > 0) this.pendingCount--;
  }

  /** The webhooks that have deliveries waiting (some may no longer be configured). */
  pendingWebhooks(): string[] {
    return (this.stmt.webhooks.all() as { webhook: string }[]).map((r) => r.webhook);
  }

  get(id: string): Delivery | undefined {
    const row = this.stmt.byId.get(id) as Row | undefined;
    return row ? toDelivery(row) : undefined;
  }

  /** Every delivery kept, oldest first (for tests and support). */
  all(): Delivery[] {
    return (this.stmt.all.all() as Row[]).map(toDelivery);
  }

  prune(before: number): number {
    return this.stmt.prune.run(before).changes;
  }

  close(): void {
    this.db.close();
  }
}

function toDelivery(r: Row): Delivery {
  return {
    id: r.id,
    webhook: r.webhook,
    url: r.url,
    body: r.body,
    createdAt: r.created_at,
    attempts: r.attempts,
    nextAt: r.next_at,
    state: r.state,
    lastError: r.last_error,
    lastStatus: r.last_status,
    finishedAt: r.finished_at,
  };
}
