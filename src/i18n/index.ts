/**
 * The merchant's language: one message catalogue per language (catalogue/), the local time of the terminal's time
 * zone, and amounts by the currency's exponent in that language's notation.
 */
import { de } from './catalogue/de.js';
import { en } from './catalogue/en.js';
import { fr } from './catalogue/fr.js';
import { zhCN } from './catalogue/zh-CN.js';
import type { Messages } from './messages.js';

export type { AnomalyText, Messages, OutcomeWord, ReasonTexts } from './messages.js';
export { formatLocalAmount } from './local-amount.js';
export { formatLocalDateTime, formatLocalTime, isTimeZone, systemTimeZone } from './local-time.js';

/** The languages the configuration can name (`terminal.language`, BCP 47 tags). */
export const LANGUAGES = ['en', 'zh-CN', 'fr', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

const CATALOGUES: Readonly<Record<Language, Messages>> = { en, 'zh-CN': zhCN, fr, de };

/** The catalogue of a language; English when none is given. */
export function messagesFor(language: Language = 'en'): Messages {
  return CATALOGUES[language];
}

/** Where a text is read: its language and time zone (absent: English, the system's zone). */
export interface Locale {
  language?: Language;
  timeZone?: string;
}
