/**
 * The fleet command key at start: a damaged or missing key stops fleet commands, never the terminal. The simulator
 * setup replaces a key file a crash left empty (it is written atomically, so only an older build or another writer
 * leaves one); a configured key that cannot be used is journaled as a config error and every command is refused.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import { fleetCommandKey, SIMULATOR_KEY_FILE } from '../../src/app/command-key.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/util/log.js';

let dir: string;
let lines: string[];
const log = () =>
  createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pos-command-key-'));
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function raisedInto(list: { name: string; reason: string }[]): AnomalyRecorder {
  return {
    raise: (name: string, context: { reason?: string }) => {
      list.push({ name, reason: context.reason ?? '' });
      return {} as never;
    },
  } as unknown as AnomalyRecorder;
}

describe('the fleet command key at start', () => {
  it('simulator: makes a key once, keeps it, and replaces one a crash left empty', () => {
    const { config } = loadConfig({ env: {} });
    const first = fleetCommandKey(config, dir, log(), {});
    expect(first?.length).toBeGreaterThanOrEqual(32);
    const file = join(dir, SIMULATOR_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(fleetCommandKey(config, dir, log(), {})?.equals(first as Buffer)).toBe(true);

    writeFileSync(file, '');
    const replaced = fleetCommandKey(config, dir, log(), {});
    expect(replaced?.length).toBeGreaterThanOrEqual(32);
    expect(replaced?.equals(first as Buffer)).toBe(false);
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    expect(lines.join('')).toContain('is damaged');
  });

  it('a configured key file that is damaged or missing: no key, a config-error anomaly, no throw', () => {
    const { config } = loadConfig({ env: {} });
    const raised: { name: string; reason: string }[] = [];
    for (const content of ['', 'too-short\n', null]) {
      const file = join(dir, `key-${raised.length}`);
      if (content !== null) writeFileSync(file, content);
      config.mqtt.commandAuth.keyFile = file;
      expect(fleetCommandKey(config, dir, log(), {}, raisedInto(raised))).toBeUndefined();
    }
    expect(raised.map((r) => r.name)).toEqual(['config-error', 'config-error', 'config-error']);
    expect(raised[2]?.reason).toMatch(/ENOENT.*every fleet command will be refused/);
  });
});
