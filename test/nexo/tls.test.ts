/** The nexo TLS certificate: made once at first start, kept private, reused, and named by its fingerprint. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GENERATED_KEY, loadNexoTls, NexoTlsError } from '../../src/nexo/tls.js';

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nexo-tls-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('nexo TLS certificate', () => {
  it('is generated once in the data directory, with a private key, and reused with the same fingerprint', async () => {
    const dir = dataDir();
    const first = await loadNexoTls({ dataDir: dir, certFile: null, keyFile: null, commonName: 'SIM00001' });
    expect(first.generated).toBe(true);
    expect(first.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(first.fingerprint).toBe(new X509Certificate(first.cert).fingerprint256);
    expect(new X509Certificate(first.cert).subject).toContain('CN=SIM00001');
    expect(statSync(join(dir, GENERATED_KEY)).mode & 0o777).toBe(0o600);

    const second = await loadNexoTls({ dataDir: dir, certFile: null, keyFile: null });
    expect(second.generated).toBe(false);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.key).toBe(first.key);
  });

  it('uses the configured pair (relative to the data directory) and refuses half a pair or a readable key', async () => {
    const made = await loadNexoTls({ dataDir: dataDir(), certFile: null, keyFile: null });
    const dir = dataDir();
    const configured = await loadNexoTls({ dataDir: dir, certFile: made.certPath, keyFile: made.keyPath });
    expect(configured).toMatchObject({ generated: false, fingerprint: made.fingerprint, cert: made.cert });
    expect(readFileSync(made.certPath, 'utf8')).toBe(made.cert);

    await expect(loadNexoTls({ dataDir: dir, certFile: made.certPath, keyFile: null })).rejects.toThrow(NexoTlsError);
    await expect(loadNexoTls({ dataDir: dir, certFile: 'missing.pem', keyFile: 'missing.key' })).rejects.toThrow(
      NexoTlsError,
    );
    chmodSync(made.keyPath, 0o644);
    await expect(loadNexoTls({ dataDir: dir, certFile: made.certPath, keyFile: made.keyPath })).rejects.toThrow(
      /chmod 600/,
    );
  });
});
