/** Idle screens of the terminal between transactions. */
import type { Screen } from '../../hal/display/contract.js';

export function idleScreen(state: string, limitations: string[], lockReasons: string[]): Screen | undefined {
  switch (state) {
    case 'booting':
    case 'recovering':
    case 'selfTesting':
      return { title: 'STARTING', lines: ['Self-test in progress...'], severity: 'info' };
    case 'ready':
      return { title: 'READY', lines: ['Welcome'], severity: 'info' };
    case 'degraded':
      return { title: 'READY (LIMITED)', lines: limitations.slice(0, 3), severity: 'warning' };
    case 'locked':
      return { title: 'LOCKED', lines: [...lockReasons.slice(0, 2), 'Supervisor must unlock'], severity: 'error' };
    default:
      return undefined;
  }
}
