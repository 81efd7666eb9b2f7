/** A data element value: a string of ASCII characters, or raw bytes for binary ('b') fields only. */
export type FieldValue = string | Uint8Array;

/**
 * One ISO 8583 message. Field keys are data element numbers 2..128; the bitmaps (field 1, and the
 * secondary bitmap it announces) are derived from which fields are present, never set by hand.
 */
export interface IsoMessage {
  mti: string;
  fields: Partial<Record<number, FieldValue>>;
}
