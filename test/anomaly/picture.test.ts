/** The screen pictures: well-formed, escaped, coloured by severity, deterministic, and the committed ones current. */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Screen } from '../../hal/display/contract.js';
import {
  SCREENS_DIR,
  SEVERITY_COLOURS,
  anomalyGuideRows,
  anomalyScreenFiles,
  escapeXml,
  renderScreenSvg,
  screenFileName,
  wrapText,
} from '../../src/anomaly/picture.js';
import { ANOMALIES, renderAnomalyScreen } from '../../src/anomaly/taxonomy.js';
import { languageScreenFiles, renderReadme, syncScreens } from '../../src/cli/render-screens.js';
import { cliPath, repoRoot } from '../support/cli.js';

// ---------------------------------------------------------------------------------------------------------------
// A small XML well-formedness checker: tags balanced and properly nested, one root, attributes quoted and unique,
// no raw '<' or stray '&' in text or attribute values. Enough for the SVG this project writes (no DOCTYPE, CDATA
// or processing instructions).

const NAME = '[A-Za-z_][\\w:.-]*';
const ATTR = `\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*')`;
const TOKEN = new RegExp(`<!--(?:(?!--)[\\s\\S])*-->|<(${NAME})((?:${ATTR})*)\\s*(/?)>|</(${NAME})\\s*>|[^<]+|<`, 'g');
const ATTR_ONE = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g');
const BAD_ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);)/;

function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  for (const m of xml.matchAll(TOKEN)) {
    const [token, open, attrs, selfClose, close] = m;
    if (token.startsWith('<!--')) continue;
    if (open) {
      if (stack.length === 0 && ++roots > 1) problems.push(`second root element <${open}>`);
      const seen = new Set<string>();
      for (const [, name, dq, sq] of (attrs ?? '').matchAll(ATTR_ONE)) {
        if (seen.has(name!)) problems.push(`duplicate attribute ${name} on <${open}>`);
        seen.add(name!);
        if (BAD_ENTITY.test(dq ?? sq ?? '')) problems.push(`unescaped & in ${name} of <${open}>`);
      }
      if (!selfClose) stack.push(open);
    } else if (close) {
      const top = stack.pop();
      if (top !== close) problems.push(`</${close}> closes <${top ?? 'nothing'}>`);
    } else if (token === '<') {
      problems.push(`raw < at ${m.index}`);
    } else {
      if (stack.length === 0 && token.trim()) problems.push(`text outside the root: ${token.trim().slice(0, 20)}`);
      if (BAD_ENTITY.test(token)) problems.push(`unescaped & in text: ${token.slice(0, 40)}`);
    }
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots === 0) problems.push('no root element');
  return problems;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

interface TextElement {
  x: number;
  y: number;
  size: number;
  fill: string;
  bold: boolean;
  middle: boolean;
  content: string;
}

function texts(svg: string): TextElement[] {
  return [...svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)].map(([, attrs, content]) => {
    const attr = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(attrs!)?.[1] ?? '';
    return {
      x: Number(attr('x')),
      y: Number(attr('y')),
      size: Number(attr('font-size')),
      fill: attr('fill'),
      bold: attr('font-weight') === 'bold',
      middle: attr('text-anchor') === 'middle',
      content: unescapeXml(content!),
    };
  });
}

