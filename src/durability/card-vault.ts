/**
 * Card data for the store-and-forward queue, encrypted at rest with AES-256-GCM. The key lives in its own file,
 * outside the database, so a copy of the journal alone reveals no card number. Only what an advice needs is ever
 * sealed: never track data, CVV or PIN (PCI DSS 3.2 forbids keeping them after authorization).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { describeAccess, octalMode } from '../security/file-permissions.js';
import { fsyncDirectory } from '../util/durable-file.js';

export interface VaultCard {
  pan: string;
  /** YYMM, as on the chip and in ISO 8583 field 14. */
  expiry: string;
  entryMode: string;
  serviceCode?: string;
  /** The chip's field 55 as hex (no PAN, track 2 or name: field 55 refuses them), for the advice and the reversal. */
  iccData?: string;
}

export type VaultErrorCode = 'key-missing' | 'key-permissions' | 'key-invalid' | 'decrypt-failed' | 'refused-data';

export class VaultError extends Error {
  override readonly name = 'VaultError';

  constructor(
    readonly code: VaultErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const VERSION = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALLOWED_KEYS = new Set(['pan', 'expiry', 'entryMode', 'serviceCode', 'iccData']);
const HEX_KEY = /^([0-9a-fA-F]{64})\r?\n?$/;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function label(keyFile: string): string {
  return `store-and-forward key file ${keyFile}`;
}

/**
 * Writes a fresh key: to a temporary file first, fsynced, then linked into place. The link never replaces a key
 * another process created meanwhile, and a power cut or a full disk never leaves a short or empty key behind:
 * queued card data sealed with a key that did not reach the medium could never be forwarded.
 */
function createKey(keyFile: string): void {
  const dir = dirname(keyFile);
  const tmp = `${keyFile}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(tmp, { force: true });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(KEY_BYTES));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, keyFile);
    fsyncDirectory(dir);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return;
    throw new VaultError(
      'key-missing',
      `${label(keyFile)} does not exist and cannot be created (${errnoCode(err) ?? String(err)})`,
      { cause: err },
    );
  } finally {
    rmSync(tmp, { force: true });
  }
}

function readKey(keyFile: string): Buffer {
  let fd: number;
  try {
    fd = openSync(keyFile, 'r');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') {
      throw new VaultError(
        'key-missing',
        `${label(keyFile)} does not exist: create it with (umask 077; head -c 32 /dev/urandom > ${keyFile})`,
        { cause: err },
      );
    }
    if (code === 'EACCES') {
      throw new VaultError(
        'key-permissions',
        `${label(keyFile)} cannot be read by this process (EACCES): check its owner`,
        { cause: err },
      );
    }
    throw new VaultError('key-missing', `${label(keyFile)} cannot be opened (${code ?? String(err)})`, { cause: err });
  }
  try {
    // fstat on the opened descriptor: the file checked is the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new VaultError('key-invalid', `${label(keyFile)} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new VaultError(
        'key-permissions',
        `${label(keyFile)} is ${describeAccess(stat.mode)} (mode ${octalMode(stat.mode)}): chmod 600 it`,
      );
    }
    const bytes = readFileSync(fd);
    if (bytes.length === KEY_BYTES) return bytes;
    const hex = HEX_KEY.exec(bytes.toString('latin1'))?.[1];
    if (hex !== undefined) return Buffer.from(hex, 'hex');
    throw new VaultError(
      'key-invalid',
      `${label(keyFile)} holds ${bytes.length} bytes: expected 32 raw bytes or 64 hex characters`,
    );
  } catch (err) {
    if (err instanceof VaultError) throw err;
    throw new VaultError('key-missing', `${label(keyFile)} cannot be read (${errnoCode(err) ?? String(err)})`, {
      cause: err,
    });
  } finally {
    closeSync(fd);
  }
}

function refuse(why: string): never {
  // The value itself is never echoed: the error may be logged.
  throw new VaultError('refused-data', `card vault: refused ${why}`);
}

