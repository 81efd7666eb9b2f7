/**
 * Smoke test of the nexo sale benchmark at a tiny size: the NDJSON reference and the nexo runs, plain and sealed,
 * each report their figures from the same terminal, and every sale was approved.
 */
import { describe, expect, it } from 'vitest';
import { benchNexoSale } from '../../bench/nexo-sale.js';
import { renderRows } from '../../bench/report.js';

const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n);

describe('nexo sale benchmark (smoke)', () => {
  it('measures NDJSON, nexo plain and nexo sealed in one run and loses nothing', async () => {
    const r = await benchNexoSale(5, 2);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r.name.split(' ')[0]).toBe('nexo-sale');
    const j = r.journal;
    expect(j.expectedApproved).toBe(21);
    expect({ approved: j.approved, amount: j.approvedAmount, inFlight: j.inFlight }).toEqual({
      approved: j.expectedApproved,
      amount: j.expectedAmount,
      inFlight: 0,
    });
    for (const n of [r.sealedWire.p50Ms, r.sealedWire.p99Ms]) expect(finite(n)).toBe(true);
    expect(r.sealedWire.sales).toBe(5);
    expect(r.sealedWire.p50Ms).toBeLessThanOrEqual(r.sealed.p50Ms);
    for (const run of [r.ndjson, r.plain, r.sealed]) {
      expect(run.sales).toBe(5);
      for (const n of [run.p50Ms, run.p99Ms, run.maxMs, run.salesPerSecond]) expect(finite(n)).toBe(true);
      expect(run.p50Ms).toBeLessThanOrEqual(run.p99Ms);
      expect(run.salesPerSecond).toBeGreaterThan(0);
    }

    // The report's row reads this result: both nexo figures, the NDJSON one of the same run beside them.
    const row = renderRows([{ ...r }]).find((x) => x.measured.startsWith('Sale through nexo'));
    expect(row?.figure).toMatch(
      /^sealed: p99 .+ sales \/ s, of which the HTTPS exchange p99 .+; plain: p99 .+ sales \/ s$/,
    );
    expect(row?.reference).toMatch(/^NDJSON `sale` on the same terminal, same run: p99 /);
    expect(row?.verdict).toBe('—');
  }, 60_000);
});
