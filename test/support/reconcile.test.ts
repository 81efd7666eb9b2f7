/**
 * The reconcile of the soak and the crash campaign, fed one clean day and that day damaged in every way the world
 * damages it: an amount changed on either side, a row doubled, an advice set aside, a STAN reused, a reversal
 * missing or answered 96, a duplicate flag that lies, an approval with 08 told declined, a void ahead of its sale,
 * something still owed. The clean day passes (with and without field 3 in the ledger); each damaged one fails for
 * its own reason. Journals are the real Journal on disk; ledgers are the host simulator's JSON lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/index.js';
import type { TransactionKind, TransactionOutcome } from '../../src/vocabulary/index.js';
import { reconcile, type LedgerLine, type ReconcileOptions } from './reconcile.js';

const dir = mkdtempSync(join(tmpdir(), 'pos-reconcile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MASKED = '411111******1111';
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const PROCESSING: Partial<Record<TransactionKind, string>> = {
  sale: '000000',
  refund: '200000',
  void: '020000',
};

/** What a test changes in the clean day. */
type Damage =
  | 'none'
  | 'ledger-amount'
  | 'journal-amount'
  | 'row-doubled'
  | 'advice-set-aside'
  | 'advice-set-aside-91'
  | 'stan-reused-at-host'
  | 'reversal-missing-at-host'
  | 'reversal-never-sent'
  | 'reversal-answered-96'
  | 'financial-repeat-flagged'
  | 'advice-resent-as-original'
  | 'first-advice-flagged'
  | 'approved-08-told-declined'
  | 'void-before-original'
  | 'void-of-unknown-sale'
  | 'voided-twice'
  | 'reversal-owed'
  | 'advice-queued'
  | 'unknown-stan-at-host'
  | 'processing-code-lies'
  | 'partial-taken-in-full'
  | 'partial-in-field-4'
  | 'partial-booked-part'
  | 'partial-accepted'
  | 'advice-taken-but-set-aside'
  | 'reversal-of-unsent-request';

let days = 0;

