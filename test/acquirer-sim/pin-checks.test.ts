/**
 * The host simulator's online PIN check: field 52 (ISO 9564 format 0) from the mock PIN pad, keyed by DUKPT from an
 * IPEK derived from the simulator's BDK, deciphered from field 53's KSN and compared with the card's PIN: right →
 * the rules decide; wrong → 55, the third in a row 75 and 75 thereafter until reset. Over the wire when the codec
 * carries a 10-byte KSN in field 53; the same checks on the 0200 itself otherwise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyRequest } from '../../src/acquirer-sim/issuer-checks.js';
import { PinBooks } from '../../src/acquirer-sim/pin-check.js';
import { buildFinancialRequest, fieldSpec, type IsoMessage } from '../../src/iso8583/index.js';
import { BDK, issuerSetup, saleRequest } from './issuer-fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const PAN = '4761739001010010';

async function setup() {
  const s = await issuerSetup();
  cleanups.push(s.stop);
  /** A 0200 with the PIN block and KSN the PIN pad produced for these digits. */
  const withPin = async (digits: string, pan = PAN, amount = 1_000): Promise<IsoMessage> => {
    const { pinBlock, ksn } = await s.pin(pan, digits);
    const message = buildFinancialRequest(saleRequest(pan, amount, { entryMode: '051' }));
    message.fields[52] = pinBlock;
    message.fields[53] = ksn;
    return message;
  };
  return { ...s, withPin };
}

/** What the host's checks answer to a 0200 (the decline they impose, else the rules' 00). */
function answerOf(pins: PinBooks, message: IsoMessage) {
  const verdict = verifyRequest(message, 'financial', pins);
  return { code: verdict.declineCode ?? '00', ...verdict.facts };
}

describe('online PIN, checked on the 0200', () => {
  it('the right PIN verifies; wrong ×3 → 55, 55, 75; 75 even for the right one until reset', async () => {
    const { withPin } = await setup();
    const pins = new PinBooks(BDK);
    expect(answerOf(pins, await withPin('1234'))).toMatchObject({ code: '00', pinPresent: true, pinVerified: true });
    const wrong = [];
    for (let i = 0; i < 3; i++) wrong.push(answerOf(pins, await withPin('9999')).code);
    expect(wrong).toEqual(['55', '55', '75']);
    const blocked = answerOf(pins, await withPin('1234'));
    expect(blocked).toMatchObject({ code: '75', pinVerified: false, verification: 'PIN tries exceeded' });
    pins.resetTries(PAN);
    expect(answerOf(pins, await withPin('1234')).code).toBe('00');
  });

  it('a right PIN resets the count; the PIN set in the books is the one checked', async () => {
    const { withPin } = await setup();
    const pins = new PinBooks(BDK, { [PAN]: '4321' });
    expect(answerOf(pins, await withPin('1234')).code).toBe('55');
    expect(answerOf(pins, await withPin('1234')).code).toBe('55');
    expect(answerOf(pins, await withPin('4321')).code).toBe('00');
    expect(answerOf(pins, await withPin('1234')).code).toBe('55');
    // Another card keeps the default PIN and its own count.
    expect(answerOf(pins, await withPin('1234', '5413330089020011')).code).toBe('00');
  });

  it('a block that does not decipher: 55 with the reason, no try counted, nothing in clear', async () => {
    const { withPin } = await setup();
    const pins = new PinBooks(BDK);
    const badKsn = await withPin('1234');
    badKsn.fields[53] = Uint8Array.of(1, 2, 3);
    expect(answerOf(pins, badKsn)).toMatchObject({ code: '55', verification: 'KSN (field 53) is not 10 bytes' });
    const otherBdk = new PinBooks(Buffer.alloc(16, 0x11));
    const wrongKey = answerOf(otherBdk, await withPin('1234'));
    expect(wrongKey.code).toBe('55');
    expect(wrongKey.verification).toMatch(/does not decipher|wrong PIN/);
    const shortBlock = await withPin('1234');
    shortBlock.fields[52] = Uint8Array.of(1, 2);
    expect(answerOf(pins, shortBlock).verification).toBe('PIN block is not 8 bytes');
    for (const facts of [answerOf(pins, badKsn), wrongKey]) {
      expect(JSON.stringify(facts)).not.toContain('1234');
      expect(JSON.stringify(facts)).not.toContain(PAN);
    }
    expect(answerOf(pins, await withPin('1234')).code).toBe('00');
  });

  it('the KSN as hex text (a codec that reads field 53 as n) deciphers the same', async () => {
    const { withPin } = await setup();
    const message = await withPin('1234');
    message.fields[53] = Buffer.from(message.fields[53] as Uint8Array)
      .toString('hex')
      .toUpperCase();
    expect(answerOf(new PinBooks(BDK), message).code).toBe('00');
  });
});

// Field 53 is n16 in the 1987 table; a 10-byte KSN crosses the wire once the codec carries it as binary LLVAR.
describe.runIf(fieldSpec(53)?.type === 'b')('online PIN over the wire', () => {
  it('right PIN approved; wrong ×3 → 55, 55, 75; nothing owed for the declines; no PIN in the ledger', async () => {
    const { sim, client, withPin } = await setup();
    expect((await client.send(await withPin('1234'))).responseCode).toBe('00');
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await client.send(await withPin('0000'))).responseCode);
    expect(codes).toEqual(['55', '55', '75']);
    expect(sim.totals().netAmount).toBe(1_000);
    const outs = sim.ledger.filter((e) => e.dir === 'out' && e.mti === '0210');
    expect(outs.map((e) => e.pinVerified)).toEqual([true, false, false, false]);
    expect(JSON.stringify(sim.ledger)).not.toContain(PAN);
  });
});
