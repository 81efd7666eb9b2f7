/** The `web` key of the fleet configuration: defaults, the annotated example, and one line per bad key. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetConfigError, loadFleetConfig } from '../../../src/fleet/config.js';
import { repoRoot } from '../../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pos-fleet-web-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const path = join(dir, `c${n++}.json`);
  writeFileSync(path, text);
  return path;
}

describe('web configuration', () => {
  it('listens on loopback by default, with metrics on and per-terminal series off', () => {
    const c = loadFleetConfig({ env: {} });
    expect(c.web).toEqual({
      host: '127.0.0.1',
      port: 8080,
      operator: null,
      operatorHeader: null,
      auditFile: 'pos-fleet-audit.sqlite',
      pageSize: 50,
      refreshSeconds: 2,
      metrics: { enabled: true, port: null, perTerminal: { enabled: false, max: 1000 } },
    });
  });

  it('reads the annotated example and keeps header names in lower case', () => {
    const c = loadFleetConfig({ path: join(repoRoot, 'config', 'fleet.example.json'), env: {} });
    expect(c.web.auditFile).toBe('/var/lib/pos-fleet/command-audit.sqlite');
    const h = loadFleetConfig({ path: file('{ "web": { "operatorHeader": "X-Forwarded-User" } }'), env: {} });
    expect(h.web.operatorHeader).toBe('x-forwarded-user');
  });

  it('reports each bad web key on its own line', () => {
    const path = file(
      '{ "web": { "port": 0, "operatorHeader": "X User", "pageSize": 9999, "colour": "red", "metrics": { "perTerminal": { "enabled": "yes", "max": 0 } } } }',
    );
    let err: unknown;
    try {
      loadFleetConfig({ path, env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetConfigError);
    const paths = (err as FleetConfigError).problems.map((p) => p.path).sort();
    expect(paths).toEqual([
      'web.colour',
      'web.metrics.perTerminal.enabled',
      'web.metrics.perTerminal.max',
      'web.operatorHeader',
      'web.pageSize',
      'web.port',
    ]);
  });
});
