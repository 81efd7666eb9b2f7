/** The telemetry outbox in the journal (migration 3): order, removal on acknowledgement, and the bound. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPLICATION_ID,
  Journal,
  JournalError,
  MIGRATIONS,
  SCHEMA_VERSION,
  type OutboxKind,
} from '../../src/journal/index.js';

let dir: string;
let path: string;
const open: Journal[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-test-'));
  path = join(dir, 'data', 'journal.sqlite');
});
afterEach(() => {
  for (const j of open.splice(0)) j.close();
  rmSync(dir, { recursive: true, force: true });
});

function journal(): Journal {
  let t = Date.UTC(2026, 0, 1);
  const j = Journal.open(path, { now: () => (t += 1000) });
  open.push(j);
  return j;
}

let seq = 0;
function item(kind: OutboxKind, text: string = kind) {
  seq += 1;
  return { kind, topic: `pos/v1/f/T/${kind}`, payload: Buffer.from(`${text}#${seq}`), bootId: 'boot-1', seq };
}

describe('telemetry outbox', () => {
  it('keeps messages in insertion order and removes only what was acknowledged', () => {
    const j = journal();
    const a = j.outbox.append(item('event'), 100);
    const b = j.outbox.append({ ...item('state'), retain: true }, 100);
    const c = j.outbox.append(item('health'), 100);
    expect([a.id, b.id, c.id]).toEqual([...[a.id, b.id, c.id]].sort((x, y) => x - y));
    expect(c).toMatchObject({ depth: 3, dropped: { health: 0, other: 0 } });
    const rows = j.outbox.peek(0, 10);
    expect(rows.map((r) => [r.kind, r.retain, r.bootId])).toEqual([
      ['event', false, 'boot-1'],
      ['state', true, 'boot-1'],
      ['health', false, 'boot-1'],
    ]);
    expect(Buffer.isBuffer(rows[0]!.payload)).toBe(true);
    expect(j.outbox.peek(a.id, 1).map((r) => r.id)).toEqual([b.id]);
    expect(j.outbox.remove([b.id, 999_999])).toBe(1);
    expect(j.outbox.peek(0, 10).map((r) => r.id)).toEqual([a.id, c.id]);
    expect(j.outbox.stats()).toMatchObject({ depth: 2, health: 1 });
    // Ids are never reused, so a message queued later always sorts later.
    j.outbox.remove([a.id, c.id]);
    expect(j.outbox.append(item('event'), 100).id).toBeGreaterThan(c.id);
  });

  it('survives a reopen (it is on disk)', () => {
    const j = journal();
    j.outbox.append(item('event', 'kept'), 100);
    j.close();
    expect(
      journal()
        .outbox.peek(0, 10)
        .map((r) => r.payload.toString()),
    ).toEqual([expect.stringMatching(/^kept#/)]);
  });

  it('at the bound drops the oldest health first, keeps the newest health, then drops the oldest others', () => {
    const j = journal();
    j.outbox.append(item('health', 'h1'), 5);
    j.outbox.append(item('event', 'e1'), 5);
    j.outbox.append(item('health', 'h2'), 5);
    j.outbox.append(item('event', 'e2'), 5);
    j.outbox.append(item('health', 'h3'), 5);
    const r = j.outbox.append(item('event', 'e3'), 5);
    expect(r).toMatchObject({ depth: 5, dropped: { health: 1, other: 0 } });
    const names = () => j.outbox.peek(0, 100).map((row) => row.payload.toString().split('#')[0]);
    expect(names()).toEqual(['e1', 'h2', 'e2', 'h3', 'e3']);
    expect(j.outbox.append(item('event', 'e4'), 5).dropped).toEqual({ health: 1, other: 0 });
    expect(names()).toEqual(['e1', 'e2', 'h3', 'e3', 'e4']);
    // Only the newest health is left: now the oldest event goes.
    expect(j.outbox.append(item('event', 'e5'), 5).dropped).toEqual({ health: 0, other: 1 });
    expect(names()).toEqual(['e2', 'h3', 'e3', 'e4', 'e5']);
    // A new health replaces the old newest one.
    expect(j.outbox.append(item('health', 'h4'), 5).dropped).toEqual({ health: 1, other: 0 });
    expect(names()).toEqual(['e2', 'e3', 'e4', 'e5', 'h4']);
  });

  it('refuses what it cannot hold', () => {
    const j = journal();
    const refused = (fn: () => unknown) => {
      expect(fn).toThrow(JournalError);
      try {
        fn();
      } catch (err) {
        expect((err as JournalError).code).toBe('invalid-record');
      }
    };
    refused(() => j.outbox.append({ ...item('event'), kind: 'nonsense' as OutboxKind }, 10));
    refused(() => j.outbox.append({ ...item('event'), payload: Buffer.alloc(0) }, 10));
    refused(() => j.outbox.append({ ...item('event'), seq: -1 }, 10));
    refused(() => j.outbox.append(item('event'), 0));
    expect(j.outbox.stats().depth).toBe(0);
  });

  it('migration 3 upgrades a version 2 journal in place', () => {
    mkdirSync(dirname(path), { recursive: true });
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.exec('BEGIN');
    for (const m of MIGRATIONS.filter((m) => m.version <= 2)) m.up(raw);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma('user_version = 2');
    raw.exec('COMMIT');
    raw.prepare("INSERT INTO counters (name, value) VALUES ('stan', 41)").run();
    raw.close();

    const j = journal();
    expect(SCHEMA_VERSION).toBe(9);
    expect(j.settings().schemaVersion).toBe(SCHEMA_VERSION);
    expect(j.counters.nextStan()).toBe(42);
    expect(j.outbox.append(item('event'), 10).depth).toBe(1);
    expect(j.integrityCheck()).toEqual(['ok']);
  });
});
