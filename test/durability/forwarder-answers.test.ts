/**
 * The forwarder's reading of the host's answers to what the terminal owes it (0410 to a reversal, 0230 to an advice),
 * its MTI choice (the repeat MTI only for a real retransmission) and what a held reversal blocks. The host is a fake
 * acquirer client answering any field-39 code, the journal a real one, time a ManualClock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { MockDisplay } from '../../hal/display/mock.js';
import { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import { CardVault } from '../../src/durability/card-vault.js';
import { Forwarder } from '../../src/durability/forwarder.js';
import { HostError, type AcquirerClient, type HostReply } from '../../src/acquirer/acquirer-client.js';
import { RESPONSE_CODES, type IsoMessage } from '../../src/iso8583/index.js';
import { Journal } from '../../src/journal/index.js';
import { createLogger } from '../../src/util/log.js';

/**
 * Field 39 by class as REFERENCE.md gives it (ISO 8583:1987), plus every code our own table names. Every
 * two-character numeric value is tried as well: a code in no table must be handled too.
 */
const REFERENCE_CLASSES = {
  approved: ['00', '08', '10', '11', '16'],
  offlineEmv: ['Y1', 'Y3', 'Z1', 'Z3'],
  refer: ['01', '02'],
  pickUp: ['04', '07', '33', '34', '35', '36', '37', '38', '41', '43', '67'],
  declined: ['05', '12', '13', '14', '15', '51', '54', '55', '57', '58', '59', '61', '62', '63', '65', '75'],
  retryLater: ['19', '90', '91', '92', '96'],
  messageErrors: ['30', '94', '95', '68'],
} as const;
const ALL_CODES = [
  ...new Set([
    ...Object.values(REFERENCE_CLASSES).flat(),
    ...RESPONSE_CODES.map((r) => r.code),
    ...Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0')),
  ]),
].sort();

type Verdict = 'settled' | 'retry' | 'set-aside';

/**
 * What the terminal must make of an answer: only a success settles (00; 94 to a repeat, the host already has it;
 * for a reversal 25/76, the original never arrived so nothing moved; for an advice any approval, the host took
 * it); the host's passing trouble (retry later, 68 too late) is retried; anything else is set aside for the operator.
 */
function expectedVerdict(kind: 'reversal' | 'advice', code: string, repeat: boolean): Verdict {
  if (code === '00') return 'settled';
  if (code === '94') return repeat ? 'settled' : 'set-aside';
  if (kind === 'reversal' && (code === '25' || code === '76')) return 'settled';
  // An advice answered with any approval was taken by the host: the money is collected.
  if (
    kind === 'advice' &&
    (
      [...REFERENCE_CLASSES.approved, ...REFERENCE_CLASSES.offlineEmv.filter((c) => c.startsWith('Y'))] as string[]
    ).includes(code)
  )
    return 'settled';
  if ((REFERENCE_CLASSES.retryLater as readonly string[]).includes(code) || code === '68') return 'retry';
  return 'set-aside';
}

type Answer = string | HostError | 'hang';

/** A host that answers each request with the next scripted answer (a field-39 code, a HostError, or never). */
class ScriptedHost {
  readonly sent: IsoMessage[] = [];
  onSend: ((message: IsoMessage) => void) | undefined;
  constructor(private readonly answers: Answer[] = []) {}
  push(...answers: Answer[]): void {
    this.answers.push(...answers);
  }
  asClient(): AcquirerClient {
    return { send: (message: IsoMessage) => this.send(message) } as unknown as AcquirerClient;
  }
  private send(message: IsoMessage): Promise<HostReply> {
    this.sent.push(message);
    this.onSend?.(message);
    const answer = this.answers.shift() ?? '00';
    if (answer === 'hang') return new Promise(() => {});
    if (answer instanceof HostError) return Promise.reject(answer);
    const stan = Number(message.fields[11]);
    return Promise.resolve({
      mti: `${message.mti.slice(0, 2)}${Number(message.mti[2]) + 1}0`,
      stan,
      terminalId: 'T0000001',
      responseCode: answer,
      message,
    });
  }
}

const refused = () => new HostError('not-connected', 'connect ECONNREFUSED', false);
const timedOut = () => new HostError('timeout', 'no response in 30000 ms', true);
const BACKOFF = { initialDelayMs: 1_000, maxDelayMs: 8_000 };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

let vault: CardVault | undefined;
function theVault(): CardVault {
  if (!vault) {
    const dir = mkdtempSync(join(tmpdir(), 'pos-fwd-vault-'));
    vault = CardVault.open(join(dir, 'saf.key'), { createIfMissing: true });
  }
  return vault;
}

