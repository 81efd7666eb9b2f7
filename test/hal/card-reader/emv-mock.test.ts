/**
 * The mock reader's EMV kernel over the card model, one test card per branch: the host's side is played with the
 * same functions the host simulator uses (the ARQC verified with the test issuer key, tag 91 computed from it).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { hasEmvKernel } from '../../../hal/card-reader/contract.js';
import { MockCardReader } from '../../../hal/card-reader/mock.js';
import { verifyArqc } from '../../../hal/emv/cryptogram.js';
import { parseField55 } from '../../../hal/emv/field55.js';
import { TEST_ISSUER_MASTER_KEY } from '../../../hal/emv/test-issuer-key.js';
import { encodeTlv } from '../../../hal/emv/tlv.js';
import { testCard, testEmvProfile } from '../../../src/card/test-cards.js';
import { expectFault } from '../expect-fault.js';
import { h, hostAnswer, hx, startInput } from './emv-fixtures.js';

let reader: MockCardReader;

beforeEach(async () => {
  reader = new MockCardReader(new ManualClock());
  await reader.open();
});

/** Presents a named test card with its chip and reads it, as a sale does before the EMV steps. */
async function insert(name: string): Promise<string> {
  const card = testCard(name)!;
  const emv = testEmvProfile(name);
  reader.present(card, emv ? { emv } : {});
  await reader.waitForCard({ timeoutMs: 1000 });
  await reader.read();
  return card.pan;
}

describe('online approve', () => {
  it('ARQC that the host verifies, tag 91 the card accepts, TC the host verifies too', async () => {
    expect(hasEmvKernel(reader)).toBe(true);
    const pan = await insert('emv-online-approve');
    const first = await reader.emvStart(startInput(12_500));
    expect(first.decision).toBe('ARQC');
    expect(first.cvm).toBe('signature');
    expect(hx(first.cvmResults)).toBe('5E0300');
    expect(hx(first.tvr)).toBe('0000008000'); // above the floor limit
    const tags = parseField55(first.iccData);
    expect(hx(tags.get('9F02'))).toBe('000000012500');
    expect(hx(tags.get('9F36'))).toBe('0001');
    expect([...tags.keys()].some((t) => ['5A', '57', '5F20'].includes(t))).toBe(false);

    const answer = hostAnswer(first.iccData, pan, '00', 'approved');
    expect(answer.arqcValid).toBe(true);
    const second = await reader.emvComplete(answer);
    expect(second).toMatchObject({ decision: 'TC', authorizationResponseCode: '00' });
    expect(second.reason).toBeUndefined();
    const done = parseField55(second.iccData);
    expect(hx(done.get('8A'))).toBe('3030');
    expect(hx(done.get('9B'))).toBe('7800');
    const tc = verifyArqc(TEST_ISSUER_MASTER_KEY, second.iccData, pan, '01');
    expect({ valid: tc.valid, type: tc.type }).toEqual({ valid: true, type: 'TC' });
  });

  it('the ATC moves on with every transaction of the same card', async () => {
    await insert('emv-online-approve');
    const atcs: string[] = [];
    for (let i = 0; i < 3; i++) {
      reader.remove();
      await insert('emv-online-approve');
      atcs.push(hx(parseField55((await reader.emvStart(startInput(12_500))).iccData).get('9F36')));
    }
    expect(atcs).toEqual(['0001', '0002', '0003']);
    expect(reader.emvCard?.atc).toBe(3);
  });

  it('a card presented without a profile gets the default chip, and its ARQC verifies', async () => {
    reader.present(testCard('visa')!);
    await reader.read();
    const first = await reader.emvStart(startInput(1250));
    expect(first.decision).toBe('ARQC');
    expect(verifyArqc(TEST_ISSUER_MASTER_KEY, first.iccData, '4761739001010010', '01').valid).toBe(true);
  });
});

describe('declines', () => {
  it('online decline: the host declines and the card is told (AAC)', async () => {
    const pan = await insert('emv-online-decline');
    const first = await reader.emvStart(startInput(12_500));
    const second = await reader.emvComplete(hostAnswer(first.iccData, pan, '05', 'declined'));
    expect(second).toMatchObject({ decision: 'AAC', reason: 'host-declined', authorizationResponseCode: '05' });
    expect(verifyArqc(TEST_ISSUER_MASTER_KEY, second.iccData, pan, '01').type).toBe('AAC');
  });

  it('decline after approval: the host approves, the card answers AAC', async () => {
    const pan = await insert('emv-decline-after-approval');
    const first = await reader.emvStart(startInput(12_500));
    const second = await reader.emvComplete(hostAnswer(first.iccData, pan, '00', 'approved'));
    expect(second).toMatchObject({ decision: 'AAC', reason: 'card-declined-after-approval' });
  });

  it('an ARPC that does not verify: the card declines and the TVR says issuer authentication failed', async () => {
    const pan = await insert('emv-online-approve');
    const first = await reader.emvStart(startInput(12_500));
    const answer = hostAnswer(first.iccData, pan, '00', 'approved');
    const forged = Uint8Array.from(answer.issuerAuthenticationData!);
    forged[0]! ^= 0x01;
    const second = await reader.emvComplete({ ...answer, issuerAuthenticationData: forged });
    expect(second).toMatchObject({ decision: 'AAC', reason: 'issuer-authentication-failed' });
    expect(hx(parseField55(second.iccData).get('95')).slice(8)).toBe('40');
  });

  it('denial codes decline offline at the first decision (Z1)', async () => {
    await insert('emv-online-approve');
    const first = await reader.emvStart(
      startInput(12_500, {
        tvrStart: '0000000000',
        tac: { denial: '0000008000', online: '0000000000', default: '0000000000' },
      }),
    );
    expect(first).toMatchObject({ decision: 'AAC', reason: 'denial-codes', authorizationResponseCode: 'Z1' });
  });
});

