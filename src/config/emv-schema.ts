/**
 * The chip's configuration (`emv`): what the terminal tells the card's kernel about itself and its risk limits, and how
 * the PIN is captured. Values follow EMV Book 4 (terminal data) and the acquirer's terminal parameters.
 */
import { z } from 'zod';
import { bool, int, ms, obj, oneOf, pattern } from './schema-parts.js';

const tvrCode = (what: string) => pattern(/^[0-9A-Fa-f]{10}$/, `${what}: 5 bytes as 10 hex digits`);

export const emv = obj({
  /** Run chip and contactless cards through the reader's EMV kernel (when it has one). */
  enabled: bool,
  /** 9F1A: ISO 3166 numeric country of the terminal, 3 digits. */
  countryCode: pattern(/^\d{3}$/, 'an ISO 3166 numeric country code of 3 digits'),
  /** 9F33: 3 bytes as hex; byte 2 says which CVMs the terminal can capture (0x40 online PIN, 0x20 signature). */
  terminalCapabilities: pattern(/^[0-9A-Fa-f]{6}$/, '3 bytes as 6 hex digits'),
  /** 9F35: two digits, 22 = attended, online with offline capability, merchant operated. */
  terminalType: pattern(/^\d{2}$/, 'two digits'),
  /** Above this amount (minor units) the card is sent online: 0 sends every chip sale online. */
  floorLimit: int(0, Number.MAX_SAFE_INTEGER),
  /** Terminal action codes (the acquirer's): denial, online and default, each against the TVR. */
  tac: obj({ denial: tvrCode('tac.denial'), online: tvrCode('tac.online'), default: tvrCode('tac.default') }),
  /** Contactless at or under this amount asks no CVM. */
  contactlessCvmLimit: int(0, Number.MAX_SAFE_INTEGER),
  /** Contactless above this amount is refused by the kernel: the card is inserted instead. */
  contactlessTransactionLimit: int(0, Number.MAX_SAFE_INTEGER),
  /**
   * ISO 9564 format 0 under TDES DUKPT. The PIN pad can also make format 4 under AES DUKPT, but a format 4 block is
   * 16 bytes and ISO 8583:1987 field 52 holds 8: a PIN the message cannot carry would be captured and dropped.
   */
  pinBlockFormat: z.literal(0, {
    error: '0 (format 4 needs a 16-byte field 52, which the ISO 8583:1987 message does not have)',
  }),
  /** The cardholder has this long to finish the PIN. */
  pinTimeoutMs: ms(1000),
});

/** The PIN entry device: none, the mock (desktop), or a serial PIN pad. */
export const pinPad = obj({
  driver: oneOf(['none', 'mock', 'serial']),
  serial: obj({ path: z.string({ error: 'a device path' }).min(1), baudRate: int(1200, 4_000_000) }).optional(),
}).superRefine((v, ctx) => {
  if (v.driver === 'serial' && v.serial === undefined)
    ctx.addIssue({ code: 'custom', path: ['serial'], message: 'an object { path, baudRate } when driver is "serial"' });
});
