#!/usr/bin/env node
/**
 * Regenerates the Mermaid diagrams of the machines in the README from their definitions
 * (`npm run diagram`); with --check it only reports whether the README is current.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/index.js';
import { terminalMachine } from '../terminal/machine.js';
import { toMermaid } from '../transaction/diagram.js';
import { transactionMachine } from '../transaction/machine.js';

export const DIAGRAMS = { 'transaction-machine': transactionMachine, 'terminal-machine': terminalMachine } as const;

export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, machine] of Object.entries(DIAGRAMS)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README has no ${start} … ${end} block`);
    out = `${out.slice(0, from + start.length)}\n\`\`\`mermaid\n${toMermaid(machine)}\n\`\`\`\n${out.slice(to)}`;
  }
  return out;
}

if (process.argv[1]?.endsWith('machine-diagram.js')) {
  const path = join(packageRoot(), 'README.md');
  const current = readFileSync(path, 'utf8');
  const next = renderReadme(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      process.stderr.write('README diagrams are out of date: run npm run diagram\n');
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(path, next);
    process.stdout.write('README diagrams updated\n');
  }
}
