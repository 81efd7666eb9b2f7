/** Diagnosis: the self-test's result per device as POIStatus and HostStatus, every check in AdditionalResponse. */
import type { NexoSelfTest, NexoStatus } from '../ports.js';
import type { Json } from './fields.js';
import { success } from './response.js';

const PRINTER_STATUS: Record<string, string> = {
  ok: 'OK',
  'paper-out': 'NoPaper',
  'paper-near-end': 'PaperLow',
  'paper-low': 'PaperLow',
  jam: 'PaperJam',
  jammed: 'PaperJam',
};

function globalStatus(state: string, hostUp: boolean): string {
  if (state === 'transacting' || state === 'selfTesting') return 'Busy';
  if (state === 'locked' || state === 'booting' || state === 'recovering') return 'Maintenance';
  return hostUp ? 'OK' : 'Unreachable';
}

/** From a fresh self-test, or only the status when one cannot run now (during a transaction). */
export function diagnosisResponse(
  report: NexoSelfTest | undefined,
  status: NexoStatus,
  loggedSaleIds: string[],
  hostDiagnosis: boolean,
): Json {
  const check = (component: string) => report?.results.find((r) => r.component === component);
  const reader = check('card-reader');
  const printer = check('printer');
  const host = check('host');
  const hostOk = host ? host.status !== 'fault' : status.hostUp;
  const state = report?.state ?? status.state;
  const pairs: Record<string, string> = { state };
  for (const r of report?.results ?? []) pairs[r.component] = r.status === 'ok' ? 'ok' : `${r.status}:${r.code}`;
  return {
    Response: success(pairs),
    ...(loggedSaleIds.length > 0 ? { LoggedSaleID: loggedSaleIds } : {}),
    POIStatus: {
      GlobalStatus: globalStatus(state, hostOk),
      CommunicationOKFlag: hostOk,
      ...(reader ? { CardReaderOKFlag: reader.status !== 'fault', PEDOKFlag: reader.status !== 'fault' } : {}),
      ...(printer
        ? { PrinterStatus: printer.status === 'ok' ? 'OK' : (PRINTER_STATUS[printer.code] ?? 'OutOfOrder') }
        : {}),
    },
    ...(hostDiagnosis ? { HostStatus: [{ AcquirerID: 'acquirer', IsReachableFlag: hostOk }] } : {}),
  };
}