function checkCard(card: unknown): VaultCard {
  if (card === null || typeof card !== 'object' || Array.isArray(card)) refuse('a card that is not an object');
  for (const key of Object.keys(card)) {
    if (!ALLOWED_KEYS.has(key)) refuse(`field "${key}" (only pan, expiry, entryMode and serviceCode are kept)`);
  }
  const c = card as Record<string, unknown>;
  if (typeof c.pan !== 'string' || !/^\d{12,19}$/.test(c.pan)) refuse('a pan that is not 12 to 19 digits');
  if (typeof c.expiry !== 'string' || !/^\d{4}$/.test(c.expiry)) refuse('an expiry that is not YYMM');
  if (typeof c.entryMode !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(c.entryMode))
    refuse('an entry mode that is not a short name');
  if (c.serviceCode !== undefined && (typeof c.serviceCode !== 'string' || !/^\d{3}$/.test(c.serviceCode))) {
    refuse('a service code that is not 3 digits');
  }
  if (c.iccData !== undefined && (typeof c.iccData !== 'string' || !/^(?:[0-9A-F]{2}){1,255}$/.test(c.iccData)))
    refuse('chip data that is not 1 to 255 bytes of upper-case hex');
  const clean: VaultCard = { pan: c.pan, expiry: c.expiry, entryMode: c.entryMode };
  if (c.serviceCode !== undefined) clean.serviceCode = c.serviceCode as string;
  if (c.iccData !== undefined) clean.iccData = c.iccData as string;
  return clean;
}

function checkAssociatedData(associatedData: unknown): string {
  if (typeof associatedData !== 'string' || associatedData.length === 0) {
    throw new VaultError(
      'refused-data',
      'card vault: associated data (the transaction reference) must be a non-empty string',
    );
  }
  return associatedData;
}

/** The version byte is authenticated too, so a blob cannot be relabelled as another format. */
function aad(associatedData: string): Buffer {
  return Buffer.concat([Buffer.of(VERSION), Buffer.from(associatedData, 'utf8')]);
}

/** A key's associated data: a NUL-separated domain no transaction reference can take. */
function keyAad(name: string): Buffer {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(name)) refuse('a key name that is not a short slug');
  return Buffer.concat([Buffer.of(VERSION, 0), Buffer.from(`terminal-key\0${name}`, 'utf8')]);
}

export class CardVault {
  // A private field: the key never shows up in console.log, JSON or an error dump of the vault.
  readonly #key: Buffer;

  private constructor(
    readonly keyFile: string,
    key: Buffer,
  ) {
    this.#key = key;
  }

  /**
   * Reads the key. Refuses with a VaultError if the file is missing (unless createIfMissing: then a fresh random key
   * is written with mode 0600, its directory created with 0700), reachable by group or others, or not exactly 32 raw
   * bytes (or 64 hex characters and an optional newline).
   */
  static open(keyFile: string, options: { createIfMissing?: boolean } = {}): CardVault {
    try {
      return new CardVault(keyFile, readKey(keyFile));
    } catch (err) {
      const missing = err instanceof VaultError && errnoCode(err.cause) === 'ENOENT';
      if (!missing || !options.createIfMissing) throw err;
    }
    createKey(keyFile);
    return new CardVault(keyFile, readKey(keyFile));
  }

