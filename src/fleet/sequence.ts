/**
 * Sequence tracking for one terminal: which boot it is on, and where each message stands in that boot's sequence.
 *
 * - Boots: every message carries a boot id; a new one is a restart and starts sequence tracking afresh. A message
 *   from an earlier boot (for example the old connection's last will arriving after the new boot's Birth) is stale
 *   and changes nothing.
 * - Sequence: within a boot seq rises by one per message. A jump is a gap (the missing messages are counted); a seq
 *   at or below the last one is a duplicate (ignored) unless it fills a gap (out of order, applied, no longer
 *   missing). Messages outside the count (retained replays, offline State, tracking off) only follow the boot.
 * - Ahead: a connection's Birth is sent before the backlog queued earlier, so its seq can arrive before the seqs below
 *   it. It is remembered as seen: the backlog then fills the seqs below it, and the next message is not a gap.
 *   When that Birth is the first seen of a boot, the seqs below it are not known: the backlog that follows it (in
 *   rising order) is applied as out of order, without counting anything missing or out of order.
 *
 * Whether a message counts, and whether it is an older connection's will, the caller says: that is about the message
 * and the connection, not the sequence.
 */

/** Missing seqs remembered per terminal, so a late arrival can be recognised as filling a gap. */
const MAX_MISSING_REMEMBERED = 4096;
/** Boot ids remembered per terminal, so a late message from one of them is recognised as stale. */
const MAX_PREVIOUS_BOOTS = 8;

export type Disposition =
  | 'first' // first message seen from this terminal
  | 'in-order'
  | 'gap' // seq jumped: `gap` messages are missing before it
  | 'restart' // new boot id
  | 'duplicate' // seq already seen: ignored
  | 'out-of-order' // fills an earlier gap: applied
  | 'stale-boot' // from an earlier boot: ignored
  | 'ahead' // a Birth sent ahead of the backlog below its seq: applied, counted as seen
  | 'untracked'; // not part of sequence accounting (retained replay, offline State, tracking off)

export interface GapReport {
  at: number;
  bootId: string;
  /** Last seq seen before the gap and the seq that revealed it. */
  afterSeq: number;
  seq: number;
  missing: number;
}

export interface SequenceView {
  lastSeq: number | null;
  /** Number of gaps seen and messages missing (less those that arrived late). */
  gaps: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  stale: number;
  lastGap: GapReport | null;
}

/** Where one message stands. */
export interface SequenceVerdict {
  disposition: Disposition;
  /** false when the message is to be ignored (duplicate or stale). */
  applied: boolean;
  /** With 'gap': how many messages are missing before this one. */
  gap?: number;
  /** With 'restart': the boot ids. */
  restart?: { previousBootId: string; bootId: string };
}

export interface SequenceContext {
  /** Part of the sequence count: live, not an offline State, tracking on. */
  tracked: boolean;
  /** An offline State of an earlier connection than the latest one seen (a late will). */
  olderConnection: boolean;
  /** May arrive ahead of lower seqs (a connection's Birth, sent before the backlog). */
  ahead?: boolean;
  now: number;
}

export class SequenceTracker {
  private currentBoot: string;
  private previousBoots: string[] = [];
  private restartCount = 0;
  private lastSeq: number | null = null;
  private readonly missingSeqs = new Set<number>();
  /** Seqs seen ahead of lastSeq (Births); absorbed when the sequence reaches them. */
  private readonly aheadSeqs = new Set<number>();
  /** Below a boot's first Birth: the seqs from `next` up to (not including) `to` may still arrive, in rising order. */
  private below: { next: number; to: number } | null = null;
  private gaps = 0;
  private missing = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private stale = 0;
  private lastGap: GapReport | null = null;

  constructor(bootId: string) {
    this.currentBoot = bootId;
  }

  get bootId(): string {
    return this.currentBoot;
  }

  get restarts(): number {
    return this.restartCount;
  }

