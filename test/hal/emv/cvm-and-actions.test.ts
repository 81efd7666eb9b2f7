/** CVM selection (Book 3 10.5, Annex C3) and terminal action analysis (Book 3 10.7) on their own. */
import { describe, expect, it } from 'vitest';
import {
  ABSENT_IAC,
  defaultActionAnalysis,
  setTvrBit,
  terminalActionAnalysis,
} from '../../../hal/emv/action-analysis.js';
import { CVM, cvmList, selectCvm, type CvmContext } from '../../../hal/emv/cvm.js';

const h = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

const ctx = (rules: ReadonlyArray<readonly [number, number]>, over: Partial<CvmContext> = {}): CvmContext => ({
  cvmList: cvmList(10_000, 0, rules),
  amount: 2500,
  amountOther: 0,
  transactionType: 0x00,
  terminalCapabilities: h('E068C8'),
  contactless: false,
  ...over,
});

describe('selectCvm', () => {
  it('takes the first rule whose condition holds and the terminal supports', () => {
    const rules = [
      [CVM.onlinePin | CVM.applyNextIfFailed, 0x07], // over X
      [CVM.signature | CVM.applyNextIfFailed, 0x03],
      [CVM.noCvm, 0x03],
    ] as const;
    expect(selectCvm(ctx(rules)).cvm).toBe('signature');
    const over = selectCvm(ctx(rules, { amount: 12_000 }));
    expect({ cvm: over.cvm, results: hx(over.cvmResults), tvr3: over.tvrByte3 }).toEqual({
      cvm: 'online-pin',
      results: '420700',
      tvr3: 0x04,
    });
    expect(selectCvm(ctx(rules, { terminalCapabilities: h('E008C8') })).cvm).toBe('no-cvm');
  });

  it('offline PIN is not supported here: next rule if allowed, otherwise failed verification', () => {
    const next = selectCvm(
      ctx([
        [CVM.encipheredPinIcc | CVM.applyNextIfFailed, 0x00],
        [CVM.signature, 0x00],
      ]),
    );
    expect(next.cvm).toBe('signature');
    const stop = selectCvm(
      ctx([
        [CVM.plainPinIcc, 0x00],
        [CVM.signature, 0x00],
      ]),
    );
    expect({ cvm: stop.cvm, results: hx(stop.cvmResults), tvr3: stop.tvrByte3 }).toEqual({
      cvm: 'offline-pin-not-supported',
      results: '010001',
      tvr3: 0x80,
    });
    expect(selectCvm(ctx([[CVM.fail, 0x00]])).cvm).toBe('failed');
    expect(selectCvm(ctx([[0x3a, 0x00]])).tvrByte3).toBe(0xc0); // unrecognised CVM
  });

  it('cash back and cash conditions, and a card without a CVM list', () => {
    const rules = [
      [CVM.onlinePin, 0x05],
      [CVM.signature, 0x02],
    ] as const;
    expect(selectCvm(ctx(rules, { amountOther: 500 })).cvm).toBe('online-pin');
    expect(selectCvm(ctx(rules)).cvm).toBe('signature');
    const none = selectCvm(ctx([], { cvmList: undefined }));
    expect({ cvm: none.cvm, missing: none.iccDataMissing, results: hx(none.cvmResults) }).toEqual({
      cvm: 'failed',
      missing: true,
      results: '3F0000',
    });
  });

  it('contactless at or under the CVM limit asks for nothing', () => {
    const rules = [[CVM.onlinePin, 0x00]] as const;
    expect(selectCvm(ctx(rules, { contactless: true, contactlessCvmLimit: 2500 })).cvm).toBe('no-cvm');
    expect(selectCvm(ctx(rules, { contactless: true, contactlessCvmLimit: 2499 })).cvm).toBe('online-pin');
  });
});

describe('terminal action analysis', () => {
  const tac = { denial: h('0010000000'), online: h('DC4004F800'), default: h('DC4000A800') };

  it('denial first, then online, else approve offline', () => {
    const tvr = new Uint8Array(5);
    expect(terminalActionAnalysis(tvr, tac, { ...ABSENT_IAC })).toBe('TC');
    setTvrBit(tvr, 4, 8); // floor limit exceeded
    expect(hx(tvr)).toBe('0000008000');
    expect(terminalActionAnalysis(tvr, tac, ABSENT_IAC)).toBe('ARQC');
    expect(terminalActionAnalysis(h('0010000000'), tac, ABSENT_IAC)).toBe('AAC');
    // The issuer's codes count as much as the terminal's.
    const iac = { denial: h('0000008000'), online: h('0000000000'), default: h('0000000000') };
    expect(terminalActionAnalysis(tvr, tac, iac)).toBe('AAC');
    // Offline-only: the default codes decide.
    expect(terminalActionAnalysis(tvr, tac, ABSENT_IAC, false)).toBe('AAC');
    expect(terminalActionAnalysis(new Uint8Array(5), tac, ABSENT_IAC, false)).toBe('TC');
  });

  it('unable to go online: Y3 unless a default code matches (Z3)', () => {
    expect(defaultActionAnalysis(new Uint8Array(5), tac, ABSENT_IAC)).toBe('Y3');
    expect(defaultActionAnalysis(h('0000008000'), tac, ABSENT_IAC)).toBe('Z3');
    expect(defaultActionAnalysis(h('0000000400'), tac, { ...ABSENT_IAC, default: new Uint8Array(5) })).toBe('Y3');
  });
});
