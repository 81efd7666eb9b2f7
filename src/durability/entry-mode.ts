/** ISO 8583 field 22 digits 1-2: how the PAN was entered. */
export const PAN_ENTRY_MODE = {
  manual: '01',
  swipe: '90',
  chip: '05',
  contactless: '07',
  'fallback-swipe': '80',
} as const;

/** Field 22 digit 3: 1 the terminal can accept a PIN, 2 it cannot (no PIN pad). It must tell the truth. */
export const PIN_ENTRY_CAPABILITY = { capable: '1', none: '2' } as const;

/**
 * Field 22 for a card read by `entryMode` on a terminal with or without a PIN pad; '000' (unknown) for an entry
 * mode this table does not know.
 */
export function posEntryMode(entryMode: string, pinPad: boolean): string {
  const pan = Object.hasOwn(PAN_ENTRY_MODE, entryMode)
    ? PAN_ENTRY_MODE[entryMode as keyof typeof PAN_ENTRY_MODE]
    : undefined;
  if (pan === undefined) return '000';
  return pan + (pinPad ? PIN_ENTRY_CAPABILITY.capable : PIN_ENTRY_CAPABILITY.none);
}
