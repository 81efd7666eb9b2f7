/** The `history` block of the fleet config: its defaults, the annotated example, one line per bad key. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetConfigError, loadFleetConfig } from '../../../src/fleet/config.js';
import { historyLocation } from '../../../src/fleet/history/open.js';
import { repoRoot } from '../../support/cli.js';

function problems(history: unknown): string[] {
  try {
    loadFleetConfig({ path: writeTemp({ history }), env: {} });
  } catch (err) {
    if (err instanceof FleetConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

const dir = mkdtempSync(join(tmpdir(), 'fleet-history-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function writeTemp(value: unknown): string {
  const path = join(dir, `c${++n}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('history config', () => {
  it('defaults to a SQLite file, 30 days, batched writes', () => {
    const { history } = loadFleetConfig({ env: {} });
    expect(history).toEqual({
      backend: 'sqlite',
      sqlite: { path: 'pos-fleet-history.sqlite' },
      postgres: { url: null, poolSize: 4 },
      retentionDays: 30,
      purge: { intervalMinutes: 10, batchSize: 5_000 },
      write: { batchSize: 500, flushIntervalMs: 250, maxQueued: 100_000 },
    });
  });

  it('reads the annotated example', () => {
    const { history } = loadFleetConfig({ path: join(repoRoot, 'config', 'fleet.example.json'), env: {} });
    expect(history.sqlite.path).toBe('/var/lib/pos-fleet/history.sqlite');
    expect(historyLocation(history)).toBe('/var/lib/pos-fleet/history.sqlite');
  });

  it('takes a PostgreSQL URL and never shows its password', () => {
    const { history } = loadFleetConfig({
      path: writeTemp({ history: { backend: 'postgres', postgres: { url: 'postgres://fleet:s3cret@db:5432/fleet' } } }),
      env: {},
    });
    expect(history.postgres.url).toBe('postgres://fleet:s3cret@db:5432/fleet');
    expect(historyLocation(history)).toBe('postgres://db:5432/fleet');
  });

  it('refuses bad values with one line each', () => {
    expect(problems({ backend: 'mysql' })).toEqual(['history.backend: expected "sqlite" or "postgres", found "mysql"']);
    expect(problems({ backend: 'postgres' })).toEqual([
      'history.postgres.url: expected a postgres:// URL, since backend is "postgres", found null',
    ]);
    expect(problems({ postgres: { url: 'mysql://x' } })[0]).toMatch(
      /^history\.postgres\.url: expected a postgres:\/\//,
    );
    expect(problems({ write: { batchSize: 0 } })[0]).toMatch(
      /^history\.write\.batchSize: expected an integer from 1 to 5000/,
    );
    expect(problems({ retentionDays: -1 })[0]).toMatch(/^history\.retentionDays: expected a number of days above 0/);
    expect(problems({ purge: { every: 5 } })[0]).toMatch(/^history\.purge\.every: /);
  });
});