/** The journal of the day, written the way the terminal writes it (the same calls, in the same order). */
function journalOf(damage: Damage): Journal {
  const j = Journal.open(join(dir, `day-${++days}.sqlite`), { now: () => T0 });
  const begin = (ref: string, kind: TransactionKind, amount: number, originalStan?: number) =>
    j.transactions.begin({
      txnRef: ref,
      kind,
      amount,
      currency: '978',
      ...(originalStan !== undefined ? { originalStan } : {}),
    });
  const arm = (ref: string, kind: TransactionKind, amount: number, stan: number) => {
    j.transactions.recordState(ref, 'sending', { stan, maskedPan: MASKED, entryMode: 'chip' });
    j.reversals.arm({
      txnRef: ref,
      stan,
      originalMti: '0200',
      processingCode: PROCESSING[kind] ?? '000000',
      amount,
      currency: '978',
      transmittedAt: T0,
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
      maskedPan: MASKED,
    });
  };
  const online = (
    ref: string,
    kind: TransactionKind,
    amount: number,
    stan: number,
    code: string,
    outcome: TransactionOutcome,
    originalStan?: number,
  ) => {
    begin(ref, kind, amount, originalStan);
    arm(ref, kind, amount, stan);
    j.recordAuthorization(ref, 'authorized', {
      stan,
      responseCode: code,
      ...(outcome === 'approved' ? { approvalCode: `A${stan}` } : {}),
    });
    j.transactions.recordState(ref, 'done', { outcome });
  };
  const timedOut = (ref: string, amount: number, stan: number, ack: string | null) => {
    begin(ref, 'sale', amount);
    arm(ref, 'sale', amount, stan);
    j.reversals.markPending(ref, 'timeout: no answer');
    j.transactions.recordState(ref, 'done', { outcome: 'failed' });
    if (ack !== null) j.reversals.acknowledge(j.reversals.forTransaction(ref)!.id, ack);
  };
  const offline = (
    ref: string,
    amount: number,
    stan: number,
    settle: 'forwarded' | 'set-aside' | 'queued',
    code = '00',
  ) => {
    begin(ref, 'sale', amount);
    const { saf } = j.recordOfflineApproval(
      ref,
      'offline-approved',
      { stan, outcome: 'offline-approved', approvalCode: 'Y1', responseCode: 'Y1' },
      {
        stan,
        processingCode: '000000',
        amount,
        currency: '978',
        approvalCode: 'Y1',
        entryMode: 'chip',
        maskedPan: MASKED,
        transmittedAt: T0,
        terminalId: 'TERM0001',
        merchantId: 'MERCHANT0000001',
        cardBlob: Buffer.from([1, 0xde, 0xad, 0xbe, 0xef]),
      },
    );
    if (settle === 'forwarded') j.saf.complete(saf.id, code);
    if (settle === 'set-aside') j.saf.setAside(saf.id, code, `host answered ${code}`);
  };

  online(
    't1',
    'sale',
    damage === 'journal-amount' ? 1_400 : damage === 'partial-accepted' ? 1_000 : 1_500,
    1,
    damage === 'partial-accepted' ? '10' : '00',
    'approved',
  );
  if (damage === 'approved-08-told-declined') online('t2', 'sale', 2_500, 2, '08', 'declined');
  else online('t2', 'sale', 2_500, 2, '51', 'declined');
  if (damage === 'reversal-never-sent') {
    begin('t3', 'sale', 200_002);
    arm('t3', 'sale', 200_002, 3);
    j.reversals.release('t3', 'not sent');
    j.transactions.recordState('t3', 'done', { outcome: 'failed' });
  } else
    timedOut('t3', 200_002, 3, damage === 'reversal-owed' ? null : damage === 'reversal-answered-96' ? '96' : '00');
  const advice4 = {
    'advice-set-aside': 'set-aside',
    'advice-set-aside-91': 'set-aside',
    'advice-taken-but-set-aside': 'set-aside',
    'advice-queued': 'queued',
  } as const;
  offline(
    't4',
    3_000,
    4,
    advice4[damage as keyof typeof advice4] ?? 'forwarded',
    damage === 'advice-set-aside-91'
      ? '91'
      : damage === 'advice-set-aside' || damage === 'advice-taken-but-set-aside'
        ? '05'
        : '00',
  );
  online('t5', 'refund', 700, 5, '00', 'approved');
  // A void takes its original's amount: the part, when only part of sale 1 was approved.
  const void1 = damage === 'partial-accepted' ? 1_000 : 1_500;
  online('t6', 'void', void1, 6, '00', 'approved', damage === 'void-of-unknown-sale' ? 42 : 1);
  offline('t7', 4_000, 7, 'forwarded');
  begin('t8', 'sale', 900);
  j.transactions.recordState('t8', 'done', { outcome: 'cancelled' });
  if (damage === 'row-doubled') online('t1-again', 'sale', 1_500, 1, '00', 'approved');
  if (damage === 'voided-twice') online('t9', 'void', 1_500, 9, '00', 'approved', 1);
  // Killed after arming, before the request reached the host: the reversal goes anyway, the host has nothing.
  if (damage === 'reversal-of-unsent-request') timedOut('t10', 2_000, 10, '25');
  return j;
}

