/**
 * The telemetry outbox: encoded messages waiting for the MQTT broker, sent in id order and deleted once the broker
 * acknowledged them. Bounded: old health goes first when it is full.
 */
import type Database from 'better-sqlite3';
import { checkText, invalid, limitParam } from '../checks.js';
import { OUTBOX_KINDS, type OutboxKind, type OutboxRow } from '../schema.js';
import { Store, type Stmt } from './store.js';

/** A telemetry message for the outbox: already encoded, its seq fixed when it was made. */
export interface OutboxInput {
  kind: OutboxKind;
  topic: string;
  payload: Uint8Array;
  retain?: boolean;
  bootId: string;
  seq: number;
}

export interface OutboxAppendResult {
  id: number;
  /** What the bound removed to make room: old health, then (only when no other health is left) the oldest others. */
  dropped: { health: number; other: number };
  /** Rows in the outbox after the append. */
  depth: number;
}

export interface OutboxStats {
  depth: number;
  health: number;
  oldestAt: number | null;
}

const OUTBOX_COLUMNS = `id, kind, topic, payload, retain, boot_id AS bootId, seq, created_at AS createdAt`;

export class OutboxStore extends Store {
  private readonly stmt: Record<'insert' | 'depth' | 'dropHealth' | 'dropOther' | 'peek' | 'remove' | 'stats', Stmt>;
  private readonly tx: {
    append: Database.Transaction<(item: OutboxInput, maxMessages: number) => OutboxAppendResult>;
    removeAll: Database.Transaction<(ids: readonly number[]) => number>;
  };

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    const p = (sql: string): Stmt => db.prepare(sql);
    const stmt = {
      insert: p(`INSERT INTO telemetry_outbox (kind, topic, payload, retain, boot_id, seq, created_at)
        VALUES (@kind, @topic, @payload, @retain, @bootId, @seq, @now) RETURNING id`),
      depth: p('SELECT count(*) AS n FROM telemetry_outbox'),
      // The newest health stays: after an outage it is the latest word on the terminal's state.
      dropHealth: p(`DELETE FROM telemetry_outbox WHERE id IN (SELECT id FROM telemetry_outbox
        WHERE kind = 'health' AND id < (SELECT max(id) FROM telemetry_outbox WHERE kind = 'health') ORDER BY id LIMIT ?)`),
      dropOther: p(`DELETE FROM telemetry_outbox WHERE id IN (SELECT id FROM telemetry_outbox
        WHERE kind <> 'health' ORDER BY id LIMIT ?)`),
      peek: p(`SELECT ${OUTBOX_COLUMNS} FROM telemetry_outbox WHERE id > ? ORDER BY id LIMIT ?`),
      remove: p('DELETE FROM telemetry_outbox WHERE id = ?'),
      stats: p(`SELECT count(*) AS depth, count(*) FILTER (WHERE kind = 'health') AS health, min(created_at) AS oldestAt
        FROM telemetry_outbox`),
    };
    this.stmt = stmt;
    this.tx = {
      append: db.transaction((item: OutboxInput, maxMessages: number): OutboxAppendResult => {
        const { id } = stmt.insert.get({
          kind: item.kind,
          topic: item.topic,
          payload: Buffer.from(item.payload.buffer, item.payload.byteOffset, item.payload.byteLength),
          retain: item.retain ? 1 : 0,
          bootId: item.bootId,
          seq: item.seq,
          now: this.now(),
        }) as { id: number };
        let depth = (stmt.depth.get() as { n: number }).n;
        const dropped = { health: 0, other: 0 };
        if (depth > maxMessages) {
          dropped.health = stmt.dropHealth.run(depth - maxMessages).changes;
          depth -= dropped.health;
        }
        if (depth > maxMessages) {
          dropped.other = stmt.dropOther.run(depth - maxMessages).changes;
          depth -= dropped.other;
        }
        return { id, dropped, depth };
      }),
      removeAll: db.transaction((ids: readonly number[]) => ids.reduce((n, id) => n + stmt.remove.run(id).changes, 0)),
    };
  }

  /**
   * Queues a telemetry message and applies the bound in the same commit: above `maxMessages` rows, old health goes
   * first (the newest health stays), and only when no other health is left the oldest other messages.
   */
  append(item: OutboxInput, maxMessages: number): OutboxAppendResult {
    return this.run(`queue telemetry ${String(item?.kind)}`, () => {
      if (item === null || typeof item !== 'object') invalid('outbox item must be an object');
      if (!OUTBOX_KINDS.includes(item.kind)) invalid(`kind must be one of ${OUTBOX_KINDS.join(', ')}`);
      checkText(item.topic, 'topic', 1024);
      checkText(item.bootId, 'bootId', 100);
      if (!Number.isSafeInteger(item.seq) || item.seq < 0) invalid('seq must be a non-negative integer');
      // Protobuf bytes cannot be read like text: the telemetry module checks the message for card data before encoding.
      if (!(item.payload instanceof Uint8Array) || item.payload.byteLength === 0)
        invalid('payload must be non-empty bytes');
      if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) invalid('maxMessages must be a positive integer');
      return this.tx.append.immediate(item, maxMessages);
    });
  }

  /** Queued telemetry after `afterId` in sending order, at most `limit` rows. */
  peek(afterId: number, limit: number): OutboxRow[] {
    return this.run('read telemetry outbox', () =>
      (this.stmt.peek.all(afterId, limitParam(limit)) as Array<Omit<OutboxRow, 'retain'> & { retain: number }>).map(
        (r) => ({ ...r, retain: r.retain === 1 }),
      ),
    );
  }

  /** Removes messages the broker acknowledged (ids already gone are ignored); one commit for all. */
  remove(ids: readonly number[]): number {
    if (ids.length === 0) return 0;
    return this.run('remove sent telemetry', () => this.tx.removeAll.immediate(ids));
  }

  stats(): OutboxStats {
    return this.run('telemetry outbox stats', () => this.stmt.stats.get() as OutboxStats);
  }
}
