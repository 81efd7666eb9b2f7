/** The machine diagrams in the README are generated from the definitions and must be current. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../../src/cli/machine-diagram.js';
import { toMermaid } from '../../src/transaction/diagram.js';
import { transactionMachine } from '../../src/transaction/machine.js';
import { repoRoot } from '../support/cli.js';

describe('machine diagrams', () => {
  it('the README shows the diagrams the definitions produce (npm run diagram)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    expect(renderReadme(readme)).toBe(readme);
  });

  it('the transaction diagram has every state and the money-critical edges', () => {
    const mermaid = toMermaid(transactionMachine);
    for (const state of Object.keys(transactionMachine.root.states)) expect(mermaid).toContain(state);
    expect(mermaid).toContain('printing --> done: printReceipts failed');
    expect(mermaid).toContain('authorizing --> cancelled: CANCEL');
    expect(mermaid).toContain('waitingForCard --> failed: after cardTimeout');
  });
});
