import { describe, expect, it } from 'vitest';
import { assertNoCardData } from '../../src/journal/card-data-guard.js';
import { newTxnRef } from '../../src/util/txn-ref.js';

describe('transaction references', () => {
  it('are letters only, unique, and never refused by the card-data guard', () => {
    const refs = Array.from({ length: 20_000 }, () => newTxnRef());
    for (const ref of refs) {
      expect(ref).toMatch(/^T-[A-HJ-NP-Z]{7}-[A-HJ-NP-Z]{7}-[A-HJ-NP-Z]{7}$/);
      assertNoCardData({ txnRef: ref }, 'test');
    }
    expect(new Set(refs).size).toBe(refs.length);
  });
});
