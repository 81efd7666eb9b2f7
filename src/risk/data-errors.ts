/**
 * Checks a host response against the request it answers and against our clock. A response that does not match its
 * request cannot be trusted to describe what the host did; when it claims an approval, money may have moved and the
 * integrator reverses.
 */
import type { AnomalyName } from '../anomaly/taxonomy.js';
import { isApprovedClass, responseClass } from '../iso8583/response-codes.js';
import type { Evidence } from './evidence.js';

export const DATA_ERROR_KINDS = [
  'mismatched-stan',
  'mismatched-amount',
  'mismatched-terminal',
  'unknown-response-code',
  'clock-skew',
  'malformed-transmission-time',
] as const;
export type DataErrorKind = (typeof DATA_ERROR_KINDS)[number];

export interface DataError {
  kind: DataErrorKind;
  anomaly: AnomalyName;
  evidence: Evidence;
  /** The host may have acted on the request although the answer cannot be trusted: reverse it. */
  moneyMayHaveMoved: boolean;
}

export interface ResponseRequest {
  stan: number;
  amount: number;
  terminalId: string;
}

export interface HostResponse {
  stan: number;
  amount?: number;
  terminalId: string;
  responseCode: string;
  /** Field 7, MMDDhhmmss in UTC (GMT), without a year. */
  transmittedAt?: string;
}

export interface ResponseCheckOptions {
  maxSkewMs: number;
  knownCode: (code: string) => boolean;
  /** Which codes approve; defaults to the field 39 table's approved classes (approved, partially approved). */
  isApproval?: (code: string) => boolean;
}

const ANOMALY: Readonly<Record<DataErrorKind, AnomalyName>> = {
  'mismatched-stan': 'mismatched-response',
  'mismatched-amount': 'mismatched-response',
  'mismatched-terminal': 'mismatched-response',
  'unknown-response-code': 'unknown-response-code',
  'clock-skew': 'clock-skew',
  'malformed-transmission-time': 'malformed-response',
};

function defaultIsApproval(code: string): boolean {
  return isApprovedClass(code);
}

export function checkResponse(
  request: ResponseRequest,
  response: HostResponse,
  now: number,
  options: ResponseCheckOptions,
): DataError[] {
  const errors: DataError[] = [];
  const known = options.knownCode(response.responseCode);
  const approval = known && (options.isApproval ?? defaultIsApproval)(response.responseCode);
  const add = (
    kind: DataErrorKind,
    evidence: Record<string, string | number | boolean>,
    moneyMayHaveMoved: boolean,
  ) => {
    errors.push({ kind, anomaly: ANOMALY[kind], evidence: Object.freeze(evidence), moneyMayHaveMoved });
  };
  const mismatch = (kind: DataErrorKind, evidence: Record<string, string | number | boolean>) =>
    add(kind, { ...evidence, responseCode: response.responseCode, approval }, approval);

  if (response.stan !== request.stan) {
    mismatch('mismatched-stan', { requestStan: request.stan, responseStan: response.stan });
  }
  // Field 4 is optional in a response; when absent there is nothing to disagree with. A partial approval (code 10)
  // carries the smaller amount it approved: that is its answer, not a mismatch.
  const partial =
    known &&
    responseClass(response.responseCode) === 'partially-approved' &&
    response.amount !== undefined &&
    response.amount > 0 &&
    response.amount < request.amount;
  if (response.amount !== undefined && response.amount !== request.amount && !partial) {
    mismatch('mismatched-amount', { requestAmount: request.amount, responseAmount: response.amount });
  }
  if (response.terminalId !== request.terminalId) {
    mismatch('mismatched-terminal', { requestTerminalId: request.terminalId, responseTerminalId: response.terminalId });
  }
  if (!known) {
    // Treated as not approved, so it is a decline to the cardholder, not a reversal by itself.
    add('unknown-response-code', { responseCode: response.responseCode }, false);
  }
  if (response.transmittedAt !== undefined) {
    const hostTime = transmissionTime(response.transmittedAt, now);
    if (hostTime === undefined) {
      // The time is wrong, not the transaction: no reversal on this account.
      add('malformed-transmission-time', { field: 'transmittedAt', length: response.transmittedAt.length }, false);
    } else {
      const skewMs = now - hostTime;
      if (Math.abs(skewMs) > options.maxSkewMs) {
        add(
          'clock-skew',
          {
            hostTime: new Date(hostTime).toISOString(),
            terminalTime: new Date(now).toISOString(),
            skewMs,
            maxSkewMs: options.maxSkewMs,
          },
          false,
        );
      }
    }
  }
  return errors;
}

/**
 * Field 7 (MMDDhhmmss, UTC) as epoch ms. It carries no year, so the year is the one (last, this or next) that puts
 * it nearest to `now`: a host at 23:59 on 31 December answering a terminal already at 00:01 on 1 January is two
 * minutes apart, not a year. Undefined when it is not a real date and time in any of those years.
 */
export function transmissionTime(mmddhhmmss: string, now: number): number | undefined {
  if (!/^\d{10}$/.test(mmddhhmmss) || !Number.isFinite(now)) return undefined;
  const [mo, dd, hh, mi, ss] = [0, 2, 4, 6, 8].map((i) => Number(mmddhhmmss.slice(i, i + 2))) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (hh > 23 || mi > 59 || ss > 59) return undefined;
  const year = new Date(now).getUTCFullYear();
  let best: number | undefined;
  for (const y of [year - 1, year, year + 1]) {
    const t = Date.UTC(y, mo - 1, dd, hh, mi, ss);
    const d = new Date(t);
    // Date.UTC rolls 30 February into March; a date that does not come back unchanged does not exist that year.
    if (d.getUTCMonth() !== mo - 1 || d.getUTCDate() !== dd) continue;
    if (best === undefined || Math.abs(t - now) < Math.abs(best - now)) best = t;
  }
  return best;
}
