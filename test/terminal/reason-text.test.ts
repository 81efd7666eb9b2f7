/**
 * The idle screen's limitation and lock-reason lines in the merchant's language: every fixed reason the terminal
 * writes has its catalogue text, the built ones keep the device's code, and the machine's own strings stay English.
 */
import { describe, expect, it } from 'vitest';
import { LANGUAGES, messagesFor } from '../../src/i18n/index.js';
import { LIMITATION, summarize } from '../../src/selftest/selftest.js';
import { PIN_PAD_MISSING, reasonsOf } from '../../src/terminal/device-health.js';
import { RECOVERY_FAILED } from '../../src/terminal/machine.js';
import { localizeReason } from '../../src/terminal/reason-text.js';
import { idleScreen } from '../../src/terminal/screens.js';

const FIXED = [...Object.values(LIMITATION), PIN_PAD_MISSING, RECOVERY_FAILED];

describe('idle screen reasons', () => {
  it('leaves English as the machine wrote it', () => {
    for (const reason of [...FIXED, 'device: card reader: not-connected', 'suspected fraud: card testing'])
      expect(localizeReason(reason, 'en')).toBe(reason);
  });

  it.each(LANGUAGES.filter((l) => l !== 'en'))('translates every fixed reason into %s', (language) => {
    const shown = FIXED.map((r) => localizeReason(r, language));
    for (const [i, text] of shown.entries()) expect(text, FIXED[i]).not.toBe(FIXED[i]);
    expect(new Set(shown).size).toBe(FIXED.length);
  });

  it("translates the device part of a health report's reasons and keeps the code", () => {
    const [lock] = reasonsOf({ device: 'card-reader', state: 'not-connected', code: 'not-connected' }).lockReasons;
    expect(localizeReason(lock!, 'fr')).toBe('lecteur de carte: not-connected');
    expect(localizeReason(lock!, 'zh-CN')).toBe('读卡器: not-connected');
    const [printer] = reasonsOf({ device: 'printer', state: 'fault', code: 'paper-out' }).limitations;
    expect(localizeReason(printer!, 'de')).toBe(messagesFor('de').reasons.noPrinter);
  });

  it('translates the self-test lock reasons by component', () => {
    const { lockReasons, limitations } = summarize([
      { component: 'card-reader', status: 'fault', code: 'not-connected', detail: 'no answer', durationMs: 1 },
      { component: 'storage', status: 'warn', code: 'low', detail: '3% free', durationMs: 1 },
    ]);
    expect(lockReasons.map((r) => localizeReason(r, 'fr'))).toEqual(['lecteur de carte: not-connected (no answer)']);
    expect(limitations.map((r) => localizeReason(r, 'zh-CN'))).toEqual(['存储空间不足: 3% free']);
  });

  it('translates tamper, fraud and storage locks, and leaves an unknown reason as written', () => {
    expect(localizeReason('card reader tamper: mesh open', 'de')).toBe('Kartenleser: Manipulation: mesh open');
    expect(localizeReason('PIN pad tamper: case', 'zh-CN')).toBe('密码键盘被篡改: case');
    expect(localizeReason('suspected fraud: card testing', 'fr')).toBe('fraude suspectée: card testing');
    expect(localizeReason('storage fault: disk I/O', 'fr')).toBe('panne de stockage: disk I/O');
    expect(localizeReason('something new', 'fr')).toBe('something new');
  });

  it('shows them translated on the degraded and locked screens', () => {
    expect(idleScreen('degraded', [LIMITATION.paperNearEnd], [], 'fr')?.lines).toEqual(['fin de papier proche']);
    expect(idleScreen('locked', [], ['device: card reader: not-connected'], 'zh-CN')?.lines).toEqual([
      '读卡器: not-connected',
      '需主管解锁',
    ]);
  });
});
