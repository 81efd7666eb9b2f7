/**
 * nexo message security as nexo clients implement it (Adyen's Terminal API, AdyenCryptoVersion 1): the clear JSON
 * message travels as `NexoBlob`, AES-256-CBC under a key derived from a shared passphrase, with an HMAC-SHA256 of
 * the clear bytes in the `SecurityTrailer`. PBKDF2-HMAC-SHA1 (salt `AdyenNexoV1Salt`, 4,000 iterations) gives 80
 * bytes laid out as clients read them: HMAC key (0-31), cipher key (32-63), IV (64-79); each message's IV is that
 * IV XOR its 16-byte random nonce. Only the sealed inner message is trusted: the outer MessageHeader is unauthenticated.
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const ADYEN_CRYPTO_VERSION = 1;
const SALT = 'AdyenNexoV1Salt';
const ITERATIONS = 4000;
const HMAC_KEY_BYTES = 32;
const CIPHER_KEY_BYTES = 32;
const IV_BYTES = 16;

/** A configured security key, as in `ecr.nexo.securityKeys`. */
export interface NexoSecurityKeyConfig {
  keyIdentifier: string;
  keyVersion: number;
  passphrase: string;
}

/** The key material of one configured key; the passphrase itself is not kept. */
export interface NexoKey {
  readonly keyIdentifier: string;
  readonly keyVersion: number;
  readonly hmacKey: Buffer;
  readonly cipherKey: Buffer;
  readonly iv: Buffer;
}

export interface SecurityTrailer {
  AdyenCryptoVersion: number;
  KeyIdentifier: string;
  KeyVersion: number;
  Nonce: string;
  Hmac: string;
}

export type NexoEnvelope = 'SaleToPOIRequest' | 'SaleToPOIResponse';

/** The sealed form of one message, inside its envelope. */
export interface SealedBody {
  MessageHeader: unknown;
  NexoBlob: string;
  SecurityTrailer: SecurityTrailer;
}

export type NexoSecurityFailure =
  | 'malformed-trailer'
  | 'unsupported-version'
  | 'unknown-key'
  | 'bad-base64'
  | 'bad-padding'
  | 'bad-hmac'
  | 'not-json'
  | 'wrong-envelope';

