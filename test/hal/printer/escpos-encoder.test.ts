import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReceiptDocument } from '../../../hal/printer/contract.js';
import {
  QR_MAX_BYTES,
  encodeLine,
  encodeReceipt,
  encodeReceiptParts,
  toPrinterText,
  wrapText,
} from '../../../hal/printer/escpos-encoder.js';

const bytes = (...parts: (number[] | string)[]): number[] =>
  parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p));
/** ESC a, ESC E, GS ! as every line starts. */
const style = (align: number, bold: number, size: number) => [0x1b, 0x61, align, 0x1b, 0x45, bold, 0x1d, 0x21, size];

describe('encodeReceipt byte vectors', () => {
  it('starts with ESC @ and ends a plain line with LF', () => {
    const out = encodeReceipt({ lines: [{ text: 'HELLO' }], cut: false }, 32);
    expect([...out]).toEqual(bytes([0x1b, 0x40], style(0, 0, 0), 'HELLO', [0x0a]));
  });

  it('encodes bold (ESC E 1), alignment (ESC a 1/2) and size (GS ! 0x10 | 0x01)', () => {
    expect([...encodeLine({ text: 'B', bold: true }, 32)]).toEqual(bytes(style(0, 1, 0), 'B', [0x0a]));
    expect([...encodeLine({ text: 'C', align: 'center' }, 32)]).toEqual(bytes(style(1, 0, 0), 'C', [0x0a]));
    expect([...encodeLine({ text: 'R', align: 'right' }, 32)]).toEqual(bytes(style(2, 0, 0), 'R', [0x0a]));
    expect([...encodeLine({ text: 'W', doubleWidth: true }, 32)]).toEqual(bytes(style(0, 0, 0x10), 'W', [0x0a]));
    expect([...encodeLine({ text: 'H', doubleHeight: true }, 32)]).toEqual(bytes(style(0, 0, 0x01), 'H', [0x0a]));
    expect([
      ...encodeLine({ text: 'X', doubleHeight: true, doubleWidth: true, bold: true, align: 'center' }, 32),
    ]).toEqual(bytes(style(1, 1, 0x11), 'X', [0x0a]));
  });

  it('draws a rule as dashes to the column count', () => {
    expect([...encodeLine({ kind: 'rule' }, 16)]).toEqual(bytes(style(0, 0, 0), '-'.repeat(16), [0x0a]));
  });

  it('feeds and cuts with GS V 66 0', () => {
    const out = encodeReceipt({ lines: [], cut: true }, 32);
    expect([...out]).toEqual([0x1b, 0x40, 0x1d, 0x56, 0x42, 0x00]);
  });

  it('encodes a QR code: model 2, module size, error level M, store, print', () => {
    const out = encodeReceipt({ lines: [], barcode: { kind: 'qr', data: 'ABC' }, cut: false }, 32);
    expect([...out]).toEqual(
      bytes(
        [0x1b, 0x40],
        style(1, 0, 0),
        [0x1d, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00],
        [0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, 0x04],
        [0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, 0x31],
        [0x1d, 0x28, 0x6b, 0x06, 0x00, 0x31, 0x50, 0x30],
        'ABC',
        [0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30],
        [0x0a],
      ),
    );
  });

  it('stores a long QR payload with a two-byte length', () => {
    const data = 'x'.repeat(300);
    const out = encodeReceipt({ lines: [], barcode: { kind: 'qr', data }, cut: false }, 32);
    const store = out.indexOf(Buffer.from([0x31, 0x50, 0x30]));
    expect([...out.subarray(store - 2, store)]).toEqual([303 & 0xff, 303 >> 8]);
  });

  it('encodes CODE128 with GS k 73, code set B and an escaped brace', () => {
    const out = encodeReceipt({ lines: [], barcode: { kind: 'code128', data: 'A{1' }, cut: true }, 42);
    expect([...out]).toEqual(
      bytes(
        [0x1b, 0x40],
        style(1, 0, 0),
        [0x1d, 0x48, 0x02, 0x1d, 0x68, 80, 0x1d, 0x77, 0x02],
        [0x1d, 0x6b, 73, 6],
        '{BA{{1',
        [0x0a],
        [0x1d, 0x56, 0x42, 0x00],
      ),
    );
  });

  it('prints a code that cannot fit as text instead of losing it', () => {
    const long = 'R'.repeat(40);
    const code = encodeReceipt({ lines: [], barcode: { kind: 'code128', data: long }, cut: false }, 42);
    expect(code.includes(Buffer.from([0x1d, 0x6b]))).toBe(false);
    expect(code.toString('latin1')).toContain(long);
    const qr = encodeReceipt(
      { lines: [], barcode: { kind: 'qr', data: 'q'.repeat(QR_MAX_BYTES + 1) }, cut: false },
      42,
    );
    expect(qr.includes(Buffer.from([0x1d, 0x28, 0x6b]))).toBe(false);
  });

  it('splits into init, one buffer per document line, and a trailer', () => {
    const doc: ReceiptDocument = { lines: [{ text: 'a' }, { kind: 'rule' }, { text: 'b' }], cut: true };
    const parts = encodeReceiptParts(doc, 20);
    expect(parts.lines).toHaveLength(3);
    expect([...parts.trailer]).toEqual([0x1d, 0x56, 0x42, 0x00]);
    expect(Buffer.concat([parts.init, ...parts.lines, parts.trailer])).toEqual(encodeReceipt(doc, 20));
  });

  it('rejects a column count it cannot draw', () => {
    expect(() => encodeReceipt({ lines: [], cut: false }, 0)).toThrow(RangeError);
    expect(() => encodeReceipt({ lines: [], cut: false }, 2.5)).toThrow(RangeError);
  });
});

describe('receipt text', () => {
  it('folds accents to ASCII, replaces the rest with ? and strips control characters', () => {
    expect(toPrinterText('Café €5')).toBe('Cafe EUR5');
    expect(toPrinterText('a\x1b@b\x00c\x7f')).toBe('a@bc');
    expect(toPrinterText('two\nwords\ttab')).toBe('two words tab');
    expect(toPrinterText('😀')).toBe('?');
  });

  it('cannot smuggle an ESC or GS command through a text line', () => {
    const out = encodeLine({ text: 'x\x1dV\x42\x00\x1b@y' }, 32);
    const body = out.subarray(9);
    expect([...body].filter((b) => b < 0x20 && b !== 0x0a)).toEqual([]);
  });

  it('wraps at spaces, keeps inner spacing, and breaks words longer than the line', () => {
    expect(wrapText('Coffee      2.50', 20)).toEqual(['Coffee      2.50']);
    expect(wrapText('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('', 4)).toEqual(['']);
  });

  it('halves the width for double-width text', () => {
    const out = encodeLine({ text: 'abcdefgh', doubleWidth: true }, 8);
    expect(out.subarray(9).toString('latin1')).toBe('abcd\nefgh\n');
  });

  it('never emits a row longer than the line, nor any byte outside printable ASCII in text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.integer({ min: 1, max: 64 }), (text, cols) => {
        const out = encodeLine({ text }, cols).subarray(9).toString('latin1');
        const rows = out.split('\n');
        expect(rows.pop()).toBe('');
        for (const row of rows) {
          expect(row.length).toBeLessThanOrEqual(cols);
          expect(/^[\x20-\x7e]*$/.test(row)).toBe(true);
        }
      }),
    );
  });
});
