import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LANGUAGE_SCREENS_DIR, languageScreenFiles } from '../../src/cli/render-screens.js';
import { packageRoot } from '../../src/config/index.js';
import { LANGUAGES } from '../../src/i18n/index.js';

const root = packageRoot();

function texts(svg: string): { x: number; size: number; content: string }[] {
  return [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" font-size="([\d.]+)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({
    x: Number(m[1]),
    size: Number(m[2]),
    content: m[3]!,
  }));
}

describe('the screens of a sale in every language (docs/screens/languages)', () => {
  it('the committed pictures are what the generator draws now (npm run screens)', () => {
    const files = languageScreenFiles();
    for (const language of LANGUAGES) {
      const dir = join(root, LANGUAGE_SCREENS_DIR, language);
      expect(existsSync(dir), dir).toBe(true);
      const committed = readdirSync(dir).filter((f) => f.endsWith('.svg'));
      expect(committed.sort()).toEqual(
        [...files.keys()].filter((k) => k.startsWith(`${language}/`)).map((k) => k.slice(language.length + 1)),
      );
    }
    for (const [name, svg] of files)
      expect(readFileSync(join(root, LANGUAGE_SCREENS_DIR, name), 'utf8'), name).toBe(svg);
  });

  it('draws the Chinese screens in Chinese and the French ones in French', () => {
    const files = languageScreenFiles();
    expect(texts(files.get('zh-CN/2-present-card.svg')!).map((t) => t.content)).toEqual([
      '消费',
      '12.50 元',
      '请插卡、挥卡或刷卡',
    ]);
    expect(texts(files.get('fr/3-enter-pin.svg')!).map((t) => t.content)[0]).toBe('SAISIE DU CODE');
    expect(texts(files.get('en/1-ready.svg')!).map((t) => t.content)).toEqual(['READY', 'Welcome']);
  });

  it('keeps every line inside the picture, a Chinese character counted as a full em', () => {
    for (const [name, svg] of languageScreenFiles()) {
      for (const t of texts(svg)) {
        const ems = Array.from(t.content).reduce(
          (n, ch) => n + (/[\p{Script=Han}\u3000-\u303f\uff00-\uff60]/u.test(ch) ? 1 : 0.6),
          0,
        );
        expect(t.x + ems * t.size, `${name} ${t.content}`).toBeLessThanOrEqual(320 - 12);
      }
    }
  });
});
