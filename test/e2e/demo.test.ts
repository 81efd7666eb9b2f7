/** `pos-terminal --demo` runs the scripted tour on its own journal and ports and exits 0 with a summary table. */
import { describe, expect, it } from 'vitest';
import { startCli } from '../support/cli.js';

describe('pos-terminal --demo', () => {
  it('runs approved, declined, unreadable card, paper out + reprint, refund and void, all as expected', async () => {
    const demo = startCli('pos-terminal', ['--demo'], { POS_LOG_LEVEL: '', POS_CONFIG: '' });
    const code = await demo.exited;
    const out = demo.stdout();
    expect(demo.stderr()).toBe('');
    expect(code).toBe(0);
    for (const step of ['Sale 12.50, approving card', 'insufficient funds', 'card unreadable', 'printer out of paper', 'Reprint', 'Refund 5.00', 'Void of sale']) {
      expect(out).toContain(step);
    }
    expect(out).toMatch(/approved \(receipt pending\)\s+\d{6}\s+00\s+E301 printer-paper-out/);
    expect(out).toMatch(/declined\s+\d{6}\s+51\s+E201 declined/);
    expect(out).toContain('7/7 steps as expected');
    expect(out).not.toContain('UNEXPECTED');
    expect(out).not.toMatch(/4761739001010010|4000000000005100/);
  }, 30_000);
});