/** The host's ledger of the same day; `withField3` writes the processing code as the extended simulator does. */
function ledgerOf(damage: Damage, withField3: boolean): LedgerLine[] {
  const lines: LedgerLine[] = [];
  const at = () => new Date(T0 + lines.length * 1_000).toISOString();
  const req = (
    mti: string,
    stan: number,
    amount: number,
    kind: TransactionKind = 'sale',
    extra: Partial<LedgerLine> = {},
  ) =>
    lines.push({
      at: at(),
      dir: 'in',
      mti,
      stan: String(stan).padStart(6, '0'),
      terminalId: 'TERM0001',
      amount,
      currency: '978',
      ...(withField3 ? { processingCode: PROCESSING[kind] } : {}),
      ...extra,
    });
  const ans = (mti: string, stan: number, amount: number, code: string, extra: Partial<LedgerLine> = {}) =>
    lines.push({
      at: at(),
      dir: 'out',
      mti,
      stan: String(stan).padStart(6, '0'),
      terminalId: 'TERM0001',
      amount,
      currency: '978',
      responseCode: code,
      ...extra,
    });

  lines.push(
    { at: at(), dir: 'in', mti: '0800', stan: '000099', terminalId: 'TERM0001' },
    { at: at(), dir: 'out', mti: '0810', stan: '000099', responseCode: '00' },
  );
  const amount1 = damage === 'ledger-amount' ? 1_600 : 1_500;
  const sale1 = () => {
    req('0200', 1, amount1);
    if (damage === 'partial-taken-in-full') ans('0210', 1, amount1, '10', { approvedAmount: 1_000 });
    else if (damage === 'partial-in-field-4') ans('0210', 1, 1_000, '10');
    // The simulator's own answer line: the request's amount, and what it booked of it.
    else if (damage === 'partial-booked-part' || damage === 'partial-accepted')
      ans('0210', 1, amount1, '10', { movedAmount: 1_000 });
    else ans('0210', 1, amount1, '00');
  };
  const void6 = () => {
    const void1 = damage === 'partial-accepted' ? 1_000 : 1_500;
    req('0200', 6, void1, 'void');
    ans('0210', 6, void1, '00');
  };
  if (damage === 'void-before-original') void6();
  sale1();
  if (damage === 'financial-repeat-flagged') {
    req('0200', 1, amount1, 'sale', { duplicate: true });
    ans('0210', 1, amount1, '00', { duplicate: true });
  }
  req('0200', 2, 2_500);
  ans('0210', 2, 2_500, damage === 'approved-08-told-declined' ? '08' : '51');
  if (damage === 'stan-reused-at-host') {
    req('0200', 2, 5_100);
    ans('0210', 2, 5_100, '00');
  }
  // The host approved 3 but kept the answer; the first reversal's answer was lost, its repeat got the same answer.
  req('0200', 3, 200_002);
  ans('0210', 3, 200_002, '00', { note: 'withheld (silent)' });
  if (damage === 'reversal-answered-96') {
    req('0400', 3, 200_002);
    ans('0410', 3, 200_002, '96');
  } else if (damage !== 'reversal-missing-at-host' && damage !== 'reversal-never-sent' && damage !== 'reversal-owed') {
    req('0400', 3, 200_002);
    ans('0410', 3, 200_002, '00', { note: 'not sent: connection gone' });
    req('0401', 3, 200_002, 'sale', { duplicate: true });
    ans('0410', 3, 200_002, '00', { duplicate: true });
  }
  if (damage !== 'advice-queued') {
    req('0220', 4, 3_000, 'sale', damage === 'first-advice-flagged' ? { duplicate: true } : {});
    ans('0230', 4, 3_000, damage === 'advice-set-aside' ? '05' : damage === 'advice-set-aside-91' ? '91' : '00');
  }
  if (damage === 'advice-resent-as-original') {
    req('0220', 4, 3_000, 'sale', { duplicate: true });
    ans('0230', 4, 3_000, '00', { duplicate: true });
  }
  req('0200', 5, 700, damage === 'processing-code-lies' ? 'sale' : 'refund');
  ans('0210', 5, 700, '00');
  if (damage !== 'void-before-original') void6();
  req('0220', 7, 4_000);
  ans('0230', 7, 4_000, '00', { note: 'not sent: connection gone' });
  req('0221', 7, 4_000, 'sale', { duplicate: true });
  ans('0230', 7, 4_000, '00', { duplicate: true });
  if (damage === 'voided-twice') {
    req('0200', 9, 1_500, 'void');
    ans('0210', 9, 1_500, '00');
  }
  if (damage === 'reversal-of-unsent-request') {
    req('0400', 10, 2_000);
    ans('0410', 10, 2_000, '25');
  }
  if (damage === 'unknown-stan-at-host') {
    req('0200', 77, 1_234);
    ans('0210', 77, 1_234, '00');
  }
  return lines;
}

function run(damage: Damage, options?: ReconcileOptions, withField3 = false) {
  const journal = journalOf(damage);
  try {
    // Through JSON, as the soak and the campaign read the ledger file.
    const ledger = ledgerOf(damage, withField3).map((line) => JSON.parse(JSON.stringify(line)) as LedgerLine);
    return options ? reconcile(ledger, journal, options) : reconcile(ledger, journal);
  } finally {
    journal.close();
  }
}

