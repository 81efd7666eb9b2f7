/**
 * Reconciles the host simulator's ledger (one JSON line per message it received or sent) with the terminal's
 * journal, the way an acquirer and a merchant settle a day. The ledger is the truth about money; the journal must
 * agree with it, amounts included:
 * - one journal row per STAN, and every message the host received belongs to one (echo tests, 0800, excepted);
 * - repeats are found from the ledger's own order of messages per STAN and message class (financial, advice,
 *   reversal), never from the host's `duplicate` flag: a financial request is never sent twice, a second advice or
 *   reversal carries the repeat MTI (0221, 0401), and the flag on the first message of a class is a host that lies;
 * - the host moved money when it answered a financial request or an advice with an approval (00, 08, 10, 11, 16),
 *   and undid it only when it answered a reversal 00. Field 3 (`processingCode` in the ledger, when present, else the
 *   journal's kind) says which way it moved: a sale debits, a refund credits, a void cancels its original;
 * - approved in the journal: the host approved exactly that amount once and never reversed it; approved offline:
 *   the host took the advice, or the journal set it aside, which is money not collected (a problem unless expected);
 *   anything else the host approved was undone by a reversal the host accepted;
 * - a void names an approved original, for the same amount, once, and reaches the host after it;
 * - nothing is owed at the end (no transaction in flight, no reversal armed or pending, no advice queued) unless
 *   the caller expects it.
 * Indexed by STAN in one pass, so it stays linear for a soak of 100,000 transactions.
 */
import { readFileSync } from 'node:fs';
import type { Journal, TransactionRow } from '../../src/journal/index.js';

/** One ledger line; `processingCode` (field 3) and `approvedAmount` are read when the host writes them. */
export interface LedgerLine {
  at?: string;
  dir?: string;
  mti?: string;
  stan?: string | number;
  terminalId?: string;
  amount?: number;
  currency?: string;
  pan?: string;
  approvedAmount?: number;
  /** On an answer: what moved at the host because of it (the simulator writes it; a partial approval's part). */
  movedAmount?: number;
  processingCode?: string;
  responseCode?: string;
  duplicate?: boolean;
  note?: string;
}

export interface ReconcileTally {
  approved: number;
  offline: number;
  reversed: number;
  declined: number;
  other: number;
  refunds: number;
  voids: number;
  /** Repeats found from the ledger's order (0221, 0401 after a first transmission). */
  repeats: number;
  /** Offline sales whose advice the journal set aside: money the host never paid. */
  setAside: number;
}

export interface ReconcileOptions {
  problemLimit?: number;
  /** STANs (6 digits) whose advice the test expects to be set aside (e.g. an offline sale on a card the host declines). */
  expectSetAside?: Iterable<string>;
  /** The run ended before the terminal drained: what is owed is reported, not a problem. */
  expectOwed?: boolean;
}

export interface Reconciliation {
  problems: string[];
  tally: ReconcileTally;
  transactions: number;
  ledgerEntries: number;
  /** Net money in minor units: what the host moved, what the journal says moved, and the gap set aside. */
  money: { host: number; journal: number; notCollected: number };
  notCollected: Array<{ stan: string; amount: number; responseCode: string | null }>;
  owed: { inFlight: number; armedReversals: number; pendingReversals: number; queued: number };
}

type MessageClass = 'financial' | 'advice' | 'reversal';

/** Field 39 codes with which a host approves (ISO 8583:1987): money moved. */
export const APPROVING_CODES: ReadonlySet<string> = new Set(['00', '08', '10', '11', '16']);

const REQUEST_CLASS: Record<string, MessageClass> = {
  '0100': 'financial',
  '0200': 'financial',
  '0220': 'advice',
  '0221': 'advice',
  '0400': 'reversal',
  '0401': 'reversal',
  '0420': 'reversal',
  '0421': 'reversal',
};
const RESPONSE_CLASS: Record<string, MessageClass> = {
  '0110': 'financial',
  '0210': 'financial',
  '0230': 'advice',
  '0410': 'reversal',
  '0430': 'reversal',
};
const REPEAT_MTIS = new Set(['0221', '0401', '0421']);
// The hospitality kinds go as purchases (field 3 00): a hold, its increment, its capture, its release, a tip.
const KIND_PREFIX: Record<TransactionRow['kind'], string> = {
  sale: '00',
  refund: '20',
  void: '02',
  preauth: '00',
  'preauth-increment': '00',
  completion: '00',
  'preauth-cancel': '00',
  'tip-adjust': '00',
};

/** One request the host received and what it answered to it (several answers: sent twice, or none). */
interface Exchange {
  index: number;
  mti: string;
  amount: number | undefined;
  processingCode: string | undefined;
  flagged: boolean;
  answers: LedgerLine[];
}

