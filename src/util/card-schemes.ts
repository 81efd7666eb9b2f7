/**
 * Which digit strings could be a card number the terminal would read: a Luhn-valid number whose leading digits
 * (IIN) and length belong to a payment scheme. Identifiers, timestamps and amounts are digit strings too: an
 * epoch-millisecond id has 13 digits and passes Luhn one time in ten, so Luhn alone cannot tell them apart.
 * They start with 1 (ISO/IEC 7812 major industry identifier 1: airlines, a scheme this terminal does not accept),
 * which no range below holds.
 */
import { luhnValidPan } from './pan.js';

/** [first prefix, last prefix (same number of digits), allowed lengths]. Public scheme tables, widest reading. */
type IinRange = readonly [string, string, readonly number[]];

const ANY = [12, 13, 14, 15, 16, 17, 18, 19] as const;
const SIXTEEN_TO_19 = [16, 17, 18, 19] as const;

const IIN_RANGES: readonly IinRange[] = [
  ['4', '4', [13, 16, 19]], // Visa (and Visa Electron)
  ['51', '55', [16]], // Mastercard
  ['2221', '2720', [16]], // Mastercard 2-series
  ['2200', '2204', SIXTEEN_TO_19], // Mir
  ['34', '34', [15]], // American Express
  ['37', '37', [15]], // American Express
  ['300', '305', [14, 15, 16, 17, 18, 19]], // Diners Club
  ['3095', '3095', [14, 15, 16, 17, 18, 19]], // Diners Club
  ['36', '36', [14, 15, 16, 17, 18, 19]], // Diners Club
  ['38', '39', [14, 15, 16, 17, 18, 19]], // Diners Club
  ['3528', '3589', SIXTEEN_TO_19], // JCB
  ['353', '353', [16]], // RuPay (JCB co-brand)
  ['356', '356', [16]], // RuPay (JCB co-brand)
  ['50', '50', ANY], // Maestro, Verve, RuPay 508
  ['56', '69', ANY], // Maestro, Discover (6011, 644-649, 65), UnionPay 62, RuPay 60
  ['81', '82', SIXTEEN_TO_19], // UnionPay, RuPay
  ['9792', '9792', [16]], // Troy
];

function inRange(digits: string, [low, high, lengths]: IinRange): boolean {
  if (!lengths.includes(digits.length)) return false;
  const prefix = digits.slice(0, low.length);
  return prefix >= low && prefix <= high;
}

/** True for a Luhn-valid 12-19 digit number in a payment scheme's IIN range with a length that scheme issues. */
export function isPlausiblePan(digits: string): boolean {
  return luhnValidPan(digits) && IIN_RANGES.some((range) => inRange(digits, range));
}

/**
 * The last word of a key that names an identifier, a time or a count (`ecrRequestId`, `txn_ref`, `sentAt`): values
 * a register or a clock makes, which are digit strings that pass Luhn one time in ten.
 */
const IDENTIFIER_WORDS = new Set([
  'id',
  'ids',
  'ref',
  'refs',
  'reference',
  'at',
  'time',
  'timestamp',
  'ts',
  'seq',
  'sequence',
  'nonce',
  'rrn',
  'stan',
  'amount',
  'total',
  'count',
]);

export function isIdentifierKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_.-]+/)
    .filter(Boolean);
  const last = words.at(-1)?.toLowerCase();
  return last !== undefined && IDENTIFIER_WORDS.has(last);
}

const DIGIT_RUN = /(?<!\d)\d{13,19}(?!\d)/g;
const TRACK = /%B\d[^?]*\??|;\d{12,19}=[^?]*\??|\d{12,19}[=D]\d{4}\w*/g;

/**
 * Text as it may be written out (a log line): track data cut, card numbers masked to first 6 / last 4. In free
 * text any Luhn-valid run is masked; in an identifier only a scheme's card number, so ids stay readable.
 */
export function maskCardNumbers(text: string, identifier = false): string {
  const isCardNumber = identifier ? isPlausiblePan : luhnValidPan;
  return text
    .replace(TRACK, '[track data removed]')
    .replace(DIGIT_RUN, (run) =>
      isCardNumber(run) ? `${run.slice(0, 6)}${'*'.repeat(run.length - 10)}${run.slice(-4)}` : run,
    );
}
