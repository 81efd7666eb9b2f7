/**
 * The anomaly texts of every catalogue: one for each code of the taxonomy (the list is the taxonomy's, so a new
 * anomaly without its translations fails here), none extra, within the screen's limits in columns (a Chinese
 * character counts two), and the English ones the taxonomy's own words.
 */
import { describe, expect, it } from 'vitest';
import { textLength } from '../../hal/display/screen-layout.js';
import { ANOMALIES, anomalyByName, renderAnomalyScreen, TEXT_MAX, TITLE_MAX } from '../../src/anomaly/taxonomy.js';
import { LANGUAGES, messagesFor } from '../../src/i18n/index.js';

const CODES = ANOMALIES.map((d) => d.code);

describe('anomaly texts in every catalogue', () => {
  it.each(LANGUAGES)('%s has a title, a message and an action for every code, and no other code', (language) => {
    const table = messagesFor(language).anomaly;
    expect(Object.keys(table).sort()).toEqual([...CODES].sort());
    for (const code of CODES) {
      const text = table[code]!;
      for (const part of [text.title, text.message, text.action]) expect(part.trim().length).toBeGreaterThan(0);
      expect(textLength(text.title), `${language} ${code} title`).toBeLessThanOrEqual(TITLE_MAX);
      expect(textLength(text.message), `${language} ${code} message`).toBeLessThanOrEqual(TEXT_MAX);
      expect(textLength(text.action), `${language} ${code} action`).toBeLessThanOrEqual(TEXT_MAX);
    }
  });

  it('English is the taxonomy itself, so the journal, the README guide and the screen cannot drift', () => {
    for (const def of ANOMALIES)
      expect(messagesFor('en').anomaly[def.code]).toEqual({
        title: def.title,
        message: def.message,
        action: def.actionText,
      });
  });

  it('is translated: no other language repeats the English of more than a few codes (a forgotten copy)', () => {
    for (const language of LANGUAGES.filter((l) => l !== 'en')) {
      const same = CODES.filter(
        (c) => messagesFor(language).anomaly[c]!.message === messagesFor('en').anomaly[c]!.message,
      );
      expect(same, language).toEqual([]);
    }
  });

  it('is Chinese in zh-CN', () => {
    for (const code of CODES) expect(messagesFor('zh-CN').anomaly[code]!.message).toMatch(/\p{Script=Han}/u);
  });
});

describe('the anomaly screen in the configured language', () => {
  it('shows the catalogue text and keeps the stable code', () => {
    const def = anomalyByName('printer-paper-out');
    for (const language of LANGUAGES) {
      const screen = renderAnomalyScreen(def, { language, reason: 'paper end sensor' });
      const t = messagesFor(language).anomaly[def.code]!;
      expect(screen.title).toBe(t.title);
      expect(screen.lines[0]).toBe(t.message);
      expect(screen.lines.at(-1)).toBe(t.action);
      expect(screen.code).toBe('E301');
    }
    expect(renderAnomalyScreen(def, { language: 'fr' }).title).toBe('Plus de papier');
    expect(renderAnomalyScreen(def, { language: 'zh-CN' }).title).toBe('缺纸');
  });

  it("shows a driver's English reason on an English screen only", () => {
    const def = anomalyByName('printer-paper-out');
    expect(renderAnomalyScreen(def, { reason: 'paper end sensor' }).lines).toContain('paper end sensor');
    expect(renderAnomalyScreen(def, { language: 'de', reason: 'paper end sensor' }).lines).not.toContain(
      'paper end sensor',
    );
  });
});