/** WCAG 2 contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

// ---------------------------------------------------------------------------------------------------------------

describe('the well-formedness checker', () => {
  it('accepts good XML and rejects broken XML', () => {
    expect(xmlProblems('<svg a="1"><g><text>a &amp; b</text></g><rect/></svg>\n')).toEqual([]);
    expect(xmlProblems('<svg><g></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg><text>a & b</text></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg><text>a < b</text></svg>')).not.toEqual([]);
    expect(xmlProblems('<svg a="1" a="2"/>')).not.toEqual([]);
    expect(xmlProblems('<svg a=1/>')).not.toEqual([]);
    expect(xmlProblems('<svg/><svg/>')).not.toEqual([]);
  });
});

describe('renderScreenSvg', () => {
  it.each(ANOMALIES.map((d) => [d.code, d] as const))('%s renders to a well-formed, self-contained SVG', (_, def) => {
    const screen = renderAnomalyScreen(def);
    const svg = renderScreenSvg(screen);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="320" height="240" viewBox="0 0 320 240"/,
    );
    // Nothing fetched from elsewhere: no links, images, external fonts, scripts or styles.
    expect(svg).not.toMatch(/href|<image|<script|<style|@import|url\(|<foreignObject/);
    const all = texts(svg);
    expect(all[0]).toMatchObject({ content: def.title, bold: true });
    expect(all.find((t) => t.middle)?.content).toBe(def.code);
    // The words of the message and the action appear in order, the action last and bold.
    const body = all.filter((t) => t.y > 44 && !t.middle);
    expect(body.map((t) => t.content).join(' ')).toBe(`${def.message} ${def.actionText}`);
    const action = body.filter((t) => t.bold);
    expect(action.map((t) => t.content).join(' ')).toBe(def.actionText);
    expect(body.slice(-action.length)).toEqual(action);
  });

  it('every text fits in the picture (monospace advance 0.6 em)', () => {
    for (const def of ANOMALIES) {
      for (const t of texts(renderScreenSvg(renderAnomalyScreen(def)))) {
        const w = Array.from(t.content).length * t.size * 0.6;
        const [left, right] = t.middle ? [t.x - w / 2, t.x + w / 2] : [t.x, t.x + w];
        expect(left, `${def.code} ${t.content}`).toBeGreaterThanOrEqual(12);
        expect(right, `${def.code} ${t.content}`).toBeLessThanOrEqual(320 - 12);
        expect(t.y, `${def.code} ${t.content}`).toBeLessThanOrEqual(240 - 12);
      }
    }
  });

  it.skipIf(!hasXmllint)('xmllint accepts every picture (skipped when xmllint is not installed)', () => {
    for (const svg of anomalyScreenFiles().values()) {
      const r = spawnSync('xmllint', ['--noout', '-'], { input: svg });
      expect(r.status, r.stderr.toString()).toBe(0);
    }
  });

  it('escapes text for XML', () => {
    const screen: Screen = {
      title: 'A <b> & "c"',
      lines: ["it's <script>alert(1)</script>", 'Tom & Jerry > 1'],
      code: '<&>',
      severity: 'error',
    };
    const svg = renderScreenSvg(screen);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toContain('A &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).toContain('&lt;&amp;&gt;</text>');
    expect(svg).toContain('aria-label="&lt;&amp;&gt; A &lt;b&gt; &amp; &quot;c&quot;"');
    expect(svg).toContain('it&apos;s &lt;script&gt;');
    expect(svg).toContain('Tom &amp; Jerry &gt; 1');
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<b>');
    expect(escapeXml('a\u0000b\u001bc\td')).toBe('abc\td');
    expect(escapeXml('\ud800x')).toBe('\ufffdx');
  });

  it('colours the header by severity with readable contrast', () => {
    expect(SEVERITY_COLOURS.info.fill).toBe('#1d4ed8');
    expect(SEVERITY_COLOURS.success.fill).toBe('#15803d');
    expect(SEVERITY_COLOURS.warning.fill).toBe('#f59e0b');
    expect(SEVERITY_COLOURS.error.fill).toBe('#b91c1c');
    const fills = new Set<string>();
    for (const severity of ['info', 'success', 'warning', 'error'] as const) {
      const { fill, text } = SEVERITY_COLOURS[severity];
      fills.add(fill);
      expect(contrast(fill, text), severity).toBeGreaterThanOrEqual(4.5);
      const svg = renderScreenSvg({ title: 'T', lines: ['m', 'a'], code: 'E1', severity });
      expect(svg).toMatch(new RegExp(`<path d="M[^"]*" fill="${fill}"/>`));
      const [title, badge] = texts(svg);
      expect(title!.fill).toBe(text);
      expect(badge!.fill).toBe(fill);
    }
    expect(fills.size).toBe(4);
    // Anomaly severities map onto the screen's: critical is drawn as an error.
    expect(renderScreenSvg(renderAnomalyScreen(ANOMALIES.find((d) => d.severity === 'critical')!))).toContain(
      `fill="${SEVERITY_COLOURS.error.fill}"`,
    );
  });

  it('is deterministic: the same screen gives the same bytes, with no ids or times', () => {
    for (const def of ANOMALIES) {
      const a = renderScreenSvg(renderAnomalyScreen(def));
      const b = renderScreenSvg(structuredClone(renderAnomalyScreen(def)));
      expect(a).toBe(b);
      expect(a).not.toMatch(/\bid="/);
      expect(a).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    }
  });

  it('wraps long lines to the width and cuts what does not fit', () => {
    const long = 'word '.repeat(80).trim();
    const svg = renderScreenSvg({
      title: 'x'.repeat(60),
      lines: [long, long, 'Do this'],
      code: 'E999',
      severity: 'info',
    });
    expect(xmlProblems(svg)).toEqual([]);
    const all = texts(svg);
    for (const t of all) expect(t.x + Array.from(t.content).length * t.size * 0.6).toBeLessThanOrEqual(320);
    expect(all[0]!.content.endsWith('…')).toBe(true);
    expect(
      all
        .filter((t) => !t.bold && !t.middle)
        .at(-1)!
        .content.endsWith('…'),
    ).toBe(true);
    expect(all.at(-1)).toMatchObject({ content: 'Do this', bold: true });
    expect(Math.max(...all.map((t) => t.y))).toBeLessThanOrEqual(240);

    expect(wrapText('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('  ', 4)).toEqual([]);
  });

  it('takes another size, and refuses a nonsense one', () => {
    const wide = renderScreenSvg(renderAnomalyScreen(ANOMALIES[0]!), { width: 480, height: 272 });
    expect(wide).toContain('width="480" height="272" viewBox="0 0 480 272"');
    expect(xmlProblems(wide)).toEqual([]);
    expect(() => renderScreenSvg({ title: 'x', lines: [], severity: 'info' }, { width: 0 })).toThrow(RangeError);
    expect(() => renderScreenSvg({ title: 'x', lines: [], severity: 'info' }, { height: Number.NaN })).toThrow(
      RangeError,
    );
  });

  it('draws a screen without code or lines', () => {
    const svg = renderScreenSvg({ title: 'Welcome', lines: [], severity: 'success' });
    expect(xmlProblems(svg)).toEqual([]);
    expect(texts(svg).map((t) => t.content)).toEqual(['Welcome']);
  });
});

describe('anomaly guide', () => {
  it('has one row per code with its picture, cause, cashier action and support action', () => {
    const rows = anomalyGuideRows();
    expect(rows.map((r) => r.code)).toEqual(ANOMALIES.map((d) => d.code));
    for (const [i, def] of ANOMALIES.entries()) {
      expect(def.name).toMatch(/^[a-z0-9-]+$/);
      expect(rows[i]).toEqual({
        picture: `docs/screens/${def.code}-${def.name}.svg`,
        code: def.code,
        name: def.name,
        class: def.class,
        severity: def.severity,
        cause: def.message,
        cashier: def.actionText,
        support: def.support,
      });
    }
  });

  it('the committed pictures are what the generator draws now (npm run screens)', () => {
    const files = anomalyScreenFiles();
    const dir = join(repoRoot, SCREENS_DIR);
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.svg'))
        .sort(),
    ).toEqual([...files.keys()].sort());
    for (const [name, svg] of files) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(svg);
  });

  it('the README block is what the generator writes now, with a row and a picture for every code', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    expect(renderReadme(readme)).toBe(readme);
    const block = readme.slice(
      readme.indexOf('<!-- anomaly-guide:start -->'),
      readme.indexOf('<!-- anomaly-guide:end -->'),
    );
    const rows = block.split('\n').filter((l) => l.startsWith('| <img '));
    expect(rows).toHaveLength(ANOMALIES.length);
    for (const [i, def] of ANOMALIES.entries()) {
      const img = `<img src="docs/screens/${screenFileName(def)}" width="160">`;
      expect(rows[i]!.startsWith(`| ${img} | **${def.code}**`)).toBe(true);
      expect(rows[i]).toContain(def.actionText);
      expect(existsSync(join(repoRoot, SCREENS_DIR, screenFileName(def)))).toBe(true);
    }
  });
});

describe('render-screens', () => {
  const temps: string[] = [];
  afterEach(() => {
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function checkout(): string {
    const root = mkdtempSync(join(tmpdir(), 'pos-screens-'));
    temps.push(root);
    writeFileSync(
      join(root, 'README.md'),
      '# T\n\n## Anomaly guide\n\n<!-- anomaly-guide:start -->\n<!-- anomaly-guide:end -->\n\nafter\n',
    );
    return root;
  }

  it('writes the pictures and the README block, removes stale pictures, and then reports nothing stale', () => {
    const root = checkout();
    expect(syncScreens(root, { check: true }).stale).toHaveLength(ANOMALIES.length + languageScreenFiles().size + 1);
    expect(existsSync(join(root, SCREENS_DIR))).toBe(false);

    syncScreens(root);
    expect(syncScreens(root, { check: true }).stale).toEqual([]);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.startsWith('# T\n\n## Anomaly guide\n\n<!-- anomaly-guide:start -->\n')).toBe(true);
    expect(readme.endsWith('<!-- anomaly-guide:end -->\n\nafter\n')).toBe(true);

    const first = join(root, SCREENS_DIR, screenFileName(ANOMALIES[0]!));
    writeFileSync(first, '<svg/>');
    writeFileSync(join(root, SCREENS_DIR, 'E000-gone.svg'), '<svg/>');
    writeFileSync(join(root, SCREENS_DIR, 'notes.txt'), 'kept');
    writeFileSync(join(root, 'README.md'), readme.replace('**E101**', '**E1O1**'));
    expect(syncScreens(root, { check: true }).stale.sort()).toEqual(
      ['README.md', `${SCREENS_DIR}/E000-gone.svg`, `${SCREENS_DIR}/${screenFileName(ANOMALIES[0]!)}`].sort(),
    );
    expect(readFileSync(first, 'utf8')).toBe('<svg/>');

    syncScreens(root);
    expect(syncScreens(root, { check: true }).stale).toEqual([]);
    expect(existsSync(join(root, SCREENS_DIR, 'E000-gone.svg'))).toBe(false);
    expect(existsSync(join(root, SCREENS_DIR, 'notes.txt'))).toBe(true);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe(readme);
  });

  it('refuses a README without the block', () => {
    expect(() => renderReadme('# no block\n')).toThrow(/anomaly-guide/);
  });

  it('--check exits 0 on this repository and 1 on a stale checkout', () => {
    const ok = spawnSync(process.execPath, [cliPath('render-screens'), '--check'], { cwd: repoRoot });
    expect(ok.status, ok.stderr.toString()).toBe(0);

    const root = checkout();
    cpSync(join(repoRoot, SCREENS_DIR), join(root, SCREENS_DIR), { recursive: true });
    const stale = spawnSync(process.execPath, [cliPath('render-screens'), '--check', '--root', root], {
      cwd: repoRoot,
    });
    expect(stale.status).toBe(1);
    expect(stale.stderr.toString()).toContain('README.md');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).not.toContain('<img');
  });
});