describe('issuer scripts', () => {
  it('runs 71 before and 72 after the second decision and reports each in 9F5B', async () => {
    const pan = await insert('emv-issuer-script');
    const first = await reader.emvStart(startInput(12_500));
    const scripts = encodeTlv([
      {
        tag: '72',
        children: [
          { tag: '9F18', value: h('00000001') },
          { tag: '86', value: h('04DA9F580401020304') },
        ],
      },
      {
        tag: '72',
        children: [
          { tag: '9F18', value: h('00000002') },
          { tag: '86', value: h('84EE0000') },
        ],
      },
    ]);
    const second = await reader.emvComplete({
      ...hostAnswer(first.iccData, pan, '00', 'approved'),
      issuerScripts: scripts,
    });
    expect(second.decision).toBe('TC');
    expect(hx(second.scriptResults)).toBe('2000000001' + '1100000002');
    const done = parseField55(second.iccData);
    expect(hx(done.get('9F5B'))).toBe(hx(second.scriptResults));
    expect(hx(done.get('95')).slice(8)).toBe('10'); // script failed after the final GENERATE AC
  });

  it('an APPLICATION BLOCK script leaves the card declining later transactions', async () => {
    const pan = await insert('emv-issuer-script');
    const first = await reader.emvStart(startInput(12_500));
    const block = encodeTlv([{ tag: '72', children: [{ tag: '86', value: h('841E000000') }] }]);
    await reader.emvComplete({ ...hostAnswer(first.iccData, pan, '00', 'approved'), issuerScripts: block });
    reader.remove();
    await insert('emv-issuer-script');
    expect(await reader.emvStart(startInput(12_500))).toMatchObject({ decision: 'AAC', reason: 'card-declined' });
  });
});

describe('offline and unreachable host', () => {
  it('offline approve: TC at the first decision within the floor limit (Y1); above it the card goes online', async () => {
    const pan = await insert('emv-offline-approve');
    const first = await reader.emvStart(startInput(1000));
    expect(first).toMatchObject({ decision: 'TC', authorizationResponseCode: 'Y1' });
    expect(verifyArqc(TEST_ISSUER_MASTER_KEY, first.iccData, pan, '01')).toMatchObject({ valid: true, type: 'TC' });
    const complete = await reader.emvComplete({ hostReached: false });
    expect(complete).toMatchObject({ decision: 'TC', authorizationResponseCode: 'Y1' });
    reader.remove();
    await insert('emv-offline-approve');
    expect((await reader.emvStart(startInput(9000))).decision).toBe('ARQC');
  });

  it('host unreached: the default action codes approve (Y3) within the floor limit and decline (Z3) above it', async () => {
    await insert('emv-online-approve');
    await reader.emvStart(startInput(1000));
    expect(await reader.emvComplete({ hostReached: false })).toMatchObject({
      decision: 'TC',
      authorizationResponseCode: 'Y3',
      reason: 'unable-online-approved',
    });
    await reader.emvStart(startInput(12_500));
    const z3 = await reader.emvComplete({ hostReached: false });
    expect(z3).toMatchObject({ decision: 'AAC', authorizationResponseCode: 'Z3', reason: 'unable-online-declined' });
    expect(hx(parseField55(z3.iccData).get('8A'))).toBe(Buffer.from('Z3').toString('hex').toUpperCase());
  });
});

