/** The host's field 55 (tag 91 and scripts): written by the host simulator, read back by the terminal. */
import { describe, expect, it } from 'vitest';
import {
  ISSUER_SCRIPT_TEST_PAN,
  issuerDataFrom,
  issuerResponseField55,
  testIssuerScript,
  TlvError,
} from '../../../hal/emv/index.js';
import { testCard } from '../../../src/card/test-cards.js';

describe('issuer response field 55', () => {
  it('round-trips tag 91 and the script templates', () => {
    const tag91 = Uint8Array.from(Buffer.from('0102030405060708' + '3030', 'hex'));
    const scripts = Buffer.concat([testIssuerScript(1, '71'), testIssuerScript(2)]);
    const field = issuerResponseField55({ issuerAuthenticationData: tag91, issuerScripts: scripts });
    const back = issuerDataFrom(field);
    expect(back.issuerAuthenticationData).toEqual(tag91);
    expect(Buffer.from(back.issuerScripts!).equals(scripts)).toBe(true);
    expect(issuerDataFrom(issuerResponseField55({}))).toEqual({});
  });

  it('refuses a host field 55 that is not TLV', () => {
    expect(() => issuerDataFrom(Uint8Array.of(0x91, 0x0a, 0x01))).toThrow(TlvError);
  });

  it('names the test card the host answers with a script', () => {
    expect(testCard('emv-issuer-script')?.pan).toBe(ISSUER_SCRIPT_TEST_PAN);
  });
});
