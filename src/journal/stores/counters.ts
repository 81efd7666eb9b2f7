/**
 * The counters: the STAN (field 11), committed before it is used so a crash never reuses one, and the journal's
 * identity, compared at boot with the record kept outside the database (see outside-record.ts).
 */
import type Database from 'better-sqlite3';
import { invalid } from '../checks.js';
import { JournalError } from '../schema.js';
import { STAN_MAX, stanDistance } from '../stan.js';
import { Store, type Stmt } from './store.js';

/**
 * Who this journal is and how far its STANs may go, as its counters hold them; compared at boot with the record kept
 * outside the database (see outside-record.ts). null: never stamped (a new journal, or one from before the record).
 */
export interface JournalIdentity {
  journalId: number | null;
  generation: number;
  /** The last STAN issued (0 before the first). */
  stan: number;
  /** STANs up to this one may be issued without asking the reserver; null: no reservation (no record in use). */
  stanReserved: number | null;
}

const IDENTITY_COUNTERS = {
  journalId: 'journal_id',
  generation: 'generation',
  stan: 'stan',
  stanReserved: 'stan_reserved',
} as const;

export class CounterStore extends Store {
  /** Called when the reserved STANs run out: moves the mark on, durably, before a STAN beyond it is issued. */
  private stanReserver: (() => void) | undefined;
  private readonly stmt: Record<'get' | 'set' | 'stanInFlight', Stmt>;
  private readonly tx: {
    nextStan: Database.Transaction<(reserved: boolean) => number | undefined>;
    stampIdentity: Database.Transaction<(next: Partial<JournalIdentity>) => JournalIdentity>;
  };

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    this.stmt = {
      get: db.prepare('SELECT value FROM counters WHERE name = ?'),
      set: db.prepare(
        'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ),
      stanInFlight: db.prepare('SELECT 1 FROM transactions WHERE stan = ? AND outcome IS NULL LIMIT 1'),
    };
    this.tx = {
      // undefined (nothing written): the next free STAN lies beyond the reserved mark, which must move on first.
      nextStan: db.transaction((reserved: boolean) => {
        let stan = this.counter('stan') ?? 0;
        const mark = reserved ? this.counter('stan_reserved') : undefined;
        let room = mark === undefined ? STAN_MAX : stanDistance(stan, mark);
        // Skip a STAN still owned by an unfinished transaction: after a wrap it may yet be in flight at the host.
        for (let tries = 0; tries < STAN_MAX; tries++) {
          if (room-- <= 0) return undefined;
          stan = stan >= STAN_MAX ? 1 : stan + 1;
          if (!this.stmt.stanInFlight.get(stan)) break;
        }
        this.stmt.set.run('stan', stan);
        return stan;
      }),
      stampIdentity: db.transaction((next: Partial<JournalIdentity>) => {
        for (const [key, name] of Object.entries(IDENTITY_COUNTERS) as Array<[keyof JournalIdentity, string]>) {
          const value = next[key];
          if (value !== undefined && value !== null) this.stmt.set.run(name, value);
        }
        return this.readIdentity();
      }),
    };
  }

  private counter(name: string): number | undefined {
    return (this.stmt.get.get(name) as { value: number } | undefined)?.value;
  }

  private readIdentity(): JournalIdentity {
    return {
      journalId: this.counter('journal_id') ?? null,
      generation: this.counter('generation') ?? 0,
      stan: this.counter('stan') ?? 0,
      stanReserved: this.counter('stan_reserved') ?? null,
    };
  }

  /**
   * The next STAN, 1..999999 then 1 again. Committed before it is returned, so a crash never reuses it. With a
   * reserver (reserveStansWith), a STAN beyond the reserved mark is issued only after the reserver moved the mark.
   */
  nextStan(): number {
    return this.run('next STAN', () => {
      // Each reservation moves the mark on, so this ends; the bound only guards against a reserver that does not.
      for (let reservations = 0; reservations <= STAN_MAX; reservations++) {
        const stan = this.tx.nextStan.immediate(this.stanReserver !== undefined);
        if (stan !== undefined) return stan;
        this.stanReserver!();
      }
      throw new JournalError('storage-fault', 'next STAN: the STAN reservation does not move on');
    });
  }

  identity(): JournalIdentity {
    return this.run('read journal identity', () => this.readIdentity());
  }

  /** Writes the given identity counters in one commit (absent ones stay) and returns the result. */
  stampIdentity(next: Partial<JournalIdentity>): JournalIdentity {
    return this.run('stamp journal identity', () => {
      for (const [key, value] of Object.entries(next)) {
        if (value !== undefined && value !== null && (!Number.isSafeInteger(value) || value < 0))
          invalid(`${key} must be a non-negative integer`);
      }
      if (next.stan != null && next.stan > STAN_MAX) invalid(`stan must be at most ${STAN_MAX}`);
      if (next.stanReserved != null && (next.stanReserved < 1 || next.stanReserved > STAN_MAX))
        invalid(`stanReserved must be from 1 to ${STAN_MAX}`);
      return this.tx.stampIdentity.immediate(next);
    });
  }

  /** From now on STANs stop at the reserved mark until `reserve` has moved it (undefined: no limit). */
  reserveStansWith(reserve: (() => void) | undefined): void {
    this.stanReserver = reserve;
  }
}
