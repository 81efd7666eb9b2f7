/**
 * Reads ESC/POS bytes back to text the way a printer does, to judge an encoder from outside: ESC @ resets the code
 * page to PC437 (and the Chinese mode to the model's power-on state), ESC t n selects code page n of Epson's table,
 * FS & and FS . enter and leave the double-byte Chinese mode. Each run of bytes is decoded by a decoder that owes
 * nothing to the encoder's placement: the platform's WHATWG TextDecoder for GB18030, iconv-lite's decode tables for
 * the single-byte code pages (Node 20's TextDecoder has no PC858 and reads windows-1252 as ISO-8859-1). Style, barcode and cut commands are stepped over by their
 * lengths in the command reference; anything else is an error, so a stray byte cannot pass unnoticed.
 */
import iconv from 'iconv-lite';

const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const LF = 0x0a;

/** Epson's ESC t numbers and the decoder of each (the page tables of the TM series command reference). */
const CODE_PAGES: Readonly<Record<number, (bytes: Uint8Array) => string>> = {
  0: (b) => iconv.decode(Buffer.from(b), 'cp437'),
  2: (b) => iconv.decode(Buffer.from(b), 'cp850'),
  // Node 20's TextDecoder('windows-1252') is ISO-8859-1 (no € at 0x80), so iconv-lite's table reads this one too.
  16: (b) => iconv.decode(Buffer.from(b), 'cp1252'),
  19: (b) => iconv.decode(Buffer.from(b), 'cp858'),
};
const gb18030 = new TextDecoder('gb18030', { fatal: true });

export interface DecodedText {
  /** One entry per printed row (LF), in order. */
  rows: string[];
  /** Every command met, by name, in order (for checks that a mode was selected). */
  commands: string[];
}

export function decodeEscPosText(bytes: Uint8Array, options: { chineseAfterInit?: boolean } = {}): DecodedText {
  const rows: string[] = [];
  const commands: string[] = [];
  let page = 0;
  let chinese = false;
  let row = '';
  let run: number[] = [];
  let runChinese = false;
  let runPage = 0;
  const flush = () => {
    if (run.length === 0) return;
    const data = Uint8Array.from(run);
    if (runChinese) row += gb18030.decode(data);
    else {
      const decode = CODE_PAGES[runPage];
      if (!decode) throw new Error(`no decoder for code page ${runPage}`);
      row += decode(data);
    }
    run = [];
  };
  let i = 0;
  const at = (k: number) => {
    const b = bytes[i + k];
    if (b === undefined) throw new Error(`command cut short at byte ${i}`);
    return b;
  };
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === ESC || b === GS || b === FS) {
      flush();
      const c = at(1);
      if (b === ESC && c === 0x40) {
        commands.push('init');
        page = 0;
        chinese = options.chineseAfterInit ?? false;
        i += 2;
      } else if (b === ESC && c === 0x74) {
        page = at(2);
        commands.push(`codepage:${page}`);
        i += 3;
      } else if (b === ESC && (c === 0x61 || c === 0x45)) i += 3;
      else if (b === GS && (c === 0x21 || c === 0x48 || c === 0x68 || c === 0x77)) i += 3;
      else if (b === GS && c === 0x56) i += at(2) === 0x42 || at(2) === 0x41 ? 4 : 3;
      else if (b === GS && c === 0x6b) i += 4 + at(3);
      else if (b === GS && c === 0x28 && at(2) === 0x6b) i += 5 + at(3) + 256 * at(4);
      else if (b === FS && c === 0x26) {
        commands.push('chinese-on');
        chinese = true;
        i += 2;
      } else if (b === FS && c === 0x2e) {
        commands.push('chinese-off');
        chinese = false;
        i += 2;
      } else throw new Error(`unknown command ${b.toString(16)} ${c.toString(16)} at byte ${i}`);
      continue;
    }
    if (b === LF) {
      flush();
      rows.push(row);
      row = '';
      i += 1;
      continue;
    }
    if (b < 0x20) throw new Error(`stray control byte ${b.toString(16)} at byte ${i}`);
    if (run.length > 0 && (runChinese !== chinese || (!chinese && runPage !== page))) flush();
    runChinese = chinese;
    runPage = page;
    run.push(b);
    i += 1;
  }
  flush();
  if (row) rows.push(row);
  return { rows, commands };
}
