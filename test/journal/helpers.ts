/** Temporary journal files and a controllable clock for journal tests. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function steppingClock(start = Date.UTC(2024, 4, 1, 12, 0, 0), step = 1000): { now: () => number; set: (t: number) => void } {
  let t = start - step;
  return {
    now: () => (t += step),
    set: (next: number) => {
      t = next - step;
    },
  };
}

/** Every byte SQLite may hold for this database: the main file, the WAL and the shared-memory index. */
export function databaseBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

export const VISA = '4111111111111111';
export const MASTERCARD = '5555555555554444';
export const AMEX = '378282246310005';
