import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReceiptDocument } from '../../../hal/printer/contract.js';
import { encodeReceipt } from '../../../hal/printer/escpos-encoder.js';
import { columnsOf, placeText, wrapPlaced } from '../../../hal/printer/escpos-text.js';
import { ASCII_PROFILE, PRINTER_MODEL_PROFILES, printerModelProfile } from '../../../hal/printer/model-profiles.js';
import { decodeEscPosText } from '../../support/escpos-text-decoder.js';

const TM_T88 = PRINTER_MODEL_PROFILES['epson-tm-t88'];
const TM_T88_CN = PRINTER_MODEL_PROFILES['epson-tm-t88-chinese'];
const CN_58 = PRINTER_MODEL_PROFILES['generic-chinese-58mm'];

function doc(...texts: string[]): ReceiptDocument {
  return { lines: texts.map((text) => ({ text })), cut: true };
}

/** The rows a printer prints from the bytes, the init row excluded. */
function printed(bytes: Buffer, chineseAfterInit = false): string[] {
  return decodeEscPosText(bytes, { chineseAfterInit }).rows;
}

describe('European text through a Latin code page', () => {
  const FRENCH = ['Café Crème à 3,50 €', 'Noël, façade, œuvre, déjà vu', 'Bäckerei Müller – Größe 5 €'];

  it('prints French and German with accents and € on the TM-T88, decoded from its code pages', () => {
    const bytes = encodeReceipt(doc(...FRENCH), 42, TM_T88);
    expect(printed(bytes)).toEqual(FRENCH);
    const { commands } = decodeEscPosText(bytes);
    // PC858 first (it has €); the en dash is only in WPC1252.
    expect(commands).toContain('codepage:19');
    expect(commands).toContain('codepage:16');
    expect(commands).not.toContain('chinese-on');
  });

  it('prints the same text on the Chinese 58 mm printer, leaving its Chinese mode first', () => {
    const bytes = encodeReceipt(doc(...FRENCH), 32, CN_58);
    expect(printed(bytes, true)).toEqual(FRENCH);
    expect(decodeEscPosText(bytes, { chineseAfterInit: true }).commands).toContain('chinese-off');
  });

  it('never sends FS to a model without a Chinese mode', () => {
    const bytes = encodeReceipt(doc('Café 咖啡'), 42, TM_T88);
    expect(bytes.includes(0x1c)).toBe(false);
    expect(printed(bytes)).toEqual(['Café ??']);
  });

  it('folds accents to ASCII on the ASCII profile instead of printing ?', () => {
    expect(printed(encodeReceipt(doc('Café Crème à 3,50 €'), 42))).toEqual(['Cafe Creme a 3,50 EUR']);
  });
});

describe('Chinese through the model Chinese mode (GB18030)', () => {
  const CHINESE = ['欢迎光临 咖啡馆', '消费 金额: 35.00 元', '持卡人存根，谢谢！'];

  it.each([
    ['epson-tm-t88-chinese', TM_T88_CN, false],
    ['generic-chinese-58mm', CN_58, true],
  ] as const)('prints Chinese on %s, decoded by GB18030', (_name, profile, afterInit) => {
    const bytes = encodeReceipt(doc(...CHINESE), 42, profile);
    expect(printed(bytes, afterInit)).toEqual(CHINESE);
    expect(decodeEscPosText(bytes, { chineseAfterInit: afterInit }).commands).toContain('chinese-on');
  });

  it('mixes Chinese, French and € on one line, each run in its own mode', () => {
    const line = '咖啡 Café Crème 3,50 € 谢谢';
    const bytes = encodeReceipt(doc(line), 42, CN_58);
    expect(printed(bytes, true)).toEqual([line]);
    const { commands } = decodeEscPosText(bytes, { chineseAfterInit: true });
    expect(commands.filter((c) => c === 'chinese-on')).toHaveLength(2);
  });

  it('counts a Chinese character as two columns and wraps between characters', () => {
    const text = '请在密码键盘上输入密码然后按确认键';
    const rows = printed(encodeReceipt(doc(text), 16, TM_T88_CN));
    expect(rows).toEqual(['请在密码键盘上输', '入密码然后按确认', '键']);
  });

  it('prints Chinese as ? on a model without a Chinese mode', () => {
    expect(printed(encodeReceipt(doc('谢谢 OK'), 42, TM_T88))).toEqual(['?? OK']);
    expect(printed(encodeReceipt(doc('谢谢 OK'), 42, ASCII_PROFILE))).toEqual(['?? OK']);
  });

  it('still cannot smuggle a command through text in any mode', () => {
    const bytes = encodeReceipt(doc('谢\x1b@\x1c.谢\x1dV'), 42, CN_58);
    expect(printed(bytes, true)).toEqual(['谢@.谢V']);
  });
});

describe('rows of mixed text', () => {
  const CHARS = ['a', 'Z', ' ', 'é', '€', '谢', '咖', '–', 'ß', '1'];
  it('never emits a row wider than the line and loses no character but spaces at a break', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...CHARS), { maxLength: 80 }),
        fc.integer({ min: 2, max: 48 }),
        (chars, cols) => {
          const text = chars.join('');
          const rows = wrapPlaced(placeText(text, CN_58), cols);
          for (const row of rows) expect(columnsOf(row)).toBeLessThanOrEqual(cols);
          const decoded = printed(encodeReceipt(doc(text), cols, CN_58), true);
          expect(decoded.join('').replace(/ /g, '')).toBe(text.replace(/ /g, ''));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('model profiles', () => {
  it('knows the configured names and refuses another', () => {
    expect(printerModelProfile('epson-tm-t88').latin[0]).toEqual({ encoding: 'cp858', escT: 19 });
    expect(() => printerModelProfile('tm-unknown')).toThrow(RangeError);
  });
});
