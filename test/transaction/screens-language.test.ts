import { describe, expect, it } from 'vitest';
import { screens, screensIn } from '../../src/transaction/screens.js';
import { idleScreen } from '../../src/terminal/screens.js';

const zh = screensIn({ language: 'zh-CN', timeZone: 'Asia/Shanghai' });
const fr = screensIn({ language: 'fr', timeZone: 'Europe/Paris' });

describe('transaction screens in the merchant language', () => {
  it('asks for the card in Chinese and in French, with the amount by exponent', () => {
    expect(zh.presentCard('sale', 3500, '156', false)).toEqual({
      title: '消费',
      lines: ['35.00 元', '请插卡、挥卡或刷卡'],
      severity: 'info',
    });
    expect(fr.presentCard('sale', 350, '978', false)).toEqual({
      title: 'VENTE',
      lines: ['3,50 €', 'Insérez, approchez ou glissez la carte'],
      severity: 'info',
    });
    expect(zh.reading('refund', 1000, '392').lines[0]).toBe('1000 JPY');
    expect(fr.reading('refund', 1234, '414').lines[0]).toBe('1,234 KWD');
  });

  it('words every step of a sale in Chinese, none left in English', () => {
    const all = [
      zh.presentCard('sale', 1, '156', true),
      zh.presentCard('sale', 1, '156', false, true),
      zh.reading('sale', 1, '156'),
      zh.enterPin(1, '156'),
      zh.incorrectPin(2),
      zh.authorizing('sale', 1, '156'),
      zh.approved('sale', 1, '156', 'A1', true),
      zh.printing(),
      zh.done('approved', true),
      zh.done('declined', false),
      zh.confirmPartial(2, 1, '156'),
      zh.removeCard('failed', true),
      zh.cancelled(),
    ];
    for (const s of all) {
      for (const text of [s.title, ...s.lines]) expect(text).toMatch(/\p{Script=Han}/u);
      expect([s.title, ...s.lines].join(' ')).not.toMatch(/[A-Za-z]{3,}/);
    }
  });

  it('shows the earlier sale of a duplicate at local time', () => {
    const earlier = { at: Date.UTC(2026, 2, 29, 1, 15, 0), stan: 42 };
    expect(fr.confirmDuplicate(350, '978', earlier).lines[1]).toBe('précédente à 03:15:00 STAN 000042');
    expect(zh.confirmDuplicate(350, '156', earlier).lines[1]).toBe('上一笔 09:15:00 STAN 000042');
    expect(screensIn({ timeZone: 'UTC' }).confirmDuplicate(350, '978', earlier).lines[1]).toBe(
      'earlier 01:15:00 STAN 000042',
    );
  });

  it('keeps English the default', () => {
    expect(screens.enterPin(350, '978').title).toBe('ENTER PIN');
    expect(screens.incorrectPin(1).lines[0]).toBe('1 try left');
    expect(screensIn({ language: 'de' }).incorrectPin(1).lines[0]).toBe('noch 1 Versuch');
  });
});

describe('idle screens in the merchant language', () => {
  it('greets in Chinese and in French, English by default', () => {
    expect(idleScreen('ready', [], [], 'zh-CN')).toEqual({ title: '就绪', lines: ['欢迎光临'], severity: 'info' });
    expect(idleScreen('ready', [], [], 'fr')?.title).toBe('PRÊT');
    expect(idleScreen('ready', [], [])?.title).toBe('READY');
    expect(idleScreen('locked', ['tamper'], [], 'zh-CN')?.lines).toEqual(['需主管解锁']);
    expect(idleScreen('locked', [], ['tamper'], 'zh-CN')?.lines).toEqual(['tamper', '需主管解锁']);
  });
});
