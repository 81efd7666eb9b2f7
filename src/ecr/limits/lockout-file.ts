/**
 * Lockouts kept durably in one small JSON file in the data directory, one section per guard (the supervisor PIN, the
 * register clients). Written atomically (temp file, fsync, rename: util/durable-file.ts) only when a lock starts or
 * ends or is cleared: rare, not per request.
 *
 * A damaged or unreadable file must neither stop the terminal nor open the door: it is reported as a typed error
 * (`damage`, journaled by the caller), kept aside as `<file>.damaged` for support, and every lock whose key can still
 * be read out of it is held again for `damagedHoldMs` from now (its own time may be the damaged part). A guard that
 * sees `damaged` also locks any client at its first refusal for a while (client-lockout.ts), since the file may have
 * named clients no longer legible.
 */
import { readFileSync, renameSync } from 'node:fs';
import { writeFileAtomically } from '../../util/durable-file.js';

export interface LockoutSection {
  load(): Record<string, number>;
  save(locks: Record<string, number>): void;
  /** True while a damage found at start (this one or a recent one) may have hidden locks. */
  damaged(): boolean;
  /** A supervisor cleared the lockouts: the damage no longer matters. */
  acknowledgeDamage(): void;
}

/** The section recording a damage, so a second restart soon after is as careful as the first. */
const DAMAGE_SECTION = '_damaged';

/** The lockouts file could not be read or understood; the terminal runs on with what could be salvaged. */
export class LockoutFileDamagedError extends Error {
  override readonly name = 'LockoutFileDamagedError';
  constructor(
    readonly path: string,
    readonly reason: 'unreadable' | 'not-json' | 'wrong-shape',
    /** How many locks could still be read out of it. */
    readonly salvaged: number,
    detail: string,
  ) {
    super(`lockouts file ${path} is damaged (${reason}: ${detail}); ${salvaged} lock(s) salvaged and held`);
  }
}

export const DEFAULT_DAMAGED_HOLD_MS = 15 * 60_000;

type Sections = Record<string, Record<string, number>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The file's content when it is exactly the expected shape: sections of key → finite number. */
function wellFormed(parsed: unknown): Sections | undefined {
  if (!isRecord(parsed)) return undefined;
  const out: Sections = {};
  for (const [name, section] of Object.entries(parsed)) {
    if (!isRecord(section)) return undefined;
    out[name] = {};
    for (const [key, until] of Object.entries(section)) {
      if (typeof until !== 'number' || !Number.isFinite(until)) return undefined;
      out[name][key] = until;
    }
  }
  return out;
}

/**
 * Every `"key": <digits>` still legible, assigned to the section whose `"name": {` came last before it. Keys are
 * short printable strings (client keys, the supervisor guard's names); anything else is skipped.
 */
function salvage(text: string, until: number): Sections {
  const out: Sections = {};
  const tokens = /"([\x20-\x21\x23-\x5b\x5d-\x7e]{1,200})"\s*:\s*(\{|-?\d+)/g;
  let section: string | undefined;
  for (let m = tokens.exec(text); m !== null; m = tokens.exec(text)) {
    if (m[2] === '{') {
      section = m[1]!;
      continue;
    }
    if (section === undefined) continue;
    const found = Number(m[2]);
    const held = Number.isFinite(found) ? Math.max(found, until) : until;
    out[section] = { ...(out[section] ?? {}), [m[1]!]: held };
  }
  return out;
}

export class LockoutFile {
  private data: Sections = {};
  private readonly now: () => number;
  /** Set when the file was damaged at start (the terminal still starts); the caller journals it. */
  readonly damage: LockoutFileDamagedError | undefined;

  constructor(
    private readonly path: string,
    options: { now?: () => number; damagedHoldMs?: number } = {},
  ) {
    const now = options.now ?? Date.now;
    this.now = now;
    const hold = options.damagedHoldMs ?? DEFAULT_DAMAGED_HOLD_MS;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      // No file is the first start: nothing was ever locked.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.damage = new LockoutFileDamagedError(path, 'unreadable', 0, (err as Error).message);
      // Nothing legible to keep aside: the damage's mark is held in memory and written with the next lock.
      this.data = { [DAMAGE_SECTION]: { until: now() + hold } };
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.data = salvage(text, now() + hold);
      this.damage = new LockoutFileDamagedError(path, 'not-json', this.count(), (err as Error).message);
      this.keepAside(now() + hold);
      return;
    }
    const sections = wellFormed(parsed);
    if (sections) {
      this.data = sections;
      return;
    }
    this.data = salvage(text, now() + hold);
    this.damage = new LockoutFileDamagedError(path, 'wrong-shape', this.count(), 'not sections of key: time');
    this.keepAside(now() + hold);
  }

  section(name: string): LockoutSection {
    return {
      load: () => ({ ...(this.data[name] ?? {}) }),
      save: (locks) => {
        this.data = { ...this.data, [name]: { ...locks } };
        this.write();
      },
      damaged: () => (this.data[DAMAGE_SECTION]?.['until'] ?? 0) > this.now(),
      acknowledgeDamage: () => {
        if (!(DAMAGE_SECTION in this.data)) return;
        const { [DAMAGE_SECTION]: _gone, ...rest } = this.data;
        this.data = rest;
        this.write();
      },
    };
  }

  private write(): void {
    writeFileAtomically(this.path, `${JSON.stringify(this.data)}\n`, { mode: 0o600 });
  }

  private count(): number {
    return Object.values(this.data).reduce((n, s) => n + Object.keys(s).length, 0);
  }

  /**
   * The damaged file is evidence: moved aside, and a sound file written at once with what was salvaged and the
   * damage's mark, so a restart before the next lock still holds them.
   */
  private keepAside(until: number): void {
    this.data = { ...this.data, [DAMAGE_SECTION]: { until } };
    try {
      renameSync(this.path, `${this.path}.damaged`);
      this.write();
    } catch {
      // Cannot move or write it: the locks hold in memory, the next save tries again.
    }
  }
}
