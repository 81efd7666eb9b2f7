/**
 * The fleet command ids this terminal has run, kept in the data directory so a replayed command is not run again
 * after a restart either. An id is remembered from the moment it starts (a crash mid-command must not let a replay
 * run it twice) with its first result once there is one. Ids are kept while their command could still pass the age
 * check (twice the allowed age), and at most `max` of them.
 */
import { readFileSync } from 'node:fs';
import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../util/log.js';
import { writeFileAtomically } from '../util/durable-file.js';

export interface RememberedOutcome {
  ok: boolean;
  error: number;
  message: string;
}

interface Entry {
  at: number;
  outcome: RememberedOutcome | null;
}

export interface CommandMemoryOptions {
  /** Absent: remembered in memory only. */
  file?: string;
  keepMs: number;
  max?: number;
  clock: Clock;
  log: Logger;
}

export type Recall = { seen: false } | { seen: true; outcome: RememberedOutcome | null };

export class CommandMemory {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;

  constructor(private readonly o: CommandMemoryOptions) {
    this.max = o.max ?? 10_000;
    this.load();
  }

  recall(commandId: string): Recall {
    this.prune();
    const entry = this.entries.get(commandId);
    return entry ? { seen: true, outcome: entry.outcome } : { seen: false };
  }

  begin(commandId: string): void {
    this.entries.set(commandId, { at: this.o.clock.now(), outcome: null });
    this.prune();
    this.save();
  }

  finish(commandId: string, outcome: RememberedOutcome): void {
    const entry = this.entries.get(commandId);
    if (!entry) return;
    entry.outcome = { ok: outcome.ok, error: outcome.error, message: outcome.message.slice(0, 500) };
    this.save();
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(): void {
    const oldest = this.o.clock.now() - this.o.keepMs;
    for (const [id, entry] of this.entries) {
      if (entry.at >= oldest && this.entries.size <= this.max) break;
      this.entries.delete(id);
    }
  }

  private load(): void {
    if (!this.o.file) return;
    let text: string;
    try {
      text = readFileSync(this.o.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.o.log.warn({ err: (err as Error).message }, 'fleet command ids could not be read; starting empty');
      return;
    }
    try {
      const rows = JSON.parse(text) as unknown;
      if (!Array.isArray(rows)) throw new Error('not a list');
      for (const row of rows) {
        if (!Array.isArray(row) || typeof row[0] !== 'string' || typeof row[1] !== 'number') continue;
        const o = row[2] as RememberedOutcome | null;
        const outcome =
          o && typeof o === 'object' && typeof o.ok === 'boolean' && typeof o.message === 'string'
            ? { ok: o.ok, error: Number(o.error) || 0, message: o.message }
            : null;
        this.entries.set(row[0], { at: row[1], outcome });
      }
    } catch (err) {
      // A damaged file forgets ids; the age check still refuses anything older than the allowed age.
      this.o.log.warn({ err: (err as Error).message }, 'fleet command ids file damaged; starting empty');
    }
    this.prune();
  }

  private save(): void {
    if (!this.o.file) return;
    const rows = [...this.entries].map(([id, e]) => [id, e.at, e.outcome]);
    try {
      writeFileAtomically(this.o.file, JSON.stringify(rows), { mode: 0o600 });
    } catch (err) {
      this.o.log.error({ err }, 'fleet command ids could not be saved');
    }
  }
}