  /**
   * A key check value: 48 bits of an HMAC under the key, kept in the journal so a boot can tell the key the sealed rows
   * need from another one without decrypting anything (and without revealing the key).
   */
  keyCheckValue(): number {
    return createHmac('sha256', this.#key).update('pos-terminal card vault key check v1').digest().readUIntBE(0, 6);
  }

  /** [version 1][12-byte random IV][ciphertext][16-byte tag], bound to `associatedData` (the transaction reference). */
  seal(card: VaultCard, associatedData: string): Buffer {
    const clean = checkCard(card);
    const plain = Buffer.from(JSON.stringify(clean), 'utf8');
    try {
      return this.sealBytes(plain, aad(checkAssociatedData(associatedData)));
    } finally {
      plain.fill(0);
    }
  }

  /** Throws VaultError('decrypt-failed') on a tampered blob, a wrong key or a wrong transaction reference. */
  open(blob: Buffer, associatedData: string): VaultCard {
    const plain = this.openBytes(blob, aad(checkAssociatedData(associatedData)), `the card data of ${associatedData}`);
    try {
      return checkCard(JSON.parse(plain.toString('utf8')));
    } catch (err) {
      throw new VaultError(
        'decrypt-failed',
        `card vault: cannot open the card data of ${associatedData}: the decrypted content is not a card`,
        { cause: err },
      );
    } finally {
      plain.fill(0);
    }
  }

  /**
   * A cryptographic key (the terminal master key, a session key) sealed the same way as a card, under the same vault
   * key, bound to its name. The associated data marks it as a key, so a key blob never opens as a card or the reverse.
   */
  sealKey(key: Uint8Array, name: string): Buffer {
    if (!(key instanceof Uint8Array) || key.length === 0 || key.length > 64) refuse('a key that is not 1 to 64 bytes');
    return this.sealBytes(Buffer.from(key), keyAad(name));
  }

  /** The key sealed under `name`; VaultError('decrypt-failed') on a tampered blob, a wrong vault key or name. */
  openKey(blob: Buffer, name: string): Buffer {
    return this.openBytes(blob, keyAad(name), `the ${name} key`);
  }

  private sealBytes(plain: Buffer, ad: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(ad);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]);
  }

  private openBytes(blob: Buffer, ad: Buffer, what: string): Buffer {
    const failed = (why: string, cause?: unknown): never => {
      throw new VaultError(
        'decrypt-failed',
        `card vault: cannot open ${what}: ${why}`,
        cause === undefined ? undefined : { cause },
      );
    };
    if (!Buffer.isBuffer(blob) || blob.length < 1 + IV_BYTES + 1 + TAG_BYTES) failed('too short to be sealed data');
    if (blob[0] !== VERSION) failed(`unknown format version ${String(blob[0])}`);
    const iv = blob.subarray(1, 1 + IV_BYTES);
    const body = blob.subarray(1 + IV_BYTES, blob.length - TAG_BYTES);
    const tag = blob.subarray(blob.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(ad);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (err) {
      return failed('wrong key, wrong name or altered data', err);
    }
  }
}

export interface VaultBootInput {
  keyFile: string;
  createIfMissing: boolean;
  /** Rows holding sealed card data (queued offline sales, reversals that carry a card). */
  sealed: number;
  /** The oldest queued offline sale's sealed card, opened to prove the key. */
  oldest?: { txnRef: string; blob: Buffer } | undefined;
  /** The key check value the journal holds for the key the rows were sealed with, if known. */
  keyCheck?: number | undefined;
}

export type VaultBoot =
  | { vault: CardVault; created: boolean }
  /** The key cannot open what is sealed: the terminal locks, and nothing sealed is touched. */
  | { fault: string; code: 'key-missing' | 'key-invalid' | 'wrong-key' };

/**
 * Opens the key at boot, with the journal in mind. With nothing sealed a missing key may be created (a new key loses
 * nothing). With sealed rows a new key would make every one of them unreadable, so a missing, unreadable or wrong key
 * is a fault the caller locks on; a key that is too open (permissions) still refuses the start, as without rows.
 */
export function openVaultAtBoot(input: VaultBootInput): VaultBoot {
  const { keyFile, sealed } = input;
  if (sealed === 0) {
    const existed = existsSync(keyFile);
    return { vault: CardVault.open(keyFile, { createIfMissing: input.createIfMissing }), created: !existed };
  }
  const waiting = `${sealed} sealed card record${sealed === 1 ? '' : 's'} (queued offline sales) need it`;
  const untouched = 'nothing was changed, set aside or sent';
  let vault: CardVault;
  try {
    vault = CardVault.open(keyFile);
  } catch (err) {
    if (!(err instanceof VaultError) || err.code === 'key-permissions') throw err;
    const code = err.code === 'key-invalid' ? 'key-invalid' : 'key-missing';
    return {
      code,
      fault:
        `card vault key ${keyFile} ${code === 'key-missing' ? 'is missing or cannot be read' : 'is not a valid key'} and ${waiting}; ${untouched}: ` +
        'restore the key file from the backup of the data directory (mode 0600) and restart; a new key would make them unreadable',
    };
  }
  const wrong = {
    code: 'wrong-key' as const,
    fault:
      `card vault key ${keyFile} is not the key the sealed card data was sealed with, and ${waiting}; ${untouched}: ` +
      'put the original key file back (from the backup taken with this journal) and restart',
  };
  // A matching check value settles it; without one (rows sealed before it was kept) the oldest row is opened.
  if (input.keyCheck !== undefined) {
    if (input.keyCheck !== vault.keyCheckValue()) return wrong;
  } else if (input.oldest) {
    try {
      vault.open(input.oldest.blob, input.oldest.txnRef);
    } catch (err) {
      if (err instanceof VaultError && err.code === 'decrypt-failed') return wrong;
      throw err;
    }
  }
  return { vault, created: false };
}
