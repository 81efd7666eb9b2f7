/** Temporary journal files and a controllable clock for journal tests. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function steppingClock(
  start = Date.UTC(2024, 4, 1, 12, 0, 0),
  step = 1000,
): { now: () => number; set: (t: number) => void } {
  let t = start - step;
  return {
    now: () => (t += step),
    set: (next: number) => {
      t = next - step;
    },
  };
}

/** Every byte SQLite may hold for this database: the main file, the WAL and the shared-memory index. */
export function databaseBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

export const VISA = '4111111111111111';
export const MASTERCARD = '5555555555554444';
export const AMEX = '378282246310005';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The crash tests' child processes run plain Node, which cannot load TypeScript: transpile the journal and what it
 * imports (relative imports only) into a scratch tree whose node_modules points at ours; returns its module URL.
 */
export function buildJournalModule(outRoot: string): string {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    const out = join(outRoot, relative(repoRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) visit(join(dirname(file), `${m[1]}.ts`));
  };
  visit(join(repoRoot, 'src', 'journal', 'journal.ts'));
  writeFileSync(join(outRoot, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(outRoot, 'node_modules'), 'dir');
  return pathToFileURL(join(outRoot, 'src', 'journal', 'journal.js')).href;
}
