/** The recorder shows the error screen in the configured language; the journal keeps the code and the English. */
import { describe, expect, it } from 'vitest';
import { MockDisplay } from '../../hal/display/mock.js';
import { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import type { AnomalyRow, Journal } from '../../src/journal/index.js';
import { createLogger } from '../../src/util/log.js';

function recorderIn(language?: 'fr' | 'zh-CN') {
  const rows: Array<Partial<AnomalyRow>> = [];
  const record = (row: Partial<AnomalyRow>) => {
    rows.push(row);
    return row;
  };
  const journal = { anomalies: { record } } as unknown as Journal;
  const display = new MockDisplay();
  return { rows, display, recorder: new AnomalyRecorder(journal, display, createLogger('silent'), language) };
}

describe('anomaly recorder language', () => {
  it.each([
    ['fr', 'Plus de papier', "L'imprimante n'a plus de papier"],
    ['zh-CN', '缺纸', '打印机缺纸'],
  ] as const)('shows %s on the screen and journals E301 in English', async (language, title, message) => {
    const { rows, display, recorder } = recorderIn(language);
    recorder.raise('printer-paper-out', { reason: 'paper end sensor' });
    await Promise.resolve();
    expect(display.current).toMatchObject({ title, code: 'E301' });
    expect(display.current?.lines[0]).toBe(message);
    expect(rows).toEqual([
      expect.objectContaining({ code: 'E301', message: 'The printer is out of paper: paper end sensor' }),
    ]);
  });

  it('shows English, with the reason, when no language is configured', async () => {
    const { display, recorder } = recorderIn();
    recorder.raise('printer-paper-out', { reason: 'paper end sensor' });
    await Promise.resolve();
    expect(display.current?.title).toBe('Paper out');
    expect(display.current?.lines).toContain('paper end sensor');
  });
});
