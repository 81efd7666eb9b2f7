/**
 * Telling a running host simulator what to do next, one line at a time (pos-host-sim --control reads them on its
 * standard input), as an acquirer's operator would between two settlements: disagree with the next settlement, lose
 * the next approved sales, and read back its own batch books. Each line gets one JSON answer line, so a test that
 * drives the simulator as another process learns the host's side from the host itself.
 *
 *   settle-disagree once|always|never   answer the next (or every) 0500 with 95, or agree again when totals match
 *   lose-approved N                     forget the next N approved sales from the batch totals (an upload restores them)
 *   batch                               the host's open batch per terminal: totals per currency, uploads, STANs lost
 *   settlements                         every settlement request answered so far, in order
 */
import type { ReconciliationTotals } from '../iso8583/index.js';
import type { SettlementBehaviour, SettlementRecord } from './batch-books.js';

/** What the control needs of the simulator (AcquirerHostSimulator has it all). */
export interface ControlledHost {
  setSettlementBehaviour(behaviour: Partial<SettlementBehaviour>): void;
  loseNextApproved(count?: number): void;
  batchTerminals(): string[];
  batchTotals(terminalId: string): Map<string, ReconciliationTotals>;
  batchUploads(terminalId: string): number;
  batchLost(terminalId: string): number;
  readonly settlements: readonly SettlementRecord[];
}

export type ControlAnswer = { event: string; ok: boolean } & Record<string, unknown>;

const DISAGREE: ReadonlyArray<SettlementBehaviour['disagree']> = ['once', 'always', 'never'];

/** Carries out one control line; a line it does not know is answered ok: false with the reason, never thrown. */
export function runControlLine(host: ControlledHost, line: string): ControlAnswer {
  const [word, arg, ...rest] = line.trim().split(/\s+/);
  const refuse = (error: string): ControlAnswer => ({ event: 'control', ok: false, line: line.trim(), error });
  if (rest.length > 0) return refuse('too many words');
  switch (word) {
    case 'settle-disagree': {
      const when = DISAGREE.find((d) => d === arg);
      if (!when) return refuse(`settle-disagree takes one of ${DISAGREE.join(', ')}`);
      host.setSettlementBehaviour({ disagree: when });
      return { event: 'control', ok: true, line: line.trim() };
    }
    case 'lose-approved': {
      const n = Number(arg);
      if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
        return refuse('lose-approved takes a count from 1 to 1000000');
      host.loseNextApproved(n);
      return { event: 'control', ok: true, line: line.trim() };
    }
    case 'batch':
      if (arg !== undefined) return refuse('batch takes no argument');
      return {
        event: 'batch',
        ok: true,
        terminals: host.batchTerminals().map((terminalId) => ({
          terminalId,
          totals: Object.fromEntries(host.batchTotals(terminalId)),
          uploads: host.batchUploads(terminalId),
          lost: host.batchLost(terminalId),
        })),
      };
    case 'settlements':
      if (arg !== undefined) return refuse('settlements takes no argument');
      return { event: 'settlements', ok: true, records: [...host.settlements] };
    default:
      return refuse(`unknown command ${JSON.stringify(word ?? '')}`);
  }
}
