/**
 * Card-level fraud checks run before anything goes to the host, and the card-testing detector that watches many
 * cards over time. Findings carry a masked PAN, field names and counts only. A policy maps each finding to what the
 * terminal does; decide() picks the strongest.
 */
import type { CardData } from '../../hal/card-reader/contract.js';
import {
  expiryCurrent,
  hasChip,
  isSwipeFailure,
  parseTrack1,
  parseTrack2,
  type Track1,
  type Track2,
} from '../../hal/card-reader/iso7813.js';
import type { AnomalyName } from '../anomaly/taxonomy.js';
import { luhnValidPan, maskPan } from '../util/pan.js';
import type { Evidence, EvidenceValue, TimeSource } from './evidence.js';
import { nowFrom, requirePositive } from './evidence.js';

export const FRAUD_KINDS = [
  'luhn',
  'track-mismatch',
  'fallback',
  'repeated-read-failures',
  'expired',
  'card-testing',
] as const;
export type FraudKind = (typeof FRAUD_KINDS)[number];

export const FRAUD_ANOMALY: Readonly<Record<FraudKind, AnomalyName>> = Object.freeze({
  luhn: 'suspected-fraud-luhn',
  'track-mismatch': 'suspected-fraud-track-mismatch',
  fallback: 'suspected-fraud-fallback',
  'repeated-read-failures': 'repeated-read-failures',
  expired: 'expired-card',
  'card-testing': 'card-testing',
});

export interface FraudFinding {
  kind: FraudKind;
  anomaly: AnomalyName;
  evidence: Evidence;
}

/** 'ask-other-method': insert the chip, or present another card or payment. */
export type FraudAction = 'decline' | 'ask-other-method' | 'lock' | 'allow';

export interface FraudPolicy {
  actions: Readonly<Record<FraudKind, FraudAction>>;
  /** Failed reads of one card within one transaction from which the card is refused. */
  maxReadFailures: number;
}

export const DEFAULT_FRAUD_POLICY: FraudPolicy = Object.freeze({
  actions: Object.freeze({
    luhn: 'decline',
    'track-mismatch': 'decline',
    fallback: 'ask-other-method',
    'repeated-read-failures': 'ask-other-method',
    expired: 'decline',
    'card-testing': 'lock',
  }),
  maxReadFailures: 3,
});

/** The default policy with some actions or the read-failure threshold replaced (as a config file gives them). */
export function fraudPolicy(
  overrides: { actions?: Partial<Record<FraudKind, FraudAction>>; maxReadFailures?: number } = {},
): FraudPolicy {
  return {
    actions: { ...DEFAULT_FRAUD_POLICY.actions, ...overrides.actions },
    maxReadFailures: requirePositive(
      'maxReadFailures',
      overrides.maxReadFailures ?? DEFAULT_FRAUD_POLICY.maxReadFailures,
      true,
    ),
  };
}

export interface CardAssessmentInput {
  card: CardData;
  /** Milliseconds since the epoch; the expiry check uses its UTC month. */
  now: number;
  /** A chip read was tried for this transaction before the swipe. */
  chipAttempted: boolean;
  /** Failed reads so far in this transaction. */
  readFailuresThisCard: number;
}