type HostStan = Record<MessageClass, Exchange[]>;

export function readLedger(path: string): LedgerLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LedgerLine);
}

const pad = (stan: string | number) => String(stan).padStart(6, '0');
const codes = (x: Exchange | undefined) => x?.answers.map((a) => a.responseCode ?? '') ?? [];

/** The host's ledger, per STAN and class, in the order the host saw it. */
function indexLedger(ledger: LedgerLine[]): Map<string, HostStan> {
  const byStan = new Map<string, HostStan>();
  ledger.forEach((e, index) => {
    if (e.stan === undefined || e.mti === undefined) return;
    const stan = pad(e.stan);
    let host = byStan.get(stan);
    if (e.dir === 'in') {
      const cls = REQUEST_CLASS[e.mti];
      if (!cls) return;
      if (!host) {
        host = { financial: [], advice: [], reversal: [] };
        byStan.set(stan, host);
      }
      host[cls].push({
        index,
        mti: e.mti,
        amount: e.amount,
        processingCode: e.processingCode,
        flagged: e.duplicate === true,
        answers: [],
      });
    } else if (e.dir === 'out') {
      const cls = RESPONSE_CLASS[e.mti];
      // An answer belongs to the latest request of its class before it.
      const to = cls && host?.[cls].at(-1);
      if (to) to.answers.push(e);
    }
  });
  return byStan;
}

/** What a partial approval (10) approved: `approvedAmount`, else what the host booked, else field 4 of its answer. */
function approvedPartOf(answer: LedgerLine): number | undefined {
  return answer.approvedAmount ?? answer.movedAmount ?? answer.amount;
}

