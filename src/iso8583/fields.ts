/**
 * The ISO 8583:1987 data element table. The codec is driven entirely by this table, so a host
 * profile that differs from the standard changes a row here, not codec code.
 *
 * `max` is the fixed length, or the maximum for LLVAR/LLLVAR fields, counted in characters, or in
 * bytes for binary fields (b64 in the standard = 8 bytes here). For x+n fields it is the total
 * length including the C/D sign (x+n 8 => 9).
 */
export type FieldType = 'n' | 'a' | 'an' | 'ans' | 'b' | 'z' | 'x+n';
export type FieldLength = 'fixed' | 'llvar' | 'lllvar';

export interface FieldSpec {
  readonly number: number;
  readonly name: string;
  readonly type: FieldType;
  readonly length: FieldLength;
  readonly max: number;
}

type Row = readonly [number, string, FieldType, FieldLength, number];

// Where the standard is ambiguous or impractical the choice is noted on the row.
const ROWS: readonly Row[] = [
  [1, 'Secondary bitmap', 'b', 'fixed', 8],
  [2, 'Primary account number (PAN)', 'n', 'llvar', 19],
  [3, 'Processing code', 'n', 'fixed', 6],
  [4, 'Amount, transaction', 'n', 'fixed', 12],
  [5, 'Amount, settlement', 'n', 'fixed', 12],
  [6, 'Amount, cardholder billing', 'n', 'fixed', 12],
  [7, 'Transmission date and time (MMDDhhmmss)', 'n', 'fixed', 10],
  [8, 'Amount, cardholder billing fee', 'n', 'fixed', 8],
  [9, 'Conversion rate, settlement', 'n', 'fixed', 8],
  [10, 'Conversion rate, cardholder billing', 'n', 'fixed', 8],
  [11, 'Systems trace audit number (STAN)', 'n', 'fixed', 6],
  [12, 'Time, local transaction (hhmmss)', 'n', 'fixed', 6],
  [13, 'Date, local transaction (MMDD)', 'n', 'fixed', 4],
  [14, 'Date, expiration (YYMM)', 'n', 'fixed', 4],
  [15, 'Date, settlement (MMDD)', 'n', 'fixed', 4],
  [16, 'Date, conversion (MMDD)', 'n', 'fixed', 4],
  [17, 'Date, capture (MMDD)', 'n', 'fixed', 4],
  [18, 'Merchant type', 'n', 'fixed', 4],
  [19, 'Acquiring institution country code', 'n', 'fixed', 3],
  [20, 'PAN extended, country code', 'n', 'fixed', 3],
  [21, 'Forwarding institution country code', 'n', 'fixed', 3],
  [22, 'Point of service entry mode', 'n', 'fixed', 3],
  [23, 'Card sequence number', 'n', 'fixed', 3],
  [24, 'Network international identifier (NII)', 'n', 'fixed', 3],
  [25, 'Point of service condition code', 'n', 'fixed', 2],
  [26, 'Point of service PIN capture code', 'n', 'fixed', 2],
  [27, 'Authorizing identification response length', 'n', 'fixed', 1],
  [28, 'Amount, transaction fee', 'x+n', 'fixed', 9],
  [29, 'Amount, settlement fee', 'x+n', 'fixed', 9],
  [30, 'Amount, transaction processing fee', 'x+n', 'fixed', 9],
  [31, 'Amount, settlement processing fee', 'x+n', 'fixed', 9],
  [32, 'Acquiring institution identification code', 'n', 'llvar', 11],
  [33, 'Forwarding institution identification code', 'n', 'llvar', 11],
  // Standard says "ns"; ans is the nearest class we support.
  [34, 'Primary account number, extended', 'ans', 'llvar', 28],
  [35, 'Track 2 data', 'z', 'llvar', 37],
  // Standard says n, but track 3 carries '=' separators like track 2.
  [36, 'Track 3 data', 'z', 'lllvar', 104],
  [37, 'Retrieval reference number', 'an', 'fixed', 12],
  [38, 'Authorization identification response', 'an', 'fixed', 6],
  [39, 'Response code', 'an', 'fixed', 2],
  [40, 'Service restriction code', 'an', 'fixed', 3],
  [41, 'Card acceptor terminal identification', 'ans', 'fixed', 8],
  [42, 'Card acceptor identification code', 'ans', 'fixed', 15],
  [43, 'Card acceptor name/location', 'ans', 'fixed', 40],
  [44, 'Additional response data', 'an', 'llvar', 25],
  // Standard says an, but track 1 carries '^' and '/' separators.
  [45, 'Track 1 data', 'ans', 'llvar', 76],
  [46, 'Additional data (ISO)', 'ans', 'lllvar', 999],
  [47, 'Additional data (national)', 'ans', 'lllvar', 999],
  [48, 'Additional data (private)', 'ans', 'lllvar', 999],
  // Standard allows "a or n"; we use ISO 4217 numeric codes throughout.
  [49, 'Currency code, transaction', 'n', 'fixed', 3],
  [50, 'Currency code, settlement', 'n', 'fixed', 3],
  [51, 'Currency code, cardholder billing', 'n', 'fixed', 3],
  [52, 'Personal identification number (PIN) data', 'b', 'fixed', 8],
  // The 1987 table has n16; a DUKPT KSN (10 bytes TDES, 12 AES) does not fit, so field 53 carries it as binary
  // LLVAR, as acquirers' DUKPT profiles do.
  [53, 'Security related control information (DUKPT KSN)', 'b', 'llvar', 48],
  [54, 'Additional amounts', 'an', 'lllvar', 120],
  // EMV TLV data is binary; LLLVAR up to 999 bytes, as the standard has it (several TLVs, issuer scripts).
  [55, 'ICC data (EMV)', 'b', 'lllvar', 999],
  [56, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [57, 'Reserved (national)', 'ans', 'lllvar', 999],
  [58, 'Reserved (national)', 'ans', 'lllvar', 999],
  [59, 'Reserved (national)', 'ans', 'lllvar', 999],
  [60, 'Reserved (national)', 'ans', 'lllvar', 999],
  [61, 'Reserved (private)', 'ans', 'lllvar', 999],
  [62, 'Reserved (private)', 'ans', 'lllvar', 999],
  [63, 'Reserved (private)', 'ans', 'lllvar', 999],
  [64, 'Message authentication code (MAC)', 'b', 'fixed', 8],
  // Listed for completeness; the codec rejects it (no tertiary bitmap support).
  [65, 'Tertiary bitmap', 'b', 'fixed', 8],
  [66, 'Settlement code', 'n', 'fixed', 1],
  [67, 'Extended payment code', 'n', 'fixed', 2],
  [68, 'Receiving institution country code', 'n', 'fixed', 3],
  [69, 'Settlement institution country code', 'n', 'fixed', 3],
  [70, 'Network management information code', 'n', 'fixed', 3],
  [71, 'Message number', 'n', 'fixed', 4],
  [72, 'Message number, last', 'n', 'fixed', 4],
  [73, 'Date, action (YYMMDD)', 'n', 'fixed', 6],
  [74, 'Credits, number', 'n', 'fixed', 10],
  [75, 'Credits, reversal number', 'n', 'fixed', 10],
  [76, 'Debits, number', 'n', 'fixed', 10],
  [77, 'Debits, reversal number', 'n', 'fixed', 10],
  [78, 'Transfer, number', 'n', 'fixed', 10],
  [79, 'Transfer, reversal number', 'n', 'fixed', 10],
  [80, 'Inquiries, number', 'n', 'fixed', 10],
  [81, 'Authorizations, number', 'n', 'fixed', 10],
  [82, 'Credits, processing fee amount', 'n', 'fixed', 12],
  [83, 'Credits, transaction fee amount', 'n', 'fixed', 12],
  [84, 'Debits, processing fee amount', 'n', 'fixed', 12],
  [85, 'Debits, transaction fee amount', 'n', 'fixed', 12],
  [86, 'Credits, amount', 'n', 'fixed', 16],
  [87, 'Credits, reversal amount', 'n', 'fixed', 16],
  [88, 'Debits, amount', 'n', 'fixed', 16],
  [89, 'Debits, reversal amount', 'n', 'fixed', 16],
  [90, 'Original data elements', 'n', 'fixed', 42],
  [91, 'File update code', 'an', 'fixed', 1],
  [92, 'File security code', 'an', 'fixed', 2],
  [93, 'Response indicator', 'an', 'fixed', 5],
  [94, 'Service indicator', 'an', 'fixed', 7],
  [95, 'Replacement amounts', 'an', 'fixed', 42],
  [96, 'Message security code', 'b', 'fixed', 8],
  [97, 'Amount, net settlement', 'x+n', 'fixed', 17],
  [98, 'Payee', 'ans', 'fixed', 25],
  [99, 'Settlement institution identification code', 'n', 'llvar', 11],
  [100, 'Receiving institution identification code', 'n', 'llvar', 11],
  [101, 'File name', 'ans', 'llvar', 17],
  [102, 'Account identification 1', 'ans', 'llvar', 28],
  [103, 'Account identification 2', 'ans', 'llvar', 28],
  [104, 'Transaction description', 'ans', 'lllvar', 100],
  [105, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [106, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [107, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [108, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [109, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [110, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [111, 'Reserved (ISO)', 'ans', 'lllvar', 999],
  [112, 'Reserved (national)', 'ans', 'lllvar', 999],
  [113, 'Reserved (national)', 'ans', 'lllvar', 999],
  [114, 'Reserved (national)', 'ans', 'lllvar', 999],
  [115, 'Reserved (national)', 'ans', 'lllvar', 999],
  [116, 'Reserved (national)', 'ans', 'lllvar', 999],
  [117, 'Reserved (national)', 'ans', 'lllvar', 999],
  [118, 'Reserved (national)', 'ans', 'lllvar', 999],
  [119, 'Reserved (national)', 'ans', 'lllvar', 999],
  [120, 'Reserved (private)', 'ans', 'lllvar', 999],
  [121, 'Reserved (private)', 'ans', 'lllvar', 999],
  [122, 'Reserved (private)', 'ans', 'lllvar', 999],
  [123, 'Reserved (private)', 'ans', 'lllvar', 999],
  [124, 'Reserved (private)', 'ans', 'lllvar', 999],
  [125, 'Reserved (private)', 'ans', 'lllvar', 999],
  [126, 'Reserved (private)', 'ans', 'lllvar', 999],
  [127, 'Reserved (private)', 'ans', 'lllvar', 999],
  [128, 'Message authentication code (MAC)', 'b', 'fixed', 8],
];

/** All 128 data elements, in field-number order (FIELDS[n - 1] is field n). */
export const FIELDS: readonly FieldSpec[] = Object.freeze(
  ROWS.map(([number, name, type, length, max]) => Object.freeze({ number, name, type, length, max })),
);

export function fieldSpec(n: number): FieldSpec | undefined {
  return Number.isInteger(n) && n >= 1 && n <= FIELDS.length ? FIELDS[n - 1] : undefined;
}

/** Fields 1 and 65 are bitmaps, owned by the codec; every other field carries data. */
export function isDataField(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && n <= 128 && n !== 65;
}
