/**
 * Boot-protocol keyboard reports (8 bytes: modifier, reserved, 6 keycodes) as a keyboard-wedge card reader types
 * them, turned back into characters (HID usage table, US layout).
 */
export const HID_REPORT_BYTES = 8;
export const ENTER = '\r';

/** Stands for a key we cannot map, so the parse fails instead of silently dropping a digit. */
const UNKNOWN = '\uFFFD';
const SHIFT_BITS = 0x22; // left and right shift
const NON_TEXT_BITS = 0xdd; // ctrl, alt, gui: chords that type no text

const PLAIN: Record<number, string> = {};
const SHIFTED: Record<number, string> = {};
for (let i = 0; i < 26; i++) {
  PLAIN[0x04 + i] = String.fromCharCode(0x61 + i);
  SHIFTED[0x04 + i] = String.fromCharCode(0x41 + i);
}
for (const [i, c] of [...'1234567890'].entries()) PLAIN[0x1e + i] = c;
for (const [i, c] of [...'!@#$%^&*()'].entries()) SHIFTED[0x1e + i] = c;
const PAIRS: [number, string, string][] = [
  [0x28, ENTER, ENTER],
  [0x2b, '\t', '\t'],
  [0x2c, ' ', ' '],
  [0x2d, '-', '_'],
  [0x2e, '=', '+'],
  [0x2f, '[', '{'],
  [0x30, ']', '}'],
  [0x31, '\\', '|'],
  [0x32, '#', '~'],
  [0x33, ';', ':'],
  [0x34, "'", '"'],
  [0x35, '`', '~'],
  [0x36, ',', '<'],
  [0x37, '.', '>'],
  [0x38, '/', '?'],
  // Keypad: some readers type digits there; NumLock state is not ours to know, so digits are assumed.
  [0x54, '/', '/'],
  [0x55, '*', '*'],
  [0x56, '-', '-'],
  [0x57, '+', '+'],
  [0x58, ENTER, ENTER],
  [0x62, '0', '0'],
  [0x63, '.', '.'],
];
for (const [code, plain, shifted] of PAIRS) {
  PLAIN[code] = plain;
  SHIFTED[code] = shifted;
}
for (let i = 0; i < 9; i++) {
  PLAIN[0x59 + i] = String(i + 1);
  SHIFTED[0x59 + i] = String(i + 1);
}

/**
 * Turns boot-protocol keyboard reports into typed characters. A key types once, in the report where it first
 * appears; it types again only after a report without it (so a repeated report, key bounce or rollover where the
 * next key goes down before the previous one is released all come out right).
 */
export class HidKeyboardDecoder {
  private held: number[] = [];

  /** Characters newly typed by this report (Enter as '\r'). A report that is not 8 bytes types nothing. */
  decode(report: Uint8Array): string {
    if (report.length !== HID_REPORT_BYTES) return '';
    const modifier = report[0] ?? 0;
    const keys: number[] = [];
    for (let i = 2; i < HID_REPORT_BYTES; i++) {
      const key = report[i] ?? 0;
      // ErrorRollOver / POSTFail / ErrorUndefined: the report says nothing about which keys are down.
      if (key >= 0x01 && key <= 0x03) return '';
      if (key !== 0) keys.push(key);
    }
    let out = '';
    if ((modifier & NON_TEXT_BITS) === 0) {
      const table = modifier & SHIFT_BITS ? SHIFTED : PLAIN;
      for (const key of keys) {
        if (this.held.includes(key)) continue;
        // Modifier usages (0xE0..0xE7) in the key array are not typed characters.
        if (key >= 0xe0 && key <= 0xe7) continue;
        out += table[key] ?? UNKNOWN;
      }
    }
    this.held = keys;
    return out;
  }

  reset(): void {
    this.held = [];
  }
}
