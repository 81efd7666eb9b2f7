/** Why the terminal started: the run marker in dataDir and the kernel boot id stored in it. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootReasonFrom, MARKER_FILE, RunMarker } from '../../src/telemetry/boot-marker.js';

describe('bootReasonFrom', () => {
  it.each([
    [undefined, 'k1', 'first'],
    ['clean k1\n', 'k1', 'clean'],
    // A clean stop followed by a reboot is still a clean stop.
    ['clean k0\n', 'k1', 'clean'],
    ['running k1\n', 'k1', 'crash'],
    ['running k0\n', 'k1', 'power-loss'],
    // Torn or unreadable: the run did not end cleanly, and nothing says the system restarted.
    ['', 'k1', 'crash'],
    ['runn', 'k1', 'crash'],
    ['running k0\n', undefined, 'crash'],
    ['running unknown\n', 'k1', 'crash'],
  ] as const)('%j with kernel boot %s is %s', (previous, kernel, reason) => {
    expect(bootReasonFrom(previous, kernel)).toBe(reason);
  });
});

describe('RunMarker', () => {
  let dir: string;
  let kernel: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'marker-test-'));
    kernel = join(dir, 'boot_id');
    writeFileSync(kernel, 'aaaa-1111\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const begin = () => RunMarker.begin(dir, { kernelBootIdPath: kernel });
  const marker = () => readFileSync(join(dir, MARKER_FILE), 'utf8');

  it('walks first → crash → clean → power loss', () => {
    expect(begin().reason).toBe('first');
    expect(marker()).toBe('running aaaa-1111\n');
    // No clean() call: the process "died".
    const second = begin();
    expect(second.reason).toBe('crash');
    second.clean();
    expect(marker()).toBe('clean aaaa-1111\n');
    begin();
    writeFileSync(kernel, 'bbbb-2222\n');
    expect(begin().reason).toBe('power-loss');
    expect(marker()).toBe('running bbbb-2222\n');
  });

  it('works where the kernel boot id cannot be read', () => {
    rmSync(kernel);
    expect(begin().reason).toBe('first');
    expect(begin().reason).toBe('crash');
    writeFileSync(kernel, 'cccc\n');
    expect(begin().reason).toBe('crash');
  });

  it('reads the real kernel boot id by default', () => {
    const m = RunMarker.begin(dir);
    expect(m.reason).toBe('first');
    expect(marker()).toMatch(/^running [0-9a-f-]{36}\n$/);
  });
});
