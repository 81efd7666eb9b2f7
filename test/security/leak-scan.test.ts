/**
 * Leak scan: run the whole demo tour (approvals, declines, fraud cards, offline-capable journal) with logging at its
 * most verbose, then search everything it wrote — every log line, every ECR message, the journal database and its
 * WAL — for a full card number or track data of the test cards. None may be found.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testCard, testCardNames } from '../../src/card/test-cards.js';
import { startCli } from '../support/cli.js';

describe('leak scan', () => {
  it('finds no full PAN, track data or CVV in logs, console output or the journal after the demo', async () => {
    const demo = startCli('pos-terminal', ['--demo'], { POS_LOG_LEVEL: 'trace', POS_CONFIG: '' });
    expect(await demo.exited).toBe(0);
    const output = demo.stdout() + demo.stderr();
    const journalPath = /journal: (\S+journal\.sqlite)/.exec(output)?.[1];
    expect(journalPath).toBeDefined();
    const files = [journalPath!, `${journalPath}-wal`].filter((p) => existsSync(p));
    expect(files.length).toBeGreaterThan(0);
    const haystacks = [
      { where: 'logs and console', text: output },
      ...files.map((p) => ({ where: p, text: readFileSync(p).toString('latin1') })),
    ];
    // Proof the scan reads real data: every log line is on the console and the journal holds masked numbers.
    expect(output).toMatch(/"level":30/);
    expect(haystacks.slice(1).some((h) => h.text.includes('476173******0010'))).toBe(true);

    const secrets = testCardNames().flatMap((name) => {
      const card = testCard(name)!;
      return [card.pan, card.track2, card.track1, `${card.pan}=`].filter((s): s is string => Boolean(s));
    });
    const found = haystacks.flatMap((h) =>
      secrets.filter((secret) => h.text.includes(secret)).map((secret) => `${h.where}: ${secret.slice(0, 6)}…`),
    );
    expect(found).toEqual([]);
    // No CVV/PIN-looking keys in the structured log lines either.
    expect(output).not.toMatch(/"(cvv|cvc|pin|pinBlock|track1|track2)":"[^"[]/i);
  }, 60_000);
});
