/** Idle screens of the terminal between transactions, in the merchant's language. */
import type { Screen } from '../../hal/display/contract.js';
import { messagesFor, type Language } from '../i18n/index.js';

export function idleScreen(
  state: string,
  limitations: string[],
  lockReasons: string[],
  language?: Language,
): Screen | undefined {
  const t = messagesFor(language).idle;
  switch (state) {
    case 'booting':
    case 'recovering':
    case 'selfTesting':
      return { title: t.starting, lines: [t.selfTest], severity: 'info' };
    case 'ready':
      return { title: t.ready, lines: [t.welcome], severity: 'info' };
    case 'degraded':
      return { title: t.readyLimited, lines: limitations.slice(0, 3), severity: 'warning' };
    case 'locked':
      return { title: t.locked, lines: [...lockReasons.slice(0, 2), t.supervisorUnlock], severity: 'error' };
    default:
      return undefined;
  }
}
