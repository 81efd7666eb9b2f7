import { describe, expect, it } from 'vitest';
import {
  buildSignOn,
  encodeKeyBlock,
  Iso8583Error,
  macFieldOf,
  macInput,
  macOf,
  pack,
  parseKeyBlock,
  unpack,
  withMac,
  type IsoMessage,
} from '../../src/iso8583/index.js';

const sale: IsoMessage = { mti: '0200', fields: { 3: '000000', 4: '000000001000', 11: '000001', 41: 'TERM0001' } };
const mac = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

describe('the MAC field and what it covers', () => {
  it('field 64 on a primary-bitmap message: the input is the packed message up to field 64, bit 64 set', () => {
    const macd = withMac(sale, mac);
    const packed = pack(macd);
    expect(macFieldOf(macd)).toBe(64);
    expect(macInput(sale)).toEqual(packed.subarray(0, packed.length - 8));
    // Bit 64 is the last bit of the primary bitmap.
    expect((macInput(sale)[4 + 7] ?? 0) & 0x01).toBe(1);
    expect(macOf(unpack(packed))).toEqual(mac);
  });

  it('field 128 when a secondary bitmap is present; field 64 stays absent', () => {
    const withSecondary: IsoMessage = { mti: '0400', fields: { ...sale.fields, 90: '0'.repeat(42) } };
    const macd = withMac(withSecondary, mac);
    expect(macFieldOf(macd)).toBe(128);
    expect(macd.fields[64]).toBeUndefined();
    const packed = pack(macd);
    expect(macInput(withSecondary)).toEqual(packed.subarray(0, packed.length - 8));
    expect(macOf(unpack(packed))).toEqual(mac);
  });

  it('the input of a received message is the same as the sender computed, whatever MAC it carries', () => {
    const received = unpack(pack(withMac(sale, mac)));
    expect(macInput(received)).toEqual(macInput(sale));
    expect(macOf(sale)).toBeUndefined();
  });

  it('a message that does not pack has no MAC input (typed error)', () => {
    expect(() => macInput({ mti: '02X0', fields: {} })).toThrow(Iso8583Error);
  });
});

describe('sign-on key block', () => {
  it('round-trips the encrypted MAC key and its check value in field 48', () => {
    const block = { encrypted: Buffer.alloc(16, 0xab), checkValue: '08D7B4' };
    const answer: IsoMessage = { mti: '0810', fields: { 48: encodeKeyBlock(block) } };
    expect(parseKeyBlock(unpack(pack({ ...answer, fields: { ...answer.fields, 11: '000001' } })))).toEqual(block);
    expect(buildSignOn({ stan: 7, terminalId: 'TERM0001', transmittedAt: new Date(0) }).fields[70]).toBe('001');
  });

  it('refuses a missing or malformed key block with a typed error', () => {
    expect(() => parseKeyBlock({ mti: '0810', fields: {} })).toThrow(Iso8583Error);
    expect(() => parseKeyBlock({ mti: '0810', fields: { 48: 'MAK1234' } })).toThrow(/key block/);
  });
});