function setup(host: ScriptedHost, journalPath = ':memory:') {
  const clock = new ManualClock();
  const journal = Journal.open(journalPath, { now: () => clock.now() });
  const log = createLogger('silent');
  const anomalies = new AnomalyRecorder(journal, new MockDisplay(), log);
  const forwarder = new Forwarder({
    journal,
    acquirer: host.asClient(),
    vault: theVault(),
    clock,
    log,
    anomalies,
    backoff: BACKOFF,
    intervalMs: 60_000,
    responseTimeoutMs: 30_000,
    random: () => 0.5,
  });
  let n = 0;
  /** `originalAnswer`: the host answered the original with this code, but the terminal could not take it. */
  const pendingReversal = (amount = 4_200, originalAnswer?: string): string => {
    const txnRef = `T-REV-${++n}`;
    journal.transactions.begin({ txnRef, kind: 'sale', amount, currency: '978' });
    const stan = journal.counters.nextStan();
    journal.reversals.arm({
      txnRef,
      stan,
      originalMti: '0200',
      processingCode: '000000',
      amount,
      currency: '978',
      transmittedAt: clock.now(),
      terminalId: 'T0000001',
      merchantId: 'MERCHANT0000001',
      maskedPan: '476173******0010',
    });
    if (originalAnswer === undefined) journal.reversals.markPending(txnRef, 'timeout');
    else journal.reversals.markPending(txnRef, 'untrusted answer: mismatched amount', { originalAnswer });
    return txnRef;
  };
  const queuedAdvice = (amount = 1_500): { txnRef: string; id: number } => {
    const txnRef = `T-SAF-${++n}`;
    journal.transactions.begin({ txnRef, kind: 'sale', amount, currency: '978' });
    const stan = journal.counters.nextStan();
    const { saf } = journal.recordOfflineApproval(
      txnRef,
      'offline-approved',
      { stan, responseCode: 'Y1', approvalCode: 'Y10001', outcome: 'offline-approved' },
      {
        stan,
        processingCode: '000000',
        amount,
        currency: '978',
        approvalCode: 'Y10001',
        entryMode: 'chip',
        maskedPan: '476173******0010',
        transmittedAt: clock.now(),
        terminalId: 'T0000001',
        merchantId: 'MERCHANT0000001',
        cardBlob: theVault().seal({ pan: '4761739001010010', expiry: '3012', entryMode: 'chip' }, txnRef),
      },
    );
    return { txnRef, id: saf.id };
  };
  return { clock, journal, forwarder, pendingReversal, queuedAdvice };
}

describe('answers to a reversal (0410), every field-39 code', () => {
  for (const repeat of [false, true]) {
    it(`${repeat ? 'on a repeat 0401' : 'on the first 0400'}: only a success acknowledges, a passing refusal retries, anything else is set aside and shown`, async () => {
      const tally: Record<Verdict, string[]> = { settled: [], retry: [], 'set-aside': [] };
      for (const code of ALL_CODES) {
        const host = new ScriptedHost(repeat ? [timedOut(), code] : [code]);
        const { clock, journal, forwarder, pendingReversal } = setup(host);
        const txnRef = pendingReversal();
        await forwarder.drain();
        if (repeat) await forwarder.drain({ ignoreBackoff: true });
        expect(
          host.sent.map((m) => m.mti),
          code,
        ).toEqual(repeat ? ['0400', '0401'] : ['0400']);
        const row = journal.reversals.forTransaction(txnRef)!;
        const expected = expectedVerdict('reversal', code, repeat);
        tally[expected].push(code);
        if (expected === 'settled') {
          expect(row, code).toMatchObject({ state: 'acknowledged', responseCode: code });
          expect(
            journal.transactions.events(txnRef).map((e) => e.state),
            code,
          ).toContain('reversed');
        } else if (expected === 'retry') {
          // Still owed and sent again after its backoff, as a repeat.
          expect(row, code).toMatchObject({ state: 'pending', attempts: repeat ? 2 : 1 });
          expect(
            journal.reversals.pending().map((r) => r.txnRef),
            code,
          ).toEqual([txnRef]);
          expect(row.nextAttemptAt!, code).toBeGreaterThan(clock.now());
          await forwarder.drain();
          expect(host.sent, `${code}: not before its backoff`).toHaveLength(repeat ? 2 : 1);
          await clock.advance(row.nextAttemptAt! - clock.now());
          await forwarder.drain();
          expect(host.sent.at(-1)!.mti, code).toBe('0401');
          expect(journal.reversals.forTransaction(txnRef)!.state, code).toBe('acknowledged');
        } else {
          // Still owed (money the cardholder may be owed), never sent again, visible with the host's code.
          expect(row, code).toMatchObject({ state: 'pending', responseCode: code });
          expect(journal.reversals.pending(), code).toEqual([]);
          expect(journal.reversals.listSetAside(), code).toMatchObject([{ txnRef, responseCode: code, amount: 4_200 }]);
          expect(journal.setAsideTotals().reversals, code).toEqual({ count: 1, total: 4_200 });
          expect(
            journal.anomalies.list({ code: 'E609' }).map((a) => a.txnRef),
            code,
          ).toEqual([txnRef]);
          expect(
            journal.transactions.events(txnRef).map((e) => e.state),
            code,
          ).toContain('reversal-set-aside');
          await clock.advance(3_600_000);
          await forwarder.drain({ ignoreBackoff: true });
          expect(host.sent, `${code}: never sent again`).toHaveLength(repeat ? 2 : 1);
        }
        journal.close();
      }
      // The figures: of every code tried, which settle a reversal.
      expect(tally.settled).toEqual(repeat ? ['00', '25', '76', '94'] : ['00', '25', '76']);
      expect(tally.retry).toEqual(['19', '68', '90', '91', '92', '96']);
      expect(tally['set-aside']).toHaveLength(ALL_CODES.length - tally.settled.length - 6);
    });
  }
});