describe('the card leaves or fails', () => {
  it('removed before completion: emvComplete rejects card-removed and the reader is empty', async () => {
    const pan = await insert('emv-removed');
    const removed: unknown[] = [];
    reader.on('card-removed', (e) => removed.push(e));
    const first = await reader.emvStart(startInput(12_500));
    await expectFault(
      reader.emvComplete(hostAnswer(first.iccData, pan, '00', 'approved')),
      'card-reader',
      'card-removed',
    );
    expect(removed).toHaveLength(1);
    expect(reader.cardInReader).toBeUndefined();
  });

  it('a card the cardholder pulls out between the two decisions, or before the first', async () => {
    const pan = await insert('emv-online-approve');
    const first = await reader.emvStart(startInput(12_500));
    reader.remove();
    await expectFault(
      reader.emvComplete(hostAnswer(first.iccData, pan, '00', 'approved')),
      'card-reader',
      'card-removed',
    );
    await insert('emv-online-approve');
    reader.remove();
    await expectFault(reader.emvStart(startInput(12_500)), 'card-reader', 'card-removed');
  });

  it('chip failure rejects chip-error; the same card swiped then reads as a fallback swipe', async () => {
    await insert('emv-chip-error');
    await expectFault(reader.emvStart(startInput(12_500)), 'card-reader', 'chip-error');
    reader.remove();
    reader.present(testCard('emv-chip-error-swipe')!);
    const swiped = await reader.read();
    expect(swiped.entryMode).toBe('fallback-swipe');
    expect(swiped.track2).toBeDefined();
    await expectFault(reader.emvStart(startInput(12_500)), 'card-reader', 'read-failed');
  });

  it('injected faults on the EMV steps', async () => {
    await insert('emv-online-approve');
    reader.inject({ op: 'emv-start', code: 'chip-error' });
    await expectFault(reader.emvStart(startInput(12_500)), 'card-reader', 'chip-error');
    await reader.emvStart(startInput(12_500));
    reader.inject({ op: 'emv-complete', code: 'card-removed' });
    await expectFault(reader.emvComplete({ hostReached: false }), 'card-reader', 'card-removed');
    expect(reader.cardInReader).toBeUndefined();
  });
});

describe('cardholder verification', () => {
  it('online PIN card: online PIN, CVM results 42 03 00, TVR online PIN entered', async () => {
    await insert('emv-online-pin');
    const first = await reader.emvStart(startInput(12_500));
    expect(first.cvm).toBe('online-pin');
    expect(hx(first.cvmResults)).toBe('420300');
    expect(hx(first.tvr).slice(4, 6)).toBe('04');
    // A terminal without online PIN gets the card's next rule.
    const noPin = await reader.emvStart(startInput(12_500, { terminalCapabilities: 'E028C8' }));
    expect(noPin.cvm).toBe('signature');
  });

  it('signature card: signature', async () => {
    await insert('emv-signature');
    expect((await reader.emvStart(startInput(12_500))).cvm).toBe('signature');
  });

  it('contactless: no CVM at or under the CVM limit, online PIN over it, another interface over the transaction limit', async () => {
    await insert('emv-contactless');
    const under = await reader.emvStart(startInput(5000));
    expect({ cvm: under.cvm, results: hx(under.cvmResults) }).toEqual({ cvm: 'no-cvm', results: '1F0002' });
    expect(reader.cardInReader).toBeUndefined(); // tapped: gone once read
    // No second GENERATE AC for a tapped card: the host's answer is final.
    expect(
      await reader.emvComplete({ hostReached: true, hostDecision: 'approved', authorizationResponseCode: '00' }),
    ).toMatchObject({ decision: 'TC' });

    const pan = await insert('emv-contactless');
    const over = await reader.emvStart(startInput(5001));
    expect(over.cvm).toBe('online-pin');
    expect(verifyArqc(TEST_ISSUER_MASTER_KEY, over.iccData, pan, '01').valid).toBe(true);
    const declined = await reader.emvComplete({
      hostReached: true,
      hostDecision: 'declined',
      authorizationResponseCode: '55',
    });
    expect(declined).toMatchObject({ decision: 'AAC', reason: 'host-declined' });

    await insert('emv-contactless');
    const tooMuch = await reader.emvStart(startInput(50_001));
    expect(tooMuch).toMatchObject({ decision: 'AAC', reason: 'try-another-interface' });
  });
});

describe('bad use', () => {
  it('refuses bad input and completion without a start, as typed faults', async () => {
    await insert('emv-online-approve');
    await expectFault(reader.emvComplete({ hostReached: false }), 'card-reader', 'read-failed');
    const fault = await expectFault(reader.emvStart(startInput(-1)), 'card-reader', 'read-failed');
    expect(fault.detail).toMatchObject({ reason: 'bad-input', field: 'amount' });
    await expectFault(reader.emvStart(startInput(1, { date: '261340' })), 'card-reader', 'read-failed');
    await expectFault(
      reader.emvStart(startInput(1, { unpredictableNumber: Uint8Array.of(1) })),
      'card-reader',
      'read-failed',
    );
    const first = await reader.emvStart(startInput(12_500));
    expect(first.decision).toBe('ARQC');
    await expectFault(
      reader.emvComplete({ hostReached: true, hostDecision: 'approved', authorizationResponseCode: '0' }),
      'card-reader',
      'read-failed',
    );
  });
});
