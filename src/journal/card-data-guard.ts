/**
 * Last line of defence for PCI DSS: nothing that looks like clear card data is written to the journal. Callers
 * are expected to pass masked data only; this guard turns a mistake into a refused write instead of a PAN on disk.
 */
import { isIdentifierKey, isPlausiblePan } from '../util/card-schemes.js';
import { luhnValidPan } from '../util/pan.js';
import { JournalError } from './schema.js';

/** Keys whose mere presence means sensitive authentication data (compared lower-case, without '-' and '_'). */
const FORBIDDEN_KEYS = new Set([
  'cvv',
  'cvv2',
  'cvc',
  'cvc2',
  'cvn',
  'csc',
  'pin',
  'pinblock',
  'track1',
  'track2',
  'track3',
  'trackdata',
]);

// A run of 13-19 digits not part of a longer run, and the common grouped print forms (4-4-4-4[-3], 4-6-5).
const DIGIT_RUN = /(?<!\d)\d{13,19}(?!\d)/g;
const GROUPED = /(?<!\d)(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\d)/g;
// Track 1 (%B...), track 2 with or without its start sentinel, and EMV track 2 equivalent (tag 57, 'D' separator),
// also inside a longer hex dump where the PAN runs on from the tag and length bytes.
const TRACK = /%B\d|;\d{12,19}=|\d{12}[=D]\d{4}/;

/** Masked PAN as produced by maskPan: first 6 and last 4 digits, asterisks between (13-19 in all). */
export const MASKED_PAN = /^\d{6}\*{3,9}\d{4}$/;
/** maskPan's output for a number too short to show any digit: only asterisks, nothing to protect. */
const ALL_MASKED = /^\*{1,19}$/;

export function isMaskedPan(value: string): boolean {
  return MASKED_PAN.test(value) || ALL_MASKED.test(value);
}

function refuse(where: string, why: string): never {
  // The offending value is never echoed: the error itself may be logged.
  throw new JournalError('card-data-refused', `${where}: refused ${why}`);
}

/**
 * Free text: any Luhn-valid 13-19 digit run is refused. An identifier: only a number a card scheme could issue
 * (its IIN range and length, see isPlausiblePan), so an epoch-millisecond request id is kept while a PAN used as an
 * id is not. Track data is refused in both.
 */
function checkString(text: string, where: string, identifier = false): void {
  if (TRACK.test(text)) refuse(where, 'track data');
  const isCardNumber = identifier ? isPlausiblePan : luhnValidPan;
  for (const match of text.matchAll(DIGIT_RUN)) {
    if (isCardNumber(match[0])) refuse(where, 'a card number');
  }
  for (const match of text.matchAll(GROUPED)) {
    if (isCardNumber(match[0].replace(/[ -]/g, ''))) refuse(where, 'a card number');
  }
}

/**
 * Walks every string and key in `value`; throws JournalError('card-data-refused') on a card number (any Luhn-valid
 * 13-19 digit run in free text, a scheme's card number under an identifier key), track data, or a sensitive key.
 * Binary values are refused outright since they cannot be inspected (chip data carries the PAN).
 */
export function assertNoCardData(value: unknown, where: string): void {
  const seen = new Set<object>();
  // `identifier`: the value sits under an identifier key (arrays pass it on to their items).
  const walk = (v: unknown, path: string, identifier = false): void => {
    if (typeof v === 'string') {
      checkString(v, path, identifier);
      return;
    }
    // Numbers pass: card data arrives as text, while a millisecond timestamp has 13 digits and passes Luhn one
    // time in ten.
    if (v === null || typeof v !== 'object') return;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) refuse(path, 'binary data');
    if (seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, `${path}[${i}]`, identifier);
      return;
    }
    for (const [key, item] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''))) refuse(`${path}.${key}`, 'a sensitive key');
      checkString(key, path);
      walk(item, `${path}.${key}`, isIdentifierKey(key));
    }
  };
  walk(value, where);
}

/** Throws unless `value` is a masked PAN. */
export function assertMaskedPan(value: string, where: string): void {
  if (!isMaskedPan(value)) refuse(where, 'a card number that is not masked (expected 6 digits, asterisks, 4 digits)');
}