/** Every finding for one card read, in a fixed order. Never throws, whatever the reader delivered. */
export function assessCard(input: CardAssessmentInput, policy: FraudPolicy = DEFAULT_FRAUD_POLICY): FraudFinding[] {
  const { card } = input;
  const pan = typeof card.pan === 'string' ? card.pan : '';
  const maskedPan = maskPan(pan) ?? '';
  const findings: FraudFinding[] = [];
  const add = (kind: FraudKind, evidence: Record<string, EvidenceValue>): void => {
    findings.push({ kind, anomaly: FRAUD_ANOMALY[kind], evidence: Object.freeze({ maskedPan, ...evidence }) });
  };

  if (!luhnValidPan(pan)) add('luhn', { panLength: pan.replace(/\D/g, '').length, digitsOnly: /^\d+$/.test(pan) });

  const tracks = readTracks(card);
  const mismatch = trackMismatch(card, tracks);
  if (mismatch) add('track-mismatch', mismatch);

  // A missing service code on the card data is taken from track 2, then track 1, so a reader that leaves it out
  // does not hide a chip card.
  const serviceCode = stringOr(card.serviceCode) ?? tracks.t2?.serviceCode ?? tracks.t1?.serviceCode;
  // 'fallback-swipe' counts too: the entry mode alone does not prove a chip attempt was made in this transaction.
  const swiped = card.entryMode === 'swipe' || card.entryMode === 'fallback-swipe';
  if (serviceCode !== undefined && hasChip(serviceCode) && swiped && !input.chipAttempted) {
    add('fallback', {
      entryMode: String(card.entryMode),
      chipCard: true,
      serviceCodeFirstDigit: serviceCode.slice(0, 1),
      chipAttempted: false,
    });
  }

  const failures = Number.isFinite(input.readFailuresThisCard) ? input.readFailuresThisCard : 0;
  if (failures >= policy.maxReadFailures) {
    add('repeated-read-failures', { readFailures: failures, threshold: policy.maxReadFailures });
  }

  const expiry = typeof card.expiry === 'string' ? card.expiry : '';
  if (!expiryCurrent(expiry, input.now)) {
    const past = monthsPast(expiry, input.now);
    add('expired', past === undefined ? { reason: 'invalid-expiry' } : { reason: 'past', monthsPast: past });
  }
  return findings;
}

export interface FraudDecision {
  action: FraudAction;
  findings: FraudFinding[];
  /** The finding that set the action (the first of the strongest); absent when nothing was found. */
  primary?: FraudFinding;
}

const STRENGTH: Readonly<Record<FraudAction, number>> = { allow: 0, 'ask-other-method': 1, decline: 2, lock: 3 };

export function decide(findings: readonly FraudFinding[], policy: FraudPolicy = DEFAULT_FRAUD_POLICY): FraudDecision {
  let action: FraudAction = 'allow';
  let primary: FraudFinding | undefined;
  for (const finding of findings) {
    const a = policy.actions[finding.kind];
    if (primary === undefined || STRENGTH[a] > STRENGTH[action]) {
      action = a;
      primary = finding;
    }
  }
  return { action, findings: [...findings], ...(primary ? { primary } : {}) };
}

export interface CardTestingOptions {
  windowMs: number;
  /** Distinct cards tolerated within the window; one more is card testing. */
  maxDistinctCards: number;
}

export const DEFAULT_CARD_TESTING: CardTestingOptions = Object.freeze({ windowMs: 60_000, maxDistinctCards: 4 });

/**
 * Card testing: many different cards tried in a short time (stolen numbers checked against the terminal). Feed it a
 * card key per attempt the integrator counts (typically each declined or unreadable card). Memory stays bounded:
 * keys older than the window are dropped, and beyond a cap the oldest go first, which cannot hide the pattern
 * because the cap is well above the threshold.
 */
export class CardTestingDetector {
  private readonly windowMs: number;
  private readonly maxDistinctCards: number;
  private readonly cap: number;
  private readonly now: () => number;
  // Card key → last seen, in last-seen order.
  private readonly seen = new Map<string, number>();

  constructor(options: CardTestingOptions, now: TimeSource) {
    this.windowMs = requirePositive('windowMs', options.windowMs);
    this.maxDistinctCards = requirePositive('maxDistinctCards', options.maxDistinctCards, true);
    this.cap = Math.max(1_000, this.maxDistinctCards * 4);
    this.now = nowFrom(now);
  }

  /** Records an attempt with `cardKey` (from cardKey(), never a PAN); returns a finding once too many cards were seen. */
  observe(cardKey: string): FraudFinding | undefined {
    const now = this.now();
    this.seen.delete(cardKey);
    this.seen.set(cardKey, now);
    this.prune(now);
    const distinct = this.distinctCards(now);
    if (distinct <= this.maxDistinctCards) return undefined;
    return {
      kind: 'card-testing',
      anomaly: FRAUD_ANOMALY['card-testing'],
      evidence: Object.freeze({
        distinctCards: distinct,
        maxDistinctCards: this.maxDistinctCards,
        windowMs: this.windowMs,
      }),
    };
  }

  /** Distinct cards seen within the window ending now. */
  distinctCards(now: number = this.now()): number {
    let n = 0;
    for (const at of this.seen.values()) if (now - at < this.windowMs) n++;
    return n;
  }

