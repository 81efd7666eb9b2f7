/** Idle screens of the terminal between transactions, in the merchant's language. */
import type { Screen } from '../../hal/display/contract.js';
import { messagesFor, type Language } from '../i18n/index.js';
import { localizeReason } from './reason-text.js';

export function idleScreen(
  state: string,
  limitations: string[],
  lockReasons: string[],
  language?: Language,
): Screen | undefined {
  const t = messagesFor(language).idle;
  const shown = (reasons: string[], count: number) => reasons.slice(0, count).map((r) => localizeReason(r, language));
  switch (state) {
    case 'booting':
    case 'recovering':
    case 'selfTesting':
      return { title: t.starting, lines: [t.selfTest], severity: 'info' };
    case 'ready':
      return { title: t.ready, lines: [t.welcome], severity: 'info' };
    case 'degraded':
      return { title: t.readyLimited, lines: shown(limitations, 3), severity: 'warning' };
    case 'locked':
      return { title: t.locked, lines: [...shown(lockReasons, 2), t.supervisorUnlock], severity: 'error' };
    default:
      return undefined;
  }
}
