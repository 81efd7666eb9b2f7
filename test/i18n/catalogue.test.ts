import { describe, expect, it } from 'vitest';
import { placeText } from '../../hal/printer/escpos-text.js';
import { PRINTER_MODEL_PROFILES } from '../../hal/printer/model-profiles.js';
import { formatLocalAmount, LANGUAGES, messagesFor, type Messages } from '../../src/i18n/index.js';

/** Every text of a catalogue, the parameterised ones called with a sample. */
function texts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'function') return [String((value as (x: never) => unknown)(2 as never))];
  if (value && typeof value === 'object') return Object.values(value).flatMap(texts);
  return [];
}

describe('message catalogues', () => {
  it('has every text in every language, none empty', () => {
    const keys = (m: Messages) => JSON.stringify(Object.keys(m.screen).concat(Object.keys(m.receipt)));
    for (const language of LANGUAGES) {
      const m = messagesFor(language);
      expect(keys(m)).toBe(keys(messagesFor('en')));
      for (const t of texts({ ...m, currencySymbols: {} })) expect(t.trim().length).toBeGreaterThan(0);
    }
  });

  it('is Chinese in zh-CN, and every Chinese text prints in the GB18030 mode without a ?', () => {
    const zh = texts(messagesFor('zh-CN').receipt).concat(texts(messagesFor('zh-CN').screen));
    expect(zh.filter((t) => /\p{Script=Han}/u.test(t)).length).toBeGreaterThan(zh.length * 0.8);
    for (const t of zh) {
      const placed = placeText(t, PRINTER_MODEL_PROFILES['generic-chinese-58mm']);
      expect(placed.map((c) => c.ch).join('')).toBe(t);
    }
  });

  it('prints every French and German text from the TM-T88 Latin code pages, nothing folded', () => {
    for (const language of ['fr', 'de'] as const) {
      for (const t of texts(messagesFor(language))) {
        const placed = placeText(t, PRINTER_MODEL_PROFILES['epson-tm-t88']);
        expect(placed.map((c) => c.ch).join('')).toBe(t);
      }
    }
  });
});

describe('amounts by the currency exponent, in the language notation', () => {
  it.each([
    ['en', 1000, '392', '1000 JPY'],
    ['en', 350, '978', '3.50 EUR'],
    ['en', 1234, '414', '1.234 KWD'],
    ['fr', 350, '978', '3,50 €'],
    ['fr', 1234, '414', '1,234 KWD'],
    ['fr', 1000, '392', '1000 JPY'],
    ['de', -350, '978', '-3,50 €'],
    ['zh-CN', 3500, '156', '35.00 元'],
    ['zh-CN', 5, '048', '0.005 BHD'],
    ['zh-CN', 1000, '392', '1000 JPY'],
  ] as const)('%s %i of %s is %s', (language, minor, currency, text) => {
    expect(formatLocalAmount(minor, currency, messagesFor(language))).toBe(text);
  });
});