describe('answers to an advice (0230), every field-39 code', () => {
  for (const repeat of [false, true]) {
    it(`${repeat ? 'on a repeat 0221' : 'on the first 0220'}: only a success (any approval) forwards it, a passing refusal keeps it queued, anything else sets it aside`, async () => {
      const tally: Record<Verdict, string[]> = { settled: [], retry: [], 'set-aside': [] };
      for (const code of ALL_CODES) {
        const host = new ScriptedHost(repeat ? [timedOut(), code] : [code]);
        const { clock, journal, forwarder, queuedAdvice } = setup(host);
        const { id, txnRef } = queuedAdvice();
        await forwarder.drain();
        if (repeat) await forwarder.drain({ ignoreBackoff: true });
        expect(
          host.sent.map((m) => m.mti),
          code,
        ).toEqual(repeat ? ['0220', '0221'] : ['0220']);
        const item = journal.saf.item(id)!;
        const expected = expectedVerdict('advice', code, repeat);
        tally[expected].push(code);
        if (expected === 'settled') {
          expect(item, code).toMatchObject({ state: 'forwarded', responseCode: code, cardBlob: null });
        } else if (expected === 'retry') {
          expect(item, code).toMatchObject({ state: 'queued', attempts: repeat ? 2 : 1 });
          expect(Buffer.isBuffer(item.cardBlob), code).toBe(true);
          await clock.advance(item.nextAttemptAt! - clock.now());
          await forwarder.drain();
          expect(host.sent.at(-1)!.mti, code).toBe('0221');
          expect(journal.saf.item(id)!.state, code).toBe('forwarded');
        } else {
          expect(item, code).toMatchObject({ state: 'set-aside', responseCode: code, cardBlob: null });
          expect(journal.setAsideTotals().advices, code).toEqual({ count: 1, total: 1_500 });
          expect(
            journal.anomalies.list({ code: 'E609' }).map((a) => a.txnRef),
            code,
          ).toEqual([txnRef]);
        }
        journal.close();
      }
      expect(tally.settled).toEqual(
        repeat ? ['00', '08', '10', '11', '16', '94', 'Y1', 'Y3'] : ['00', '08', '10', '11', '16', 'Y1', 'Y3'],
      );
      expect(tally.retry).toEqual(['19', '68', '90', '91', '92', '96']);
    });
  }
});

