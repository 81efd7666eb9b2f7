/**
 * Model-based: random runs of EMV transactions over every `emv-` test card, random amounts and random host
 * outcomes, on one mock reader. A small oracle says what each branch must decide; every cryptogram the card produced
 * must verify with the test issuer key, every field 55 must parse by the standard's rules without card data, and
 * each card's ATC must move on by one per transaction.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { MockCardReader } from '../../../hal/card-reader/mock.js';
import { verifyArqc } from '../../../hal/emv/cryptogram.js';
import { parseField55 } from '../../../hal/emv/field55.js';
import { TEST_ISSUER_MASTER_KEY } from '../../../hal/emv/test-issuer-key.js';
import { DeviceFaultError } from '../../../hal/fault.js';
import { testCard, testCardNames, testEmvProfile } from '../../../src/card/test-cards.js';
import { hostAnswer, startInput } from './emv-fixtures.js';

const CARDS = testCardNames().filter((n) => testEmvProfile(n) && testCard(n)!.entryMode !== 'fallback-swipe');
const OUTCOMES = ['approve', 'decline', 'unreached', 'forged-arpc', 'card-pulled'] as const;
type Outcome = (typeof OUTCOMES)[number];
const FLOOR = 5000;
const TAC_DEFAULT = Buffer.from('DC4000A800', 'hex');

const step = fc.record({
  card: fc.constantFrom(...CARDS),
  amount: fc.oneof(fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 1, max: 60_000 })),
  outcome: fc.constantFrom(...OUTCOMES),
});

async function caught<T>(promise: Promise<T>): Promise<T | DeviceFaultError> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof DeviceFaultError) return error;
    throw error;
  }
}

function checkField55(iccData: Uint8Array, pan: string, type: string): void {
  const tags = parseField55(iccData);
  expect([...tags.keys()].filter((t) => ['5A', '57', '5F20'].includes(t))).toEqual([]);
  expect(verifyArqc(TEST_ISSUER_MASTER_KEY, iccData, pan, '01')).toMatchObject({ valid: true, type });
}

describe('EMV branches, model-based', () => {
  it('every run decides as the oracle says, with verifiable cryptograms and a moving ATC', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const reader = new MockCardReader(new ManualClock());
        await reader.open();
        const atcs = new Map<string, number>();
        for (const { card: name, amount, outcome } of steps) {
          const card = testCard(name)!;
          const profile = testEmvProfile(name)!;
          reader.remove();
          reader.present(card, { emv: profile });
          await reader.read();
          const contactless = card.entryMode === 'contactless';
          const first = await caught(reader.emvStart(startInput(amount)));
          if (profile.behaviour === 'chip-error') {
            expect(first).toMatchObject({ code: 'chip-error' });
            continue;
          }
          if (first instanceof DeviceFaultError) throw first;
          if (contactless && amount > 50_000) {
            expect(first).toMatchObject({ decision: 'AAC', reason: 'try-another-interface' });
            continue;
          }
          const atc = (atcs.get(card.pan) ?? 0) + 1;
          atcs.set(card.pan, atc);
          expect(Buffer.from(parseField55(first.iccData).get('9F36')!).readUInt16BE(0)).toBe(atc);
          const expectedFirst = profile.offlineAllowed && amount <= FLOOR ? 'TC' : 'ARQC';
          expect(first.decision).toBe(expectedFirst);
          checkField55(first.iccData, card.pan, expectedFirst);
          expect(first.cvm).toBe(
            contactless && amount <= 5000 ? 'no-cvm' : profile.cvmList[8] === 0x42 ? 'online-pin' : 'signature',
          );

          const answer = answerFor(outcome, first.iccData, card.pan);
          if (outcome === 'card-pulled' && !contactless) reader.remove();
          const second = await caught(reader.emvComplete(answer));
          const pulled =
            !contactless && (outcome === 'card-pulled' || profile.behaviour === 'remove-before-completion');
          if (first.decision === 'TC') {
            expect(second).toMatchObject({ decision: 'TC', authorizationResponseCode: 'Y1' });
            continue;
          }
          if (pulled) {
            expect(second).toMatchObject({ code: 'card-removed' });
            continue;
          }
          if (second instanceof DeviceFaultError) throw second;
          const z3 = first.tvr.some((b, i) => (b & ((TAC_DEFAULT[i] ?? 0) | iacDefault(profile)[i]!)) !== 0);
          const expected =
            outcome === 'unreached'
              ? z3
                ? 'AAC'
                : 'TC'
              : outcome === 'decline'
                ? 'AAC'
                : contactless
                  ? 'TC'
                  : outcome === 'forged-arpc' || profile.behaviour === 'decline-after-approval'
                    ? 'AAC'
                    : 'TC';
          expect(second.decision).toBe(expected);
          if (outcome === 'unreached') expect(second.authorizationResponseCode).toBe(z3 ? 'Z3' : 'Y3');
          checkField55(second.iccData, card.pan, contactless ? 'ARQC' : expected);
        }
      }),
      { numRuns: 60 },
    );
  });
});

function iacDefault(profile: NonNullable<ReturnType<typeof testEmvProfile>>): Buffer {
  return profile.iac?.default ? Buffer.from(profile.iac.default, 'hex') : Buffer.alloc(5, 0xff);
}

function answerFor(outcome: Outcome, iccData: Uint8Array, pan: string) {
  if (outcome === 'unreached') return { hostReached: false } as const;
  const answer = hostAnswer(
    iccData,
    pan,
    outcome === 'decline' ? '05' : '00',
    outcome === 'decline' ? 'declined' : 'approved',
  );
  if (outcome !== 'forged-arpc') return answer;
  const forged = Uint8Array.from(answer.issuerAuthenticationData!);
  forged[3]! ^= 0x80;
  return { ...answer, issuerAuthenticationData: forged };
}