  /** Places one message in the sequence, counting what it reveals. */
  classify(h: { bootId: string; seq: number }, ctx: SequenceContext): SequenceVerdict {
    if (this.previousBoots.includes(h.bootId) || (h.bootId === this.currentBoot && ctx.olderConnection)) {
      this.stale++;
      return { disposition: 'stale-boot', applied: false };
    }
    if (h.bootId !== this.currentBoot) {
      const previousBootId = this.currentBoot;
      this.previousBoots = [...this.previousBoots, previousBootId].slice(-MAX_PREVIOUS_BOOTS);
      this.currentBoot = h.bootId;
      this.restartCount++;
      this.missingSeqs.clear();
      this.aheadSeqs.clear();
      this.lastSeq = ctx.tracked ? h.seq : null;
      // A new boot's Birth comes before its boot event: the seqs below it may follow.
      this.below = ctx.tracked && ctx.ahead ? { next: 1, to: h.seq } : null;
      return { disposition: 'restart', applied: true, restart: { previousBootId, bootId: h.bootId } };
    }
    if (!ctx.tracked) return { disposition: 'untracked', applied: true };
    if (ctx.ahead && this.lastSeq === null) {
      this.lastSeq = h.seq;
      this.below = { next: 1, to: h.seq };
      return { disposition: 'first', applied: true };
    }
    if (ctx.ahead && this.lastSeq !== null && h.seq > this.lastSeq + 1 && !this.aheadSeqs.has(h.seq)) {
      this.aheadSeqs.add(h.seq);
      if (this.aheadSeqs.size > MAX_MISSING_REMEMBERED) this.aheadSeqs.delete(Math.min(...this.aheadSeqs));
      return { disposition: 'ahead', applied: true };
    }
    if (this.lastSeq === null) {
      this.advanceTo(h.seq);
      return { disposition: 'first', applied: true };
    }
    if (h.seq === this.lastSeq + 1) {
      this.advanceTo(h.seq);
      return { disposition: 'in-order', applied: true };
    }
    if (h.seq > this.lastSeq) {
      let gap = h.seq - this.lastSeq - 1;
      for (const s of this.aheadSeqs) if (s > this.lastSeq && s < h.seq) gap--;
      if (gap === 0) {
        this.advanceTo(h.seq);
        return { disposition: 'in-order', applied: true };
      }
      this.gaps++;
      this.missing += gap;
      this.lastGap = { at: ctx.now, bootId: h.bootId, afterSeq: this.lastSeq, seq: h.seq, missing: gap };
      if (gap <= MAX_MISSING_REMEMBERED) this.rememberMissing(this.lastSeq + 1, h.seq);
      this.advanceTo(h.seq);
      return { disposition: 'gap', applied: true, gap };
    }
    const below = this.below;
    if (below && h.seq >= below.next && h.seq < below.to) {
      below.next = h.seq + 1;
      return { disposition: 'out-of-order', applied: true };
    }
    if (this.missingSeqs.delete(h.seq)) {
      this.outOfOrder++;
      this.missing = Math.max(0, this.missing - 1);
      return { disposition: 'out-of-order', applied: true };
    }
    this.duplicates++;
    return { disposition: 'duplicate', applied: false };
  }

  /** lastSeq moves to `seq`, then over any seqs already seen ahead of it. */
  private advanceTo(seq: number): void {
    this.lastSeq = seq;
    while (this.aheadSeqs.delete(this.lastSeq + 1)) this.lastSeq++;
    for (const s of this.aheadSeqs) if (s <= this.lastSeq) this.aheadSeqs.delete(s);
  }

  view(): SequenceView {
    return {
      lastSeq: this.lastSeq,
      gaps: this.gaps,
      missing: this.missing,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      stale: this.stale,
      lastGap: this.lastGap,
    };
  }

  /** Seqs from `from` up to (not including) `to`; the oldest are forgotten beyond the bound. */
  private rememberMissing(from: number, to: number): void {
    for (let s = from; s < to; s++) if (!this.aheadSeqs.has(s)) this.missingSeqs.add(s);
    for (const s of this.missingSeqs) {
      if (this.missingSeqs.size <= MAX_MISSING_REMEMBERED) break;
      this.missingSeqs.delete(s);
    }
  }
}