  /** After a supervisor unlocks the terminal the count starts again. */
  reset(): void {
    this.seen.clear();
  }

  private prune(now: number): void {
    for (const [key, at] of this.seen) {
      if (this.seen.size <= this.cap && now - at < this.windowMs) break;
      this.seen.delete(key);
    }
  }
}

// ---- internals ----

interface ParsedTracks {
  t1?: Track1;
  t2?: Track2;
  /** Tracks present on the card data that do not parse. */
  unreadable: string[];
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function readTracks(card: CardData): ParsedTracks {
  const out: ParsedTracks = { unreadable: [] };
  const t1 = stringOr(card.track1);
  if (t1 !== undefined) {
    // CardData holds what lies between the sentinels; a driver that kept them is accepted too.
    const parsed = parseTrack1(t1.startsWith('%') ? t1 : `%${t1}?`);
    if (isSwipeFailure(parsed)) out.unreadable.push('track1');
    else out.t1 = parsed;
  }
  const t2 = stringOr(card.track2);
  if (t2 !== undefined) {
    const parsed = parseTrack2(t2.startsWith(';') ? t2 : `;${normaliseTrack2(t2)}?`);
    if (isSwipeFailure(parsed)) out.unreadable.push('track2');
    else out.t2 = parsed;
  }
  return out;
}

/** Chip track 2 equivalent (EMV tag 57) uses 'D' as separator and may end in an 'F' pad nibble. */
function normaliseTrack2(data: string): string {
  if (data.includes('=') || !/^\d+D[\dF]*$/i.test(data)) return data;
  return data.replace(/[dD]/, '=').replace(/[fF]$/, '');
}

function trackMismatch(card: CardData, tracks: ParsedTracks): Record<string, EvidenceValue> | undefined {
  if (tracks.unreadable.length > 0) return { unreadableTracks: tracks.unreadable.join(',') };
  const sources: Array<[string, { pan: string; expiry: string; serviceCode?: string }]> = [];
  if (tracks.t1) sources.push(['track1', tracks.t1]);
  if (tracks.t2) sources.push(['track2', tracks.t2]);
  if (sources.length === 0) return undefined;
  // The card data is what the transaction uses, so it must match the tracks it came from.
  const base = {
    pan: typeof card.pan === 'string' ? card.pan : '',
    expiry: typeof card.expiry === 'string' ? card.expiry : '',
    ...(stringOr(card.serviceCode) !== undefined ? { serviceCode: card.serviceCode as string } : {}),
  };
  sources.unshift(['card', base]);
  const fields = new Set<string>();
  const between = new Set<string>();
  for (let i = 0; i < sources.length; i++) {
    for (let j = i + 1; j < sources.length; j++) {
      const [nameA, a] = sources[i] as (typeof sources)[number];
      const [nameB, b] = sources[j] as (typeof sources)[number];
      const differs: string[] = [];
      if (a.pan !== b.pan) differs.push('pan');
      if (a.expiry !== b.expiry) differs.push('expiry');
      if (a.serviceCode !== undefined && b.serviceCode !== undefined && a.serviceCode !== b.serviceCode) {
        differs.push('serviceCode');
      }
      if (differs.length === 0) continue;
      for (const f of differs) fields.add(f);
      between.add(`${nameA}/${nameB}`);
    }
  }
  if (fields.size === 0) return undefined;
  return { fields: [...fields].join(','), between: [...between].join(',') };
}

/** Whole months from the expiry month to the current UTC month, read with the window expiryCurrent uses. */
function monthsPast(yymm: string, now: number): number | undefined {
  if (!/^\d{4}$/.test(yymm)) return undefined;
  const mm = Number(yymm.slice(2, 4));
  if (mm < 1 || mm > 12) return undefined;
  const today = new Date(now);
  if (Number.isNaN(today.getTime())) return undefined;
  const nowYear = today.getUTCFullYear();
  let year = Math.floor(nowYear / 100) * 100 + Number(yymm.slice(0, 2));
  if (year > nowYear + 20) year -= 100;
  return nowYear * 12 + today.getUTCMonth() + 1 - (year * 12 + mm);
}