export function reconcile(
  ledger: LedgerLine[],
  journal: Journal,
  options: ReconcileOptions | number = {},
): Reconciliation {
  const opts: ReconcileOptions = typeof options === 'number' ? { problemLimit: options } : options;
  const problemLimit = opts.problemLimit ?? 50;
  const expectSetAside = new Set([...(opts.expectSetAside ?? [])].map(pad));
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < problemLimit) problems.push(text);
  };

  const rows = journal.transactions.list({ limit: 10_000_000 });
  const rowsByStan = new Map<string, TransactionRow[]>();
  for (const r of rows) {
    if (r.stan === null) continue;
    const list = rowsByStan.get(pad(r.stan));
    if (list) list.push(r);
    else rowsByStan.set(pad(r.stan), [r]);
  }
  const hostByStan = indexLedger(ledger);
  const tally: ReconcileTally = {
    approved: 0,
    offline: 0,
    reversed: 0,
    declined: 0,
    other: 0,
    refunds: 0,
    voids: 0,
    repeats: 0,
    setAside: 0,
  };
  const money = { host: 0, journal: 0, notCollected: 0 };
  const notCollected: Reconciliation['notCollected'] = [];

  for (const [stan, host] of hostByStan) {
    if (!rowsByStan.has(stan)) {
      const first = [...host.financial, ...host.advice, ...host.reversal].sort((a, b) => a.index - b.index)[0]!;
      problem(`host saw STAN ${stan} (${first.mti}) that the journal does not know`);
    }
  }

  const empty: HostStan = { financial: [], advice: [], reversal: [] };
  /** Where each approved original was first taken by the host (ledger index), for the void order check. */
  const voidsOf = new Map<string, TransactionRow[]>();
  for (const [stan, list] of rowsByStan) {
    if (list.length > 1) {
      // A STAN names one message exchange; a second row with it is a reused STAN (a rolled-back journal).
      problem(
        `STAN ${stan}: ${list.length} journal rows (${list.map((r) => `${r.kind} ${r.txnRef} ${r.outcome}`).join(', ')})`,
      );
      continue;
    }
    const row = list[0]!;
    const host = hostByStan.get(stan) ?? empty;
    const label = `STAN ${stan} (${row.kind} ${row.outcome ?? 'in flight'})`;

    // The ledger's own order decides what is a repeat; the host's flag is only checked against it.
    if (host.financial.length > 1)
      problem(
        `${label}: the host received ${host.financial.length} financial requests (flagged duplicate: ${host.financial.filter((x) => x.flagged).length})`,
      );
    for (const cls of ['financial', 'advice', 'reversal'] as const) {
      const [first, ...repeats] = host[cls];
      if (!first) continue;
      tally.repeats += cls === 'financial' ? 0 : repeats.length;
      if (first.flagged)
        problem(
          `${label}: the host flagged its first ${first.mti} as a duplicate, with nothing before it in the ledger`,
        );
      for (const r of repeats)
        if (cls !== 'financial' && !REPEAT_MTIS.has(r.mti))
          problem(
            `${label}: ${cls} sent again with the original MTI ${r.mti} (a host without duplicate detection takes it twice)`,
          );
      // The reversal of a partial approval (10) undoes what the host approved, not what was asked.
      const answer = host.financial[0]?.answers[0];
      const approvedPart = answer?.responseCode === '10' ? approvedPartOf(answer) : undefined;
      const partiallyApproved = cls === 'reversal' ? approvedPart : undefined;
      const expectedAmount = partiallyApproved ?? row.amount;
      // A partial approval the register accepted: the journal keeps the part, the request asked for the whole.
      const acceptedPart = cls === 'financial' && approvedPart !== undefined && approvedPart === row.amount;
      for (const x of host[cls]) {
        if (x.amount !== undefined && x.amount !== expectedAmount && !(acceptedPart && x.amount > row.amount))
          problem(`${label}: the host received ${x.mti} for ${x.amount}, the journal says ${expectedAmount}`);
        if (x.processingCode !== undefined && !x.processingCode.startsWith(KIND_PREFIX[row.kind]))
          problem(`${label}: the host received ${x.mti} with processing code ${x.processingCode}`);
      }
    }

    // What the host did with the money.
    const financial = host.financial[0];
    const decision = financial?.answers[0];
    const hostApproved = decision !== undefined && APPROVING_CODES.has(decision.responseCode ?? '');
    // A partial approval (10) moves the amount the host gave back, in field 4 of its answer or as `approvedAmount`.
    const partial = decision?.responseCode === '10' ? approvedPartOf(decision) : undefined;
    const moved = hostApproved ? (partial ?? decision.approvedAmount ?? financial!.amount ?? 0) : 0;
    const hostReversed = host.reversal.some((x) => codes(x).includes('00'));
    const adviceAnswers = host.advice.flatMap(codes);
    const adviceTaken = adviceAnswers.some((c) => APPROVING_CODES.has(c));
    const kind = kindOf(financial?.processingCode ?? host.advice[0]?.processingCode, row.kind);
    const sign = kind === 'sale' ? 1 : -1;
    if (hostApproved && !hostReversed) money.host += sign * moved;
    if (adviceTaken) money.host += sign * (host.advice[0]!.amount ?? row.amount);
    if (financial && !decision) problem(`${label}: the host's ledger has no answer to its ${financial.mti}`);

    const reversal = journal.reversals.forTransaction(row.txnRef);
    if (reversal?.state === 'acknowledged') {
      if (host.reversal.length === 0)
        problem(`${label}: the journal says the reversal was acknowledged, the host never received one`);
      else if (!codes(host.reversal.at(-1)).includes(reversal.responseCode ?? ''))
        problem(
          `${label}: the journal acknowledged the reversal with ${reversal.responseCode}, the host answered ${host.reversal.flatMap(codes).join(',')}`,
        );
      else if (hostApproved && !hostReversed)
        problem(
          `${label}: the reversal was taken as acknowledged with ${host.reversal.flatMap(codes).join(',')}, the host never accepted it (00)`,
        );
    }

    switch (row.outcome) {
      case 'approved':
        tally.approved += 1;
        if (row.kind === 'refund') tally.refunds += 1;
        if (row.kind === 'void') tally.voids += 1;
        money.journal += (row.kind === 'sale' ? 1 : -1) * row.amount;
        if (host.financial.length === 0) problem(`${label}: approved online, the host never received it`);
        else if (!hostApproved)
          problem(`${label}: approved in the journal, the host answered ${decision?.responseCode ?? 'nothing'}`);
        else if (moved !== row.amount)
          problem(`${label}: approved for ${row.amount} in the journal, the host approved ${moved}`);
        if (host.reversal.length !== 0)
          problem(
            `${label}: approved in the journal, the host received ${host.reversal.length} reversals (accepted: ${hostReversed})`,
          );
        if (host.advice.length !== 0) problem(`${label}: approved online, ${host.advice.length} advices sent too`);
        if (row.kind === 'void' && row.originalStan !== null)
          voidsOf.set(pad(row.originalStan), [...(voidsOf.get(pad(row.originalStan)) ?? []), row]);
        break;
      case 'offline-approved': {
        tally.offline += 1;
        money.journal += (row.kind === 'sale' ? 1 : -1) * row.amount;
        if (host.financial.length !== 0)
          problem(`${label}: approved offline, the host received ${host.financial.length} online requests`);
        const settled = journal.transactions
          .events(row.txnRef)
          .filter((e) => e.state === 'forwarded' || e.state === 'advice-rejected')
          .at(-1);
        if (settled?.state === 'advice-rejected') {
          tally.setAside += 1;
          money.notCollected += (row.kind === 'sale' ? 1 : -1) * row.amount;
          const responseCode =
            typeof settled.detail?.['responseCode'] === 'string' ? settled.detail['responseCode'] : null;
          notCollected.push({ stan, amount: row.amount, responseCode });
          if (adviceTaken)
            problem(
              `${label}: the journal set the advice aside (${responseCode}), the host took it (${adviceAnswers.join(',')})`,
            );
          else if (!expectSetAside.has(stan))
            problem(
              `${label}: advice set aside (${responseCode}, host answered ${adviceAnswers.join(',') || 'nothing'}): ${row.amount} not collected`,
            );
        } else if (settled?.state === 'forwarded') {
          if (!adviceTaken)
            problem(
              `${label}: the journal says the advice was forwarded, the host answered ${adviceAnswers.join(',') || 'nothing'}`,
            );
        } else if (host.advice.length > 0 && adviceTaken) {
          problem(`${label}: the host took the advice, the journal still has it queued`);
        }
        if (row.kind === 'void' && row.originalStan !== null)
          voidsOf.set(pad(row.originalStan), [...(voidsOf.get(pad(row.originalStan)) ?? []), row]);
        break;
      }
      default:
        // Not approved by the terminal: what the host approved was undone by a reversal it accepted; no advice went.
        // A reversal still armed or pending is owed (reported below), not missing.
        if (hostApproved && !hostReversed && reversal?.state !== 'pending' && reversal?.state !== 'armed') {
          problem(
            host.reversal.length === 0
              ? `${label}: the host approved it (${decision.responseCode}) and no reversal reached the host`
              : `${label}: the host approved it (${decision.responseCode}) and answered its ${host.reversal.length} reversals ${host.reversal.flatMap(codes).join(',') || 'with nothing'}`,
          );
        }
        if (host.advice.length !== 0) problem(`${label}: not approved, ${host.advice.length} advices sent`);
        if (hostApproved) tally.reversed += 1;
        else if (row.outcome === 'declined') tally.declined += 1;
        else tally.other += 1;
    }
  }

  // A void cancels an approved original of its amount, once, after the host has that original.
  for (const [originalStan, voids] of voidsOf) {
    const original = rowsByStan.get(originalStan);
    const label = `void of STAN ${originalStan}`;
    if (voids.length > 1)
      problem(`${label}: approved ${voids.length} times (STANs ${voids.map((v) => pad(v.stan!)).join(', ')})`);
    if (
      original?.length !== 1 ||
      original[0]!.kind !== 'sale' ||
      (original[0]!.outcome !== 'approved' && original[0]!.outcome !== 'offline-approved')
    ) {
      problem(`${label}: approved, but the journal has no approved sale with that STAN`);
      continue;
    }
    const sale = original[0]!;
    const originalHost = hostByStan.get(originalStan) ?? empty;
    const takenAt = [...originalHost.financial, ...originalHost.advice].map((x) => x.index).sort((a, b) => a - b)[0];
    for (const v of voids) {
      if (v.amount !== sale.amount)
        problem(`${label}: void STAN ${pad(v.stan!)} for ${v.amount}, the sale was ${sale.amount}`);
      const voidAt = (hostByStan.get(pad(v.stan!)) ?? empty).financial[0]?.index;
      if (voidAt !== undefined && (takenAt === undefined || voidAt < takenAt))
        problem(`${label}: the void (STAN ${pad(v.stan!)}) reached the host before its original`);
    }
  }

  const owed = {
    inFlight: journal.transactions.inFlight().length,
    armedReversals: journal.reversals.armed().length,
    pendingReversals: journal.reversals.pending().length,
    queued: journal.saf.queue().length,
  };
  if (!opts.expectOwed) {
    for (const [what, n] of Object.entries(owed)) if (n > 0) problem(`left owed at the end: ${what} ${n}`);
    // With nothing owed, each STAN above settled its money; the totals must agree to the unit.
    if (money.host !== money.journal - money.notCollected)
      problem(`net moved: host ${money.host}, journal ${money.journal} less ${money.notCollected} not collected`);
  }
  return { problems, tally, transactions: rows.length, ledgerEntries: ledger.length, money, notCollected, owed };
}

/** Sale, refund or void from field 3 when the host wrote it, else what the journal says. */
function kindOf(processingCode: string | undefined, journalKind: TransactionRow['kind']): TransactionRow['kind'] {
  if (processingCode === undefined) return journalKind;
  for (const [kind, prefix] of Object.entries(KIND_PREFIX))
    if (processingCode.startsWith(prefix)) return kind as TransactionRow['kind'];
  return journalKind;
}

/** What must be empty once a terminal has drained: nothing in flight, no reversal owed, no advice queued. */
export function leftPending(journal: Journal): {
  inFlight: number;
  armedReversals: number;
  pendingReversals: number;
  queued: number;
} {
  return {
    inFlight: journal.transactions.inFlight().length,
    armedReversals: journal.reversals.armed().length,
    pendingReversals: journal.reversals.pending().length,
    queued: journal.saf.queue().length,
  };
}
