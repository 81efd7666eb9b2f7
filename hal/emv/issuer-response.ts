/**
 * Field 55 of the host's answer (0210): tag 91 and the issuer scripts (71, 72). The host simulator writes it with
 * issuerResponseField55; the terminal reads it with issuerDataFrom and hands both to the card at completion.
 */
import { decodeTlv, encodeTlv, isConstructed, type TlvNode } from './tlv.js';

export interface IssuerData {
  /** Tag 91 (ARPC || ARC for method 1). */
  issuerAuthenticationData?: Uint8Array;
  /** The 71 and 72 templates, each with its tag, as the card is to receive them. */
  issuerScripts?: Uint8Array;
}

export function issuerResponseField55(data: IssuerData): Uint8Array {
  const parts: Uint8Array[] = [];
  if (data.issuerAuthenticationData) parts.push(encodeTlv([{ tag: '91', value: data.issuerAuthenticationData }]));
  if (data.issuerScripts) parts.push(data.issuerScripts);
  return Buffer.concat(parts);
}

/** Reads the host's field 55. Throws TlvError when it is not BER-TLV (a host answer is no more trusted than a card). */
export function issuerDataFrom(field55: Uint8Array): IssuerData {
  const nodes = decodeTlv(field55);
  const out: IssuerData = {};
  const tag91 = nodes.find((n) => n.tag === '91');
  if (tag91 && !isConstructed(tag91)) out.issuerAuthenticationData = tag91.value;
  const scripts = nodes.filter((n) => (n.tag === '71' || n.tag === '72') && isConstructed(n));
  if (scripts.length > 0) out.issuerScripts = encodeTlv(scripts);
  return out;
}

/**
 * An issuer script for a test card: one PUT DATA command under script identifier `id` (the card model carries it
 * out and reports 20 || id in 9F5B). `when` 71 runs before the card's second decision, 72 after it.
 */
export function testIssuerScript(id = 1, when: '71' | '72' = '72'): Uint8Array {
  const scriptId = Buffer.alloc(4);
  scriptId.writeUInt32BE(id >>> 0);
  const template: TlvNode = {
    tag: when,
    children: [
      { tag: '9F18', value: scriptId },
      { tag: '86', value: Uint8Array.from(Buffer.from('04DA9F580401020304', 'hex')) },
    ],
  };
  return encodeTlv([template]);
}

/** The test card the host simulator answers with an issuer script (src/card/test-cards.ts, `emv-issuer-script`). */
export const ISSUER_SCRIPT_TEST_PAN = '4761739001020035';
