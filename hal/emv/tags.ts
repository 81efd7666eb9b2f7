/**
 * The EMV data objects this terminal reads, writes or forwards (EMV Book 3 Annex A, Book 4 for the terminal's, the
 * contactless kernels for 9F66 and 9F6C). Lengths are in bytes of the value. A sensitive object (the PAN, track data,
 * the cardholder's name) never leaves the reader's memory: field 55 refuses it and nothing logs it.
 */

/** b binary, n BCD digits right-aligned, cn BCD digits left-aligned padded with F, an/ans text. */
export type TagFormat = 'b' | 'n' | 'cn' | 'an' | 'ans';

export interface TagInfo {
  name: string;
  format: TagFormat;
  minLength: number;
  maxLength: number;
  /** Card data that must not travel in field 55 nor appear anywhere in clear. */
  sensitive: boolean;
  /** Who puts it in the transaction. */
  source: 'card' | 'terminal' | 'issuer';
  /** A template (tag bit 6): its value is more TLV. */
  constructed?: true;
}

const t = (
  name: string,
  format: TagFormat,
  minLength: number,
  maxLength: number,
  source: TagInfo['source'],
  extra: Partial<Pick<TagInfo, 'sensitive' | 'constructed'>> = {},
): TagInfo => ({ name, format, minLength, maxLength, sensitive: extra.sensitive ?? false, source, ...extra });

export const EMV_TAGS: Readonly<Record<string, TagInfo>> = {
  // The card's cryptogram and what it is computed with.
  '9F26': t('Application Cryptogram', 'b', 8, 8, 'card'),
  '9F27': t('Cryptogram Information Data', 'b', 1, 1, 'card'),
  '9F10': t('Issuer Application Data', 'b', 1, 32, 'card'),
  '9F36': t('Application Transaction Counter', 'b', 2, 2, 'card'),
  '82': t('Application Interchange Profile', 'b', 2, 2, 'card'),
  '5F34': t('PAN Sequence Number', 'n', 1, 1, 'card'),
  '84': t('Dedicated File Name', 'b', 5, 16, 'card'),
  '4F': t('Application Identifier (card)', 'b', 5, 16, 'card'),
  '50': t('Application Label', 'ans', 1, 16, 'card'),
  '9F07': t('Application Usage Control', 'b', 2, 2, 'card'),
  '8E': t('CVM List', 'b', 10, 252, 'card'),
  '8C': t('CDOL1', 'b', 2, 252, 'card'),
  '8D': t('CDOL2', 'b', 2, 252, 'card'),
  '9F0D': t('Issuer Action Code - Default', 'b', 5, 5, 'card'),
  '9F0E': t('Issuer Action Code - Denial', 'b', 5, 5, 'card'),
  '9F0F': t('Issuer Action Code - Online', 'b', 5, 5, 'card'),
  '9F6C': t('Card Transaction Qualifiers', 'b', 2, 2, 'card'),
  // Card data that identifies the cardholder: never in field 55.
  '5A': t('Application PAN', 'cn', 1, 10, 'card', { sensitive: true }),
  '57': t('Track 2 Equivalent Data', 'b', 1, 19, 'card', { sensitive: true }),
  '5F20': t('Cardholder Name', 'ans', 2, 26, 'card', { sensitive: true }),
  '5F24': t('Application Expiration Date', 'n', 3, 3, 'card'),
  '56': t('Track 1 Data', 'ans', 1, 76, 'card', { sensitive: true }),
  '9F6B': t('Track 2 Data (contactless)', 'b', 1, 19, 'card', { sensitive: true }),
  '9F1F': t('Track 1 Discretionary Data', 'ans', 1, 54, 'card', { sensitive: true }),
  // The terminal's transaction data.
  '9F02': t('Amount, Authorised (Numeric)', 'n', 6, 6, 'terminal'),
  '9F03': t('Amount, Other (Numeric)', 'n', 6, 6, 'terminal'),
  '5F2A': t('Transaction Currency Code', 'n', 2, 2, 'terminal'),
  '9A': t('Transaction Date', 'n', 3, 3, 'terminal'),
  '9C': t('Transaction Type', 'n', 1, 1, 'terminal'),
  '9F37': t('Unpredictable Number', 'b', 4, 4, 'terminal'),
  '95': t('Terminal Verification Results', 'b', 5, 5, 'terminal'),
  '9B': t('Transaction Status Information', 'b', 2, 2, 'terminal'),
  '9F1A': t('Terminal Country Code', 'n', 2, 2, 'terminal'),
  '9F33': t('Terminal Capabilities', 'b', 3, 3, 'terminal'),
  '9F34': t('Cardholder Verification Method Results', 'b', 3, 3, 'terminal'),
  '9F35': t('Terminal Type', 'n', 1, 1, 'terminal'),
  '9F06': t('Application Identifier (terminal)', 'b', 5, 16, 'terminal'),
  '9F09': t('Application Version Number (terminal)', 'b', 2, 2, 'terminal'),
  '9F1E': t('Interface Device Serial Number', 'an', 8, 8, 'terminal'),
  '9F41': t('Transaction Sequence Counter', 'n', 2, 4, 'terminal'),
  '9F53': t('Transaction Category Code', 'an', 1, 1, 'terminal'),
  '9F66': t('Terminal Transaction Qualifiers', 'b', 4, 4, 'terminal'),
  '9F5B': t('Issuer Script Results', 'b', 5, 250, 'terminal'),
  // The issuer's answer, forwarded to the card.
  '8A': t('Authorisation Response Code', 'an', 2, 2, 'issuer'),
  '91': t('Issuer Authentication Data', 'b', 8, 16, 'issuer'),
  '71': t('Issuer Script Template 1', 'b', 0, 128, 'issuer', { constructed: true }),
  '72': t('Issuer Script Template 2', 'b', 0, 128, 'issuer', { constructed: true }),
  '86': t('Issuer Script Command', 'b', 5, 261, 'issuer'),
  '9F18': t('Issuer Script Identifier', 'b', 4, 4, 'issuer'),
};

export function tagInfo(tag: string): TagInfo | undefined {
  return EMV_TAGS[tag.toUpperCase()];
}

export function isSensitiveTag(tag: string): boolean {
  return tagInfo(tag)?.sensitive === true;
}

/** Whether a value's length fits the dictionary (an unknown tag fits: it is only forwarded). */
export function lengthFits(tag: string, length: number): boolean {
  const info = tagInfo(tag);
  return info === undefined || (length >= info.minLength && length <= info.maxLength);
}
