/** `alertsDelivery` and `detect` in the fleet config: off by default, the example's values, one line per bad key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetConfigError, formatFleetConfigError, loadFleetConfig } from '../../../src/fleet/config.js';
import { repoRoot } from '../../support/cli.js';

function problems(text: string): string[] {
  const path = join(mkdtempSync(join(tmpdir(), 'pos-fleet-delivery-')), 'fleet.json');
  writeFileSync(path, text);
  try {
    loadFleetConfig({ path, env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(FleetConfigError);
    return formatFleetConfigError(err as FleetConfigError)
      .trimEnd()
      .split('\n');
  }
  throw new Error('expected a FleetConfigError');
}

describe('alert delivery and detection config', () => {
  it('keeps and delivers nothing and detects nothing by default', () => {
    const c = loadFleetConfig({ env: {} });
    expect(c.alertsDelivery).toMatchObject({ bookFile: null, webhooks: [], maxQueued: 100_000 });
    expect(c.detect).toMatchObject({ enabled: false, peerGroup: 'all', minTransactions: 20 });
  });

  it('reads the example', () => {
    const c = loadFleetConfig({ path: join(repoRoot, 'config', 'fleet.example.json'), env: {} });
    expect(c.alertsDelivery.bookFile).toBe('/var/lib/pos-fleet/alerts.db');
    expect(c.alertsDelivery.webhooks[0]).toMatchObject({
      name: 'on-call',
      url: 'https://alerts.example.net/hooks/pos-fleet',
      match: { types: ['unreachable', 'pending-reversals', 'anomaly-detection'] },
    });
    expect(c.detect).toMatchObject({ enabled: true, counters: { readFailures: ['E311', 'E313'] } });
  });

  it('says what is wrong with a webhook or a detection setting', () => {
    const lines = problems(
      JSON.stringify({
        alertsDelivery: {
          webhooks: [
            { name: 'a', url: 'ftp://x', match: { states: ['open'] } },
            { name: 'a', url: 'http://ok', headers: { 'bad header': 'x' } },
          ],
          retry: { firstDelaySeconds: 0 },
        },
        detect: { peerGroup: 'merchant', minTransactions: 0, counters: { declines: [] } },
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^config error: alertsDelivery\.webhooks\[0\]\.url: expected an http:\/\/ or https:\/\/ URL, found "ftp:\/\/x"/,
        ),
        expect.stringMatching(
          /^config error: alertsDelivery\.webhooks\[0\]\.match\.states\[0\]: expected "raised", "cleared" or "acknowledged"/,
        ),
        expect.stringMatching(/^config error: alertsDelivery\.webhooks\[1\]\.headers\.bad header: expected an object/),
        expect.stringMatching(
          /^config error: alertsDelivery\.retry\.firstDelaySeconds: expected a number of seconds above 0/,
        ),
        expect.stringMatching(/^config error: detect\.peerGroup: expected "all" or "fleet"/),
        expect.stringMatching(/^config error: detect\.minTransactions: expected an integer from 1/),
        expect.stringMatching(/^config error: detect\.counters\.declines: expected a list of at least one outcome/),
      ]),
    );
    expect(lines).toHaveLength(7);
    const twice = { name: 'same', url: 'http://127.0.0.1:9/x' };
    expect(problems(JSON.stringify({ alertsDelivery: { webhooks: [twice, twice] } }))).toEqual([
      'config error: alertsDelivery.webhooks[1].name: expected a name used only once, found "same"',
    ]);
  });
});