describe('the repeat MTI only for a real retransmission', () => {
  it('a refused connect sent nothing: the next reversal is still a 0400, the next advice still a 0220', async () => {
    const host = new ScriptedHost([refused(), '00', refused(), '00']);
    const { journal, forwarder, pendingReversal, queuedAdvice } = setup(host);
    const txnRef = pendingReversal();
    await forwarder.drain();
    expect(journal.reversals.forTransaction(txnRef)).toMatchObject({ state: 'pending', attempts: 0 });
    await forwarder.drain({ ignoreBackoff: true });
    expect(journal.reversals.forTransaction(txnRef)!.state).toBe('acknowledged');
    const { id } = queuedAdvice();
    await forwarder.drain();
    expect(journal.saf.item(id)).toMatchObject({ state: 'queued', attempts: 0 });
    await forwarder.drain({ ignoreBackoff: true });
    expect(journal.saf.item(id)!.state).toBe('forwarded');
    expect(host.sent.map((m) => m.mti)).toEqual(['0400', '0400', '0220', '0220']);
  });

  it('refused connects still back off, growing with each try', async () => {
    const host = new ScriptedHost([refused(), refused(), refused()]);
    const { clock, journal, forwarder, pendingReversal } = setup(host);
    const txnRef = pendingReversal();
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      await forwarder.drain();
      const row = journal.reversals.forTransaction(txnRef)!;
      waits.push(row.nextAttemptAt! - clock.now());
      await clock.advance(row.nextAttemptAt! - clock.now());
    }
    // random 0.5: three quarters of the ceiling 1 s, 2 s, 4 s.
    expect(waits).toEqual([750, 1_500, 3_000]);
    expect(journal.reversals.forTransaction(txnRef)!.attempts).toBe(0);
  });

  it('the attempt is durable before the bytes leave: after a crash mid-send the resend is a 0401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-fwd-'));
    dirs.push(dir);
    const path = join(dir, 'journal.sqlite');
    const host = new ScriptedHost(['hang']);
    const first = setup(host, path);
    const txnRef = first.pendingReversal();
    let attemptsSeenOnDisk: number | undefined;
    host.onSend = () => {
      // Another connection reads what is committed at the instant the message leaves.
      const reader = Journal.open(path, { readonly: true });
      attemptsSeenOnDisk = reader.reversals.forTransaction(txnRef)!.attempts;
      reader.close();
    };
    void first.forwarder.drain();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(attemptsSeenOnDisk).toBe(1);
    // The process dies with the answer outstanding; the restarted one repeats.
    first.journal.close();
    const after = new ScriptedHost(['00']);
    const restarted = setup(after, path);
    await restarted.forwarder.drain({ ignoreBackoff: true });
    expect(host.sent.map((m) => m.mti)).toEqual(['0400']);
    expect(after.sent.map((m) => m.mti)).toEqual(['0401']);
    expect(restarted.journal.reversals.forTransaction(txnRef)!.state).toBe('acknowledged');
    restarted.journal.close();
  });
});

describe('a reversal owed for one STAN does not hold up the advices of others', () => {
  it('a reversal the host refuses for now (96): the advices behind it still go in order, the reversal stays owed', async () => {
    const host = new ScriptedHost(['96', '00', '00']);
    const { journal, forwarder, pendingReversal, queuedAdvice } = setup(host);
    const txnRef = pendingReversal();
    const a = queuedAdvice(1_000);
    const b = queuedAdvice(1_100);
    const result = await forwarder.drain();
    expect(host.sent.map((m) => `${m.mti}:${Number(m.fields[11])}`)).toEqual([
      `0400:${journal.reversals.forTransaction(txnRef)!.stan}`,
      `0220:${journal.saf.item(a.id)!.stan}`,
      `0220:${journal.saf.item(b.id)!.stan}`,
    ]);
    expect(result).toMatchObject({ reversalsAcknowledged: 0, advicesForwarded: 2, blocked: true });
    expect(journal.reversals.forTransaction(txnRef)).toMatchObject({ state: 'pending', attempts: 1 });
    // Before the next online authorization the reversal is still required.
    host.push('96');
    expect(await forwarder.flushReversals()).toBe(false);
  });

  it('a reversal waiting for its retry time: the advices go now', async () => {
    const host = new ScriptedHost([timedOut(), '00']);
    const { journal, forwarder, pendingReversal, queuedAdvice } = setup(host);
    const txnRef = pendingReversal();
    await forwarder.drain();
    expect(journal.reversals.forTransaction(txnRef)!.nextAttemptAt).not.toBeNull();
    const a = queuedAdvice();
    await forwarder.drain();
    expect(journal.saf.item(a.id)!.state).toBe('forwarded');
    expect(host.sent.map((m) => m.mti)).toEqual(['0400', '0220']);
  });

  it('a host that does not answer the reversal at all stops the pass: the advices would only time out too', async () => {
    const host = new ScriptedHost([timedOut()]);
    const { journal, forwarder, pendingReversal, queuedAdvice } = setup(host);
    pendingReversal();
    const a = queuedAdvice();
    await forwarder.drain();
    expect(host.sent.map((m) => m.mti)).toEqual(['0400']);
    expect(journal.saf.item(a.id)).toMatchObject({ state: 'queued', attempts: 0 });
  });
});

