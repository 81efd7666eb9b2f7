/** The settlement benchmark on a small batch: its checks against the host hold, and its figures are there. */
import { describe, expect, it } from 'vitest';
import { benchSettlement } from '../../bench/settlement.js';

describe('bench/settlement.ts', () => {
  it('settles a batch with its upload, every STAN once, the host agreeing, with same-run references', async () => {
    const r = await benchSettlement({ transactions: 60 });
    expect(r).toMatchObject({
      name: 'settlement',
      transactions: 60,
      uploaded: 60,
      settlementRequests: 2,
      hostAgreed: true,
      doubledUploads: 0,
      hostTotalsEqual: true,
    });
    expect(r.uploadsPerSecond).toBeGreaterThan(0);
    expect(r.reference.bareUploadsPerSecond).toBeGreaterThan(0);
    expect(r.reference.commitsPerSecond).toBeGreaterThan(0);
  });
});
