/** `pos-terminal --demo` runs the scripted tour on its own journal and ports and exits 0 with a summary table. */
import { describe, expect, it } from 'vitest';
import { startCli } from '../../support/cli.js';

describe('pos-terminal --demo', () => {
  it('runs approved, declined, unreadable card, paper out + reprint, refund with and without rights, void, duplicate, fraud swipe, lockout and unlock', async () => {
    const demo = startCli('pos-terminal', ['--demo'], { POS_LOG_LEVEL: '', POS_CONFIG: '' });
    const code = await demo.exited;
    const out = demo.stdout();
    expect(demo.stderr()).toBe('');
    expect(code).toBe(0);
    for (const step of [
      'Sale 12.50, approving card',
      'insufficient funds',
      'card unreadable',
      'printer out of paper',
      'Reprint',
      'Refund 5.00 without supervisor PIN',
      'Refund 5.00 with supervisor PIN',
      'Void of sale',
      'Same card and amount again (duplicate)',
      'Chip card swiped, then inserted',
      'Card failing the check digit',
      'Sale while locked',
      'Unlock with a wrong PIN',
      'Unlock with the supervisor PIN',
    ]) {
      expect(out).toContain(step);
    }
    expect(out).toMatch(/approved \(receipt pending\)\s+\d{6}\s+00\s+E301 printer-paper-out/);
    expect(out).toMatch(/declined\s+\d{6}\s+51\s+E202 declined-funds/);
    expect(out).toMatch(/cancelled\s+-\s+-\s+E501 duplicate-transaction/);
    expect(out).toMatch(/failed\s+-\s+-\s+E510 unauthorized-operation/);
    expect(out).toMatch(/failed\s+-\s+-\s+E520 suspected-fraud-luhn/);
    expect(out).toContain('14/14 steps as expected');
    expect(out).not.toContain('UNEXPECTED');
    expect(out).not.toMatch(/4761739001010010|4000000000005100/);
  }, 30_000);
});