describe('reconcile: host ledger against the journal', () => {
  it.each([false, true])(
    'passes a clean day (field 3 in the ledger: %s), every kind of transaction counted',
    (withField3) => {
      const result = run('none', undefined, withField3);
      expect(result.problems).toEqual([]);
      expect(result.tally).toMatchObject({
        approved: 3,
        refunds: 1,
        voids: 1,
        offline: 2,
        reversed: 1,
        declined: 1,
        repeats: 2,
        setAside: 0,
      });
      // Sale 1,500 + offline 3,000 + 4,000 − refund 700 − void 1,500: 6,300 on both sides.
      expect(result.money).toEqual({ host: 6_300, journal: 6_300, notCollected: 0 });
    },
  );

  // Each damage, and the problem it must be reported as.
  const cases: Array<[Damage, RegExp, boolean?]> = [
    ['ledger-amount', /STAN 000001 .*host received 0200 for 1600, the journal says 1500/],
    ['journal-amount', /STAN 000001 .*host received 0200 for 1500, the journal says 1400/],
    ['row-doubled', /STAN 000001: 2 journal rows/],
    ['advice-set-aside', /STAN 000004 .*advice set aside \(05, host answered 05\): 3000 not collected/],
    ['advice-set-aside-91', /STAN 000004 .*advice set aside \(91, host answered 91\): 3000 not collected/],
    ['advice-taken-but-set-aside', /STAN 000004 .*journal set the advice aside \(05\), the host took it/],
    ['stan-reused-at-host', /STAN 000002 .*host received 2 financial requests/],
    [
      'reversal-missing-at-host',
      /STAN 000003 .*journal says the reversal was acknowledged, the host never received one/,
    ],
    ['reversal-never-sent', /STAN 000003 .*host approved it \(00\) and no reversal reached the host/],
    ['reversal-answered-96', /STAN 000003 .*reversal was taken as acknowledged with 96/],
    ['financial-repeat-flagged', /STAN 000001 .*host received 2 financial requests \(flagged duplicate: 1\)/],
    ['advice-resent-as-original', /STAN 000004 .*advice sent again with the original MTI 0220/],
    ['first-advice-flagged', /STAN 000004 .*flagged its first 0220 as a duplicate/],
    [
      'approved-08-told-declined',
      /STAN 000002 \(sale declined\): the host approved it \(08\) and no reversal reached the host/,
    ],
    ['void-before-original', /void of STAN 000001: the void \(STAN 000006\) reached the host before its original/],
    ['void-of-unknown-sale', /void of STAN 000042: approved, but the journal has no approved sale/],
    ['voided-twice', /void of STAN 000001: approved 2 times/],
    ['reversal-owed', /left owed at the end: pendingReversals 1/],
    ['advice-queued', /left owed at the end: queued 1/],
    ['unknown-stan-at-host', /host saw STAN 000077 \(0200\) that the journal does not know/],
    [
      'processing-code-lies',
      /STAN 000005 \(refund approved\): the host received 0200 with processing code 000000/,
      true,
    ],
    ['partial-taken-in-full', /STAN 000001 .*approved for 1500 in the journal, the host approved 1000/],
    ['partial-in-field-4', /STAN 000001 .*approved for 1500 in the journal, the host approved 1000/],
    ['partial-booked-part', /STAN 000001 .*approved for 1500 in the journal, the host approved 1000/],
  ];
  it.each(cases)('fails on a day with %s', (damage, reason, withField3) => {
    const { problems } = run(damage, undefined, withField3 ?? false);
    expect(problems.length).toBeGreaterThan(0);
    expect(
      problems.some((p) => reason.test(p)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('passes a partial approval the register accepted: asked 1,500, booked and journaled 1,000', () => {
    const result = run('partial-accepted');
    expect(result.problems).toEqual([]);
    // Sale 1 and its void cancel out at 1,000 instead of 1,500: the same 6,300 of the clean day.
    expect(result.money).toEqual({ host: 6_300, journal: 6_300, notCollected: 0 });
  });

  it('passes a reversal the host could not match (25) when it never had the request: no money moved', () => {
    const result = run('reversal-of-unsent-request');
    expect(result.problems).toEqual([]);
    expect(result.tally).toMatchObject({ other: 1, reversed: 1 });
  });

  it('counts an expected set-aside advice as money not collected, and passes', () => {
    const result = run('advice-set-aside', { expectSetAside: ['000004'] });
    expect(result.problems).toEqual([]);
    expect(result.notCollected).toEqual([{ stan: '000004', amount: 3_000, responseCode: '05' }]);
    expect(result.money).toEqual({ host: 3_300, journal: 6_300, notCollected: 3_000 });
  });

  it('reports what is owed without failing when the run is expected to end undrained', () => {
    const result = run('advice-queued', { expectOwed: true });
    expect(result.problems).toEqual([]);
    expect(result.owed).toEqual({ inFlight: 0, armedReversals: 0, pendingReversals: 0, queued: 1 });
  });
});
