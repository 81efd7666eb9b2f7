/**
 * Typing text the way a keyboard-wedge magnetic-stripe reader does: US layout for every character of the track 1
 * set (0x20..0x5F) plus Enter, one press and one release per character, each an 8-byte HID boot keyboard report.
 */

/** Character → [usage, modifier] (0x02 is left shift). */
export const KEY_OF: Record<string, [number, number]> = { ' ': [0x2c, 0], '\r': [0x28, 0] };
for (const [i, c] of [...'1234567890'].entries()) KEY_OF[c] = [0x1e + i, 0];
for (const [i, c] of [...'!@#$%^&*()'].entries()) KEY_OF[c] = [0x1e + i, 0x02];
for (let i = 0; i < 26; i++) KEY_OF[String.fromCharCode(0x41 + i)] = [0x04 + i, 0x02];
for (const [key, plain, shifted] of [
  [0x2d, '-', '_'],
  [0x2e, '=', '+'],
  [0x2f, '[', '{'],
  [0x30, ']', '}'],
  [0x31, '\\', '|'],
  [0x33, ';', ':'],
  [0x34, "'", '"'],
  [0x36, ',', '<'],
  [0x37, '.', '>'],
  [0x38, '/', '?'],
] as const) {
  KEY_OF[plain] = [key, 0];
  KEY_OF[shifted] = [key, 0x02];
}

/**
 * Press and release per character, with a report-ID byte in front when `reportId` is given. A character the
 * layout lacks throws, unless `unknownAsNoKey` types it as an empty report (a fuzz wants that).
 */
export function typedReports(
  text: string,
  options: { reportId?: number; unknownAsNoKey?: boolean } = {},
): Uint8Array[] {
  return [...text].flatMap((c) => {
    const entry = KEY_OF[c] ?? (options.unknownAsNoKey ? ([0, 0] as [number, number]) : undefined);
    if (!entry) throw new Error(`no key for ${JSON.stringify(c)}`);
    const [key, mod] = entry;
    const down = [mod, 0, key, 0, 0, 0, 0, 0];
    const up = [0, 0, 0, 0, 0, 0, 0, 0];
    return options.reportId === undefined
      ? [Uint8Array.from(down), Uint8Array.from(up)]
      : [Uint8Array.from([options.reportId, ...down]), Uint8Array.from([options.reportId, ...up])];
  });
}
