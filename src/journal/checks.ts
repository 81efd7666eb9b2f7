/**
 * What every store checks before it writes: values the schema cannot hold are refused as 'invalid-record', card data
 * where none belongs as 'card-data-refused', before SQLite is asked.
 */
import { assertMaskedPan, assertNoCardData } from './card-data-guard.js';
import { JournalError, PATCH_FIELDS, RECEIPT_STATUSES, TRANSACTION_OUTCOMES, type TransactionPatch } from './schema.js';
import { STAN_MAX } from './stan.js';

/** What the messages of a transaction carry besides its money facts: field 22 and fields 32/33. */
export interface MessageFacts {
  posEntryMode?: string;
  acquiringInstitutionId?: string;
  forwardingInstitutionId?: string;
}

/** A failed send of something owed to the host (a reversal or an advice), and when to try again. */
export interface AttemptInput {
  attempts: number;
  /** null: no attempt scheduled. */
  nextAttemptAt: number | null;
  reason: string;
}

export function invalid(message: string): never {
  throw new JournalError('invalid-record', message);
}

export function checkText(value: unknown, name: string, max = 200): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    invalid(`${name} must be a non-empty string of at most ${max} characters`);
}

export function checkStan(value: unknown, name: string): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > STAN_MAX)
    invalid(`${name} must be an integer from 1 to ${STAN_MAX}`);
}

export function checkAmount(value: unknown, name: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    invalid(`${name} must be a non-negative integer in minor units`);
}

export function checkCurrency(value: unknown, name: string): void {
  if (typeof value !== 'string' || !/^\d{3}$/.test(value)) invalid(`${name} must be a 3-digit ISO 4217 numeric code`);
}

export function checkTime(value: unknown, name: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) invalid(`${name} must be milliseconds since the epoch`);
}

export function checkDigits(value: unknown, length: number, name: string): void {
  if (typeof value !== 'string' || !new RegExp(`^\\d{${length}}$`).test(value))
    invalid(`${name} must be ${length} digits`);
}

/** A free-text reason: bounded, and never card data. */
export function checkReason(value: unknown): void {
  checkText(value, 'reason', 1000);
  assertNoCardData(value, 'reason');
}

export function checkAttempt(a: AttemptInput): void {
  if (a === null || typeof a !== 'object') invalid('attempt must be an object');
  if (!Number.isSafeInteger(a.attempts) || a.attempts < 0) invalid('attempts must be a non-negative integer');
  if (a.nextAttemptAt !== null) checkTime(a.nextAttemptAt, 'nextAttemptAt');
  checkReason(a.reason);
}

export function checkResponseCode(value: unknown): void {
  checkText(value, 'responseCode', 100);
  assertNoCardData(value, 'responseCode');
}

// Ciphertext cannot be inspected like text, but clear card data written as bytes by mistake still shows a digit run;
// random bytes hold 13 ASCII digits in a row about once in 10^18.
const CLEAR_DIGITS = /\d{13,}/;

export function checkCardBlob(value: unknown): void {
  if (!Buffer.isBuffer(value) || value.length === 0)
    invalid('cardBlob must be a non-empty Buffer (sealed by the card vault)');
  if (CLEAR_DIGITS.test(value.toString('latin1')))
    throw new JournalError('card-data-refused', 'cardBlob: refused clear card data (expected ciphertext)');
}

export function checkMessageFacts(f: MessageFacts): void {
  if (f.posEntryMode !== undefined) checkDigits(f.posEntryMode, 3, 'posEntryMode');
  for (const name of ['acquiringInstitutionId', 'forwardingInstitutionId'] as const) {
    const v = f[name];
    if (v !== undefined && (typeof v !== 'string' || !/^\d{1,11}$/.test(v))) invalid(`${name} must be 1 to 11 digits`);
  }
}

export function serializeDetail(detail: Record<string, unknown> | undefined, where: string): string | null {
  if (detail === undefined || detail === null) return null;
  if (typeof detail !== 'object' || Array.isArray(detail)) invalid(`${where} must be an object`);
  assertNoCardData(detail, where);
  try {
    return JSON.stringify(detail);
  } catch (err) {
    throw new JournalError('invalid-record', `${where} is not serializable as JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The patch with its undefined fields dropped, every value checked; refuses fields a patch cannot change. */
export function checkPatch(patch: TransactionPatch): TransactionPatch {
  if (patch === null || typeof patch !== 'object') invalid('patch must be an object');
  const clean: Record<string, unknown> = {};
  for (const field of PATCH_FIELDS) {
    if (patch[field] !== undefined) clean[field] = patch[field];
  }
  for (const key of Object.keys(patch)) {
    if (!(PATCH_FIELDS as readonly string[]).includes(key) && (patch as Record<string, unknown>)[key] !== undefined)
      invalid(`patch field ${key} cannot be changed`);
  }
  const p = clean as TransactionPatch;
  if (p.stan != null) checkStan(p.stan, 'stan');
  if (p.amount !== undefined && (!Number.isSafeInteger(p.amount) || p.amount < 0))
    invalid('amount must be a non-negative integer of minor units');
  if (p.tipAmount !== undefined && (!Number.isSafeInteger(p.tipAmount) || p.tipAmount < 0))
    invalid('tipAmount must be a non-negative integer of minor units');
  if (p.outcome != null && !TRANSACTION_OUTCOMES.includes(p.outcome))
    invalid(`outcome must be one of ${TRANSACTION_OUTCOMES.join(', ')}`);
  if (p.receiptStatus === null) invalid('receiptStatus cannot be null');
  if (p.receiptStatus !== undefined && !RECEIPT_STATUSES.includes(p.receiptStatus))
    invalid(`receiptStatus must be one of ${RECEIPT_STATUSES.join(', ')}`);
  for (const field of ['entryMode', 'responseCode', 'approvalCode', 'rrn', 'anomalyCode'] as const) {
    const v = p[field];
    if (v != null && (typeof v !== 'string' || v.length > 100))
      invalid(`${field} must be a string of at most 100 characters`);
  }
  if (p.maskedPan === '') p.maskedPan = null;
  if (p.maskedPan != null) {
    if (typeof p.maskedPan !== 'string') invalid('maskedPan must be a string');
    assertMaskedPan(p.maskedPan, 'maskedPan');
  }
  assertNoCardData(p, 'patch');
  return p;
}

/** The patch as its event records it: null when it changed nothing. */
export function patchChanges(clean: TransactionPatch): string | null {
  return Object.keys(clean).length > 0 ? JSON.stringify(clean) : null;
}

export function limitParam(limit: number | undefined): number {
  if (limit === undefined) return -1;
  if (!Number.isInteger(limit) || limit < 0) invalid('limit must be a non-negative integer');
  return limit;
}

export function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
