/**
 * docs/architecture.md is the newcomer's map: its import rules are the dependency checker's rules, and its table of
 * rooms names every folder of src/ and hal/ (and no folder that is gone); no room holds a file too long to read.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

interface Rule {
  name: string;
  comment: string;
}

const doc = readFileSync(join(repoRoot, 'docs', 'architecture.md'), 'utf8');
const rules: Rule[] = createRequire(import.meta.url)(join(repoRoot, '.dependency-cruiser.cjs')).forbidden;

function section(title: string): string {
  const start = doc.indexOf(`## ${title}`);
  expect(start, `docs/architecture.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 3);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** Every hand-written TypeScript file under `top` (generated code excluded). */
function sources(top: string): string[] {
  return readdirSync(join(repoRoot, top), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.split('/').includes('generated'))
    .map((f) => `${top}/${f}`);
}

function folders(top: string): string[] {
  return readdirSync(join(repoRoot, top))
    .filter((name) => statSync(join(repoRoot, top, name)).isDirectory() && name !== 'generated')
    .map((name) => `${top}/${name}/`);
}

describe('docs/architecture.md', () => {
  it('lists exactly the import rules the dependency checker enforces, each with its reason', () => {
    const listed = [...section('Import rules').matchAll(/^- `([a-z0-9-]+)`: (.+)$/gm)].map((m) => ({
      name: m[1],
      comment: m[2],
    }));
    expect(listed.map((r) => r.name).sort()).toEqual(rules.map((r) => r.name).sort());
    for (const rule of rules) expect(listed.find((r) => r.name === rule.name)?.comment).toBe(rule.comment);
  });

  it('names every folder of src/ and hal/ in its table of rooms, and none that is gone', () => {
    const table = section('Where things live');
    const named = new Set([...table.matchAll(/`((?:src|hal)\/[a-z0-9-]+\/)`/g)].map((m) => m[1]));
    const real = [...folders('src'), ...folders('hal')];
    for (const folder of real) expect(named, `${folder} is described`).toContain(folder);
    for (const folder of named) expect(real, `${folder} exists`).toContain(folder);
  });

  it('keeps every hand-written file of src/ and hal/ small enough to read in one sitting (450 lines)', () => {
    const large = [...sources('src'), ...sources('hal')]
      .map((file) => ({ file, lines: readFileSync(join(repoRoot, file), 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > 450);
    expect(large).toEqual([]);
  });
});
