/**
 * The terminal's risk controls in one place: the card checks run on every card read (fraud rules, card testing,
 * duplicates), the supervisor PIN guard, and the lockout policy fed by every anomaly. Card identity is a keyed hash
 * with a secret made at each start (duplicates and card testing only look minutes back, so nothing is persisted).
 */
import { randomBytes } from 'node:crypto';
import type { AnomalyRef, AssessInput, CardAssessment, TransactionOutput } from '../transaction/types.js';
import { cardKey } from './card-key.js';
import { DuplicateDetector } from './duplicates.js';
import { assessCard, CardTestingDetector, decide, DEFAULT_FRAUD_POLICY, type FraudFinding } from './fraud.js';
import { LockoutPolicy } from './lockout.js';
import type { LockoutPersistence } from './lockout-persistence.js';
import { SupervisorGuard } from './pin-guard.js';

export interface RiskOptions {
  now: () => number;
  pinHash: string;
  duplicateWindowMs?: number;
  /** Keeps supervisor PIN lockouts across a restart. */
  supervisorLockouts?: LockoutPersistence;
}

function anomalyOf(finding: FraudFinding): AnomalyRef {
  return {
    name: finding.anomaly,
    reason: `${finding.kind}: ${Object.entries(finding.evidence)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  };
}

export class RiskControls {
  private readonly secret = randomBytes(32);
  readonly duplicates: DuplicateDetector;
  readonly cardTesting: CardTestingDetector;
  readonly supervisor: SupervisorGuard;
  readonly lockout = new LockoutPolicy();

  constructor(private readonly options: RiskOptions) {
    this.duplicates = new DuplicateDetector({ windowMs: options.duplicateWindowMs ?? 10 * 60_000 }, options.now);
    this.cardTesting = new CardTestingDetector({ windowMs: 60_000, maxDistinctCards: 4 }, options.now);
    this.supervisor = new SupervisorGuard(
      {
        pinHash: options.pinHash,
        ...(options.supervisorLockouts ? { persistence: options.supervisorLockouts } : {}),
      },
      options.now,
    );
  }

  /** The card checks for a card just read: fraud rules first, then card testing, then duplicates. */
  assess(input: AssessInput): CardAssessment {
    const card = input.card.reveal();
    const key = cardKey(card.pan, this.secret);
    const findings = assessCard(
      {
        card,
        now: this.options.now(),
        chipAttempted: input.chipAttempted === true,
        readFailuresThisCard: input.readFailures,
      },
      DEFAULT_FRAUD_POLICY,
    );
    const testing = this.cardTesting.observe(key);
    if (testing) findings.push(testing);
    const decision = decide(findings, DEFAULT_FRAUD_POLICY);
    if (decision.action !== 'allow' && decision.primary) {
      return { action: decision.action, anomaly: anomalyOf(decision.primary), cardKey: key };
    }
    if (input.kind === 'sale') {
      const duplicate = this.duplicates.check({
        cardKey: key,
        amount: input.amount,
        currency: input.currency,
        kind: input.kind,
      });
      if (duplicate.duplicate) {
        return {
          action: 'confirm-duplicate',
          anomaly: { name: 'duplicate-transaction', reason: 'same card and amount as a recent sale' },
          earlier: duplicate.earlier,
          cardKey: key,
        };
      }
    }
    return { action: 'continue', cardKey: key };
  }

  /** An approved sale becomes the reference for later duplicates; a void frees the original's place. */
  finished(output: TransactionOutput, originalTxnRef?: string): void {
    if (
      (output.outcome === 'approved' || output.outcome === 'offline-approved') &&
      output.cardKey &&
      output.kind === 'sale'
    ) {
      this.duplicates.record({
        cardKey: output.cardKey,
        amount: output.amount,
        currency: output.currency,
        kind: output.kind,
        at: this.options.now(),
        txnRef: output.txnRef,
        ...(output.stan !== undefined ? { stan: output.stan } : {}),
      });
    }
    if (output.kind === 'void' && output.outcome === 'approved' && originalTxnRef)
      this.duplicates.forget(originalTxnRef);
  }
}