export class NexoSecurityError extends Error {
  override readonly name = 'NexoSecurityError';
  constructor(
    readonly reason: NexoSecurityFailure,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export function deriveNexoKey(config: NexoSecurityKeyConfig): NexoKey {
  // Byte per character (latin1), as the published clients read the passphrase.
  const material = pbkdf2Sync(
    Buffer.from(config.passphrase, 'latin1'),
    Buffer.from(SALT, 'latin1'),
    ITERATIONS,
    HMAC_KEY_BYTES + CIPHER_KEY_BYTES + IV_BYTES,
    'sha1',
  );
  return {
    keyIdentifier: config.keyIdentifier,
    keyVersion: config.keyVersion,
    hmacKey: material.subarray(0, HMAC_KEY_BYTES),
    cipherKey: material.subarray(HMAC_KEY_BYTES, HMAC_KEY_BYTES + CIPHER_KEY_BYTES),
    iv: material.subarray(HMAC_KEY_BYTES + CIPHER_KEY_BYTES),
  };
}

/** The configured keys, each derived once here (PBKDF2 is slow on purpose; a request never pays for it). */
export class NexoKeyRing {
  private readonly keys = new Map<string, NexoKey>();

  constructor(configs: readonly NexoSecurityKeyConfig[]) {
    for (const config of configs) this.keys.set(ringId(config.keyIdentifier, config.keyVersion), deriveNexoKey(config));
  }

  get size(): number {
    return this.keys.size;
  }

  find(keyIdentifier: string, keyVersion: number): NexoKey | undefined {
    return this.keys.get(ringId(keyIdentifier, keyVersion));
  }
}

function ringId(keyIdentifier: string, keyVersion: number): string {
  return `${keyVersion}\u0000${keyIdentifier}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether the body of an envelope looks sealed (has a NexoBlob or a SecurityTrailer) rather than plain. */
export function looksSealed(body: unknown): boolean {
  return isRecord(body) && ('NexoBlob' in body || 'SecurityTrailer' in body);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string, field: string): Buffer {
  // Buffer.from skips what is not base64; a strict check keeps a mangled field from decoding to something else.
  if (!BASE64.test(text)) throw new NexoSecurityError('bad-base64', `${field} is not base64`);
  return Buffer.from(text, 'base64');
}

function nonceIv(key: NexoKey, nonce: Buffer): Buffer {
  const iv = Buffer.alloc(IV_BYTES);
  for (let i = 0; i < IV_BYTES; i++) iv[i] = key.iv[i]! ^ nonce[i]!;
  return iv;
}

function hmac(key: NexoKey, clear: Buffer): Buffer {
  return createHmac('sha256', key.hmacKey).update(clear).digest();
}

function readTrailer(body: Record<string, unknown>): SecurityTrailer & { NexoBlob: string } {
  const t = body['SecurityTrailer'];
  const blob = body['NexoBlob'];
  if (
    !isRecord(t) ||
    typeof blob !== 'string' ||
    typeof t['KeyIdentifier'] !== 'string' ||
    typeof t['KeyVersion'] !== 'number' ||
    typeof t['Nonce'] !== 'string' ||
    typeof t['Hmac'] !== 'string' ||
    typeof t['AdyenCryptoVersion'] !== 'number'
  ) {
    throw new NexoSecurityError(
      'malformed-trailer',
      'expected NexoBlob and SecurityTrailer { AdyenCryptoVersion, KeyIdentifier, KeyVersion, Nonce, Hmac }',
    );
  }
  return {
    NexoBlob: blob,
    AdyenCryptoVersion: t['AdyenCryptoVersion'],
    KeyIdentifier: t['KeyIdentifier'],
    KeyVersion: t['KeyVersion'],
    Nonce: t['Nonce'],
    Hmac: t['Hmac'],
  };
}

export interface Opened {
  /** The clear message, in the same envelope as the sealed one. */
  message: Record<string, unknown>;
  /** The key it was sealed with: its answer is sealed with the same. */
  key: NexoKey;
}

/**
 * Opens `{ <envelope>: { MessageHeader, NexoBlob, SecurityTrailer } }` into the clear message it carries, or throws
 * NexoSecurityError. The clear message must sit in the same envelope as the sealed one.
 */
export function open(sealed: unknown, keys: NexoKeyRing): Opened {
  const envelope = isRecord(sealed) ? envelopeOf(sealed) : undefined;
  if (envelope === undefined || !isRecord(sealed)) {
    throw new NexoSecurityError('malformed-trailer', 'expected one SaleToPOIRequest or SaleToPOIResponse');
  }
  const body = sealed[envelope];
  if (!isRecord(body)) throw new NexoSecurityError('malformed-trailer', `${envelope} is not an object`);
  const trailer = readTrailer(body);
  if (trailer.AdyenCryptoVersion !== ADYEN_CRYPTO_VERSION) {
    throw new NexoSecurityError('unsupported-version', `AdyenCryptoVersion ${trailer.AdyenCryptoVersion}`);
  }
  const key = keys.find(trailer.KeyIdentifier, trailer.KeyVersion);
  if (key === undefined) {
    throw new NexoSecurityError(
      'unknown-key',
      `no key ${JSON.stringify(trailer.KeyIdentifier)} version ${trailer.KeyVersion}`,
    );
  }
  const nonce = decodeBase64(trailer.Nonce, 'Nonce');
  if (nonce.length !== IV_BYTES) throw new NexoSecurityError('bad-base64', `Nonce is ${nonce.length} bytes, not 16`);
  const cipherText = decodeBase64(trailer.NexoBlob, 'NexoBlob');
  const received = decodeBase64(trailer.Hmac, 'Hmac');

  let clear: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key.cipherKey, nonceIv(key, nonce));
    clear = Buffer.concat([decipher.update(cipherText), decipher.final()]);
  } catch {
    throw new NexoSecurityError('bad-padding', 'NexoBlob does not decrypt to PKCS#7-padded blocks');
  }
  const expected = hmac(key, clear);
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    throw new NexoSecurityError('bad-hmac', 'the Hmac does not match the message');
  }

  let message: unknown;
  try {
    message = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(clear));
  } catch {
    throw new NexoSecurityError('not-json', 'the clear message is not UTF-8 JSON');
  }
  if (!isRecord(message) || !isRecord(message[envelope]) || Object.keys(message).length !== 1) {
    throw new NexoSecurityError('wrong-envelope', `the clear message is not one ${envelope}`);
  }
  return { message, key };
}

function envelopeOf(message: Record<string, unknown>): NexoEnvelope | undefined {
  const names = Object.keys(message);
  if (names.length !== 1) return undefined;
  return names[0] === 'SaleToPOIRequest' || names[0] === 'SaleToPOIResponse' ? names[0] : undefined;
}

/**
 * Seals a clear `{ <envelope>: { MessageHeader, ... } }`: the result keeps its MessageHeader outside (clients route
 * on it) and carries the whole clear JSON as NexoBlob. `nonce` is for tests; a fresh random one otherwise.
 */
export function seal(
  clear: { SaleToPOIRequest: Record<string, unknown> },
  key: NexoKey,
  nonce?: Buffer,
): { SaleToPOIRequest: SealedBody };
export function seal(
  clear: { SaleToPOIResponse: Record<string, unknown> },
  key: NexoKey,
  nonce?: Buffer,
): { SaleToPOIResponse: SealedBody };
export function seal(
  clear: { SaleToPOIRequest: Record<string, unknown> } | { SaleToPOIResponse: Record<string, unknown> },
  key: NexoKey,
  nonce: Buffer = randomBytes(IV_BYTES),
): Partial<Record<NexoEnvelope, SealedBody>> {
  const envelope: NexoEnvelope = 'SaleToPOIRequest' in clear ? 'SaleToPOIRequest' : 'SaleToPOIResponse';
  const inner = (clear as Record<string, Record<string, unknown>>)[envelope]!;
  const bytes = Buffer.from(JSON.stringify(clear), 'utf8');
  const cipher = createCipheriv('aes-256-cbc', key.cipherKey, nonceIv(key, nonce));
  const blob = Buffer.concat([cipher.update(bytes), cipher.final()]);
  return {
    [envelope]: {
      MessageHeader: inner['MessageHeader'],
      NexoBlob: blob.toString('base64'),
      SecurityTrailer: {
        AdyenCryptoVersion: ADYEN_CRYPTO_VERSION,
        KeyIdentifier: key.keyIdentifier,
        KeyVersion: key.keyVersion,
        Nonce: nonce.toString('base64'),
        Hmac: hmac(key, bytes).toString('base64'),
      },
    },
  };
}
