/**
 * The nexo endpoint's TLS certificate: the configured certFile/keyFile, else a self-signed one made at first start
 * in the data directory and reused on every later start, so the fingerprint a register has pinned stays valid.
 * The fingerprint (SHA-256, colon hex) is printed at start for an operator to compare with what the register sees.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';
import { writeFileAtomically } from '../util/durable-file.js';

export interface NexoTlsOptions {
  /** Relative certificate paths and the generated pair live here. */
  dataDir: string;
  certFile: string | null;
  keyFile: string | null;
  /** Subject of a generated certificate, e.g. the POI id. */
  commonName?: string;
  /** For tests: a fixed "now" for the validity period. */
  now?: Date;
}

export interface NexoTls {
  cert: string;
  key: string;
  /** SHA-256 of the certificate, colon-separated upper-case hex. */
  fingerprint: string;
  certPath: string;
  keyPath: string;
  /** True on the start that made the self-signed pair. */
  generated: boolean;
}

export class NexoTlsError extends Error {
  override readonly name = 'NexoTlsError';
}

/** Where the self-signed pair is kept inside the data directory. */
export const GENERATED_CERT = join('nexo', 'tls-cert.pem');
export const GENERATED_KEY = join('nexo', 'tls-key.pem');

const VALID_YEARS = 10;

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

function readPair(certPath: string, keyPath: string): { cert: string; key: string } {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certPath, 'utf8');
    key = readFileSync(keyPath, 'utf8');
  } catch (err) {
    throw new NexoTlsError(`cannot read the nexo TLS certificate or key: ${(err as Error).message}`);
  }
  const mode = statSync(keyPath).mode;
  if ((mode & 0o077) !== 0) {
    throw new NexoTlsError(
      `the nexo TLS key ${keyPath} can be read by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate');
  } catch (err) {
    throw new NexoTlsError(
      `the nexo TLS certificate ${certPath} or key ${keyPath} is unusable: ${(err as Error).message}`,
    );
  }
  return { cert, key };
}

export async function loadNexoTls(options: NexoTlsOptions): Promise<NexoTls> {
  if (options.certFile !== null && options.keyFile !== null) {
    const certPath = resolve(options.dataDir, options.certFile);
    const keyPath = resolve(options.dataDir, options.keyFile);
    const pair = readPair(certPath, keyPath);
    return { ...pair, fingerprint: fingerprintOf(pair.cert), certPath, keyPath, generated: false };
  }
  if (options.certFile !== null || options.keyFile !== null) {
    throw new NexoTlsError('ecr.nexo needs both certFile and keyFile, or neither (a self-signed certificate)');
  }
  const certPath = resolve(options.dataDir, GENERATED_CERT);
  const keyPath = resolve(options.dataDir, GENERATED_KEY);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const pair = readPair(certPath, keyPath);
    return { ...pair, fingerprint: fingerprintOf(pair.cert), certPath, keyPath, generated: false };
  }
  const pair = await generateSelfSigned(options.commonName ?? 'pos-terminal', options.now ?? new Date());
  mkdirSync(resolve(options.dataDir, 'nexo'), { recursive: true, mode: 0o700 });
  // The key first: a cut between the two writes leaves no certificate, so the next start makes a fresh pair.
  writeFileAtomically(keyPath, pair.key, { mode: 0o600 });
  writeFileAtomically(certPath, pair.cert, { mode: 0o644 });
  return { ...pair, fingerprint: fingerprintOf(pair.cert), certPath, keyPath, generated: true };
}

async function generateSelfSigned(commonName: string, now: Date): Promise<{ cert: string; key: string }> {
  const notAfterDate = new Date(now);
  notAfterDate.setFullYear(notAfterDate.getFullYear() + VALID_YEARS);
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
