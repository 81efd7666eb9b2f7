/**
 * The anomaly slip in the merchant's language, read back from the bytes a printer gets: French from the TM-T88's
 * Latin code pages (the euro included), Chinese in the GB18030 mode of the two Chinese models. The stable code stays.
 */
import { describe, expect, it } from 'vitest';
import { anomalyByName, renderAnomalySlip } from '../../src/anomaly/taxonomy.js';
import { messagesFor } from '../../src/i18n/index.js';
import { decodeEscPosText } from '../support/escpos-text-decoder.js';
import { bytesSent, documentTexts } from '../support/printed-bytes.js';

const PAPER_OUT = anomalyByName('printer-paper-out');
const RECORD = {
  // 29 March 2026 01:30 UTC: Paris already on summer time, Shanghai at +8.
  at: Date.UTC(2026, 2, 29, 1, 30, 0),
  message: 'The printer is out of paper: paper end sensor',
  txnRef: 'T-42',
  stan: 42,
  amount: 350,
  currency: '978',
  maskedPan: '476173******0010',
  terminalId: 'TERM0001',
};

/** The printed text, rules left out; rows joined by a space, as a long line wraps at a space on 42 columns. */
function printedText(bytes: Buffer, chineseAfterInit: boolean): string {
  return decodeEscPosText(bytes, { chineseAfterInit })
    .rows.filter((r) => !/^-+$/.test(r) && r !== '')
    .join(' ');
}

describe('a French anomaly slip', () => {
  const slip = renderAnomalySlip(PAPER_OUT, RECORD, { language: 'fr', timeZone: 'Europe/Paris' });
  const fr = messagesFor('fr').anomaly['E301']!;

  it('is in French at Paris time, with the code, the euro amount and the driver reason for support', () => {
    const t = documentTexts(slip);
    expect(t).toContain('INCIDENT E301');
    expect(t).toContain(fr.title);
    expect(t).toContain(fr.message);
    expect(t).toContain(`Action: ${fr.action}`);
    expect(t).toContain('Heure: 2026-03-29 03:30:00 UTC+02:00');
    expect(t).toContain('Gravité: ERREUR');
    expect(t).toContain('Montant: 3,50 €');
    expect(t).toContain('Carte: 476173******0010');
    expect(t).toContain('paper end sensor');
    expect(t).not.toContain(PAPER_OUT.message);
  });

  it('decodes back to its text from the bytes sent to a TM-T88, nothing replaced by ?', async () => {
    const bytes = await bytesSent(slip, 'epson-tm-t88');
    expect(printedText(bytes, false)).toBe(documentTexts(slip).join(' '));
    expect(bytes.includes(Buffer.from('?'))).toBe(false);
  });
});

describe('a Chinese anomaly slip', () => {
  const slip = renderAnomalySlip(
    PAPER_OUT,
    { ...RECORD, currency: '156', amount: 3500 },
    { language: 'zh-CN', timeZone: 'Asia/Shanghai' },
  );

  it('is in Chinese at Shanghai time, with the code', () => {
    const t = documentTexts(slip);
    expect(t).toContain('异常 E301');
    expect(t).toContain('缺纸');
    expect(t).toContain('打印机缺纸');
    expect(t).toContain('处理: 请装入新纸卷后重打');
    expect(t).toContain('时间: 2026-03-29 09:30:00 UTC+08:00');
    expect(t).toContain('金额: 35.00 元');
  });

  it.each([
    ['epson-tm-t88-chinese', false],
    ['generic-chinese-58mm', true],
  ] as const)('decodes back to its text from the bytes sent to a %s', async (model, afterInit) => {
    const bytes = await bytesSent(slip, model);
    expect(printedText(bytes, afterInit)).toBe(documentTexts(slip).join(' '));
  });
});
