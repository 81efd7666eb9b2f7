/** ISO 8583 field 22: PAN entry mode (2 digits) + PIN entry capability (1 = can accept PIN). */
export const POS_ENTRY_MODE = {
  manual: '011',
  swipe: '901',
  chip: '051',
  contactless: '071',
  'fallback-swipe': '801',
} as const;