describe('a passing refusal is retried after its own backoff, however the pass started', () => {
  // The periodic interval is 60 s, the backoff ceiling 8 s: a retry must not wait for the interval.
  const BACKOFF_CEILING_MS = BACKOFF.maxDelayMs;
  for (const kind of ['reversal', 'advice'] as const) {
    it(`${kind === 'advice' ? 'an' : 'a'} ${kind} answered 96 on a kicked pass goes again within ${BACKOFF_CEILING_MS} ms`, async () => {
      const host = new ScriptedHost(['96', '00']);
      const { clock, journal, forwarder, pendingReversal, queuedAdvice } = setup(host);
      forwarder.start();
      await clock.advance(0);
      const settled =
        kind === 'reversal'
          ? (() => {
              const txnRef = pendingReversal();
              return () => journal.reversals.forTransaction(txnRef)!.state === 'acknowledged';
            })()
          : (() => {
              const { id } = queuedAdvice();
              return () => journal.saf.item(id)!.state === 'forwarded';
            })();
      forwarder.kick();
      await clock.advance(0);
      expect(host.sent.map((m) => m.mti)).toEqual(kind === 'reversal' ? ['0400'] : ['0220']);
      await clock.advance(BACKOFF_CEILING_MS);
      expect(host.sent.map((m) => m.mti)).toEqual(kind === 'reversal' ? ['0400', '0401'] : ['0220', '0221']);
      expect(settled()).toBe(true);
      forwarder.stop();
      journal.close();
    });
  }
});

describe('94 to a repeat settles only when an earlier transmission went unanswered', () => {
  // After an answered refusal the host has nothing of ours: a 94 then is not "I already have it".
  for (const kind of ['reversal', 'advice'] as const) {
    for (const [before, settles] of [
      ['timeout', true],
      ['96', false],
    ] as const) {
      it(`${kind}: the last transmission ${before === 'timeout' ? 'unanswered' : 'answered 96'}, then 94 to the repeat: ${settles ? 'settled' : 'set aside, shown'}`, async () => {
        const host = new ScriptedHost([before === 'timeout' ? timedOut() : before, '94']);
        const { journal, forwarder, pendingReversal, queuedAdvice } = setup(host);
        const owed = kind === 'reversal' ? { txnRef: pendingReversal(), id: 0 } : queuedAdvice();
        await forwarder.drain();
        await forwarder.drain({ ignoreBackoff: true });
        expect(host.sent.map((m) => m.mti)).toEqual(kind === 'reversal' ? ['0400', '0401'] : ['0220', '0221']);
        if (kind === 'reversal') {
          const row = journal.reversals.forTransaction(owed.txnRef)!;
          if (settles) expect(row).toMatchObject({ state: 'acknowledged', responseCode: '94' });
          else {
            expect(row).toMatchObject({ state: 'pending', responseCode: '94' });
            expect(journal.reversals.listSetAside().map((r) => r.txnRef)).toEqual([owed.txnRef]);
          }
        } else {
          expect(journal.saf.item(owed.id)).toMatchObject({
            state: settles ? 'forwarded' : 'set-aside',
            responseCode: '94',
          });
        }
        expect(journal.anomalies.list({ code: 'E609' }).map((a) => a.txnRef)).toEqual(settles ? [] : [owed.txnRef]);
        journal.close();
      });
    }
  }
});

describe('"original not found" (25, 76) settles a reversal only when its original went unanswered', () => {
  // When the host answered the original it has a record of it: 25/76 contradict that, and the money may still be held.
  for (const code of ['25', '76']) {
    for (const answered of [false, true]) {
      it(`${code} to the reversal of an original ${answered ? 'the host answered 00 (with a wrong amount)' : 'that timed out'}: ${answered ? 'set aside, shown' : 'settled'}`, async () => {
        const host = new ScriptedHost([code]);
        const { journal, forwarder, pendingReversal } = setup(host);
        const txnRef = pendingReversal(4_200, answered ? '00' : undefined);
        await forwarder.drain();
        const row = journal.reversals.forTransaction(txnRef)!;
        expect(row).toMatchObject({ state: answered ? 'pending' : 'acknowledged', responseCode: code });
        expect(journal.reversals.listSetAside().map((r) => r.txnRef)).toEqual(answered ? [txnRef] : []);
        expect(journal.anomalies.list({ code: 'E609' }).map((a) => a.txnRef)).toEqual(answered ? [txnRef] : []);
        journal.close();
      });
    }
  }
});
