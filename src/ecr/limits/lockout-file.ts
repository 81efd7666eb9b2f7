/**
 * Lockouts kept durably in one small JSON file in the data directory, one section per guard (the supervisor PIN, the
 * register clients). Written atomically (temp file, fsync, rename) only when a lock starts or ends: rare, not per
 * request. Unreadable content counts as no lockouts rather than stopping the terminal.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomically } from '../../util/durable-file.js';

export interface LockoutSection {
  load(): Record<string, number>;
  save(locks: Record<string, number>): void;
}

export class LockoutFile {
  private data: Record<string, Record<string, number>>;

  constructor(private readonly path: string) {
    this.data = {};
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        this.data = parsed as Record<string, Record<string, number>>;
      }
    } catch {
      // Missing (first start) or damaged: no lockouts.
    }
  }

  section(name: string): LockoutSection {
    return {
      load: () => ({ ...(this.data[name] ?? {}) }),
      save: (locks) => {
        this.data = { ...this.data, [name]: { ...locks } };
        writeFileAtomically(this.path, `${JSON.stringify(this.data)}\n`, { mode: 0o600 });
      },
    };
  }
}
