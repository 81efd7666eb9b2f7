/**
 * The fleet picture read from the shared store, exact however the broker splits the messages.
 *
 * Consumers on a shared subscription (`$share/<group>/…`) each receive part of every terminal's messages; alone,
 * each would see gaps that are not there and miss restarts and the latest Health. They all write one history
 * store instead, and the picture is folded per terminal from the store: the terminal's messages are put back in
 * the order one consumer alone would have seen them, then fed through the same FleetState that consumer uses.
 *
 * The order: arrival time (then offline States after what arrived with them, then seq), corrected so that within
 * each boot the counted messages stand in seq order: a shared subscription delivers seq 7 to one consumer and seq 8
 * to another, which may receive and write 8 first. A last will (offline State, whose seq is its connection's first)
 * goes after every message of its connection and before the next connection's Birth; retained replays keep their
 * place in time. Each terminal's row in fleet_terminals carries a version
 * that every written batch moves by its count, so refresh() touches only the terminals that received something.
 *
 * The picture covers what the store holds: counts (gaps, restarts) are over the retention period. A purge moves no
 * version, so a terminal folded before a purge keeps the counts from before it until it is next refolded. The cost: a changed
 * terminal whose new messages simply follow the last fold is resumed with them alone; any other change refolds
 * it from all its stored messages (its whole history: a cost paid only on the unusual path).
 */
import type { Clock } from '../../../hal/clock.js';
import type { TerminalMessage } from '../messages.js';
import { FleetState, type FleetStateOptions, type TerminalView, terminalKey } from '../state.js';
import type { FleetHistoryStore, StoredMessage, TerminalVersion } from './store.js';

/** Terminals read back from the store per query. */
const REFOLD_CHUNK = 100;

function isOfflineState(m: StoredMessage): boolean {
  return m.kind === 'state' && (m.data as { online?: unknown } | null)?.online === false;
}

/** In the sequence count: a live message with a boot id and seq that is not an offline State. */
function counted(m: StoredMessage): boolean {
  return m.kind !== 'cmd' && m.bootId !== null && m.seq !== null && !m.retained && !isOfflineState(m);
}

function session(m: StoredMessage): number {
  const s = (m.data as { session?: unknown } | null)?.session;
  return typeof s === 'number' ? s : 0;
}

/**
 * Where a last will stands in its boot's seq order: it ends its connection, so after every message of that
 * connection and before the next connection's first (a Birth or online State with a later session). Null for a
 * will that names no session: it keeps its place in time.
 */
function willPlace(will: StoredMessage, boot: readonly StoredMessage[]): number | null {
  const s = session(will);
  if (s <= 0) return null;
  let next = Number.POSITIVE_INFINITY;
  for (const m of boot)
    if ((m.kind === 'birth' || (m.kind === 'state' && !isOfflineState(m))) && session(m) > s && m.seq !== null)
      next = Math.min(next, m.seq);
  return next - 0.5;
}

/** The messages of one terminal in the order a single consumer would have received them. */
export function foldOrder(messages: readonly StoredMessage[]): StoredMessage[] {
  const out = [...messages].sort(
    (a, b) =>
      a.receivedAt - b.receivedAt ||
      Number(isOfflineState(a)) - Number(isOfflineState(b)) ||
      (a.seq ?? 0) - (b.seq ?? 0) ||
      a.id - b.id,
  );
  const byBoot = new Map<string, StoredMessage[]>();
  for (const m of out) {
    if (m.bootId === null) continue;
    const list = byBoot.get(m.bootId);
    if (list === undefined) byBoot.set(m.bootId, [m]);
    else list.push(m);
  }
  // Each boot's ordered messages (counted ones by seq, wills at their place) take that boot's slots in time order.
  const slots = new Map<string, { at: number; key: number }[]>();
  out.forEach((m, i) => {
    let key: number | null = null;
    if (counted(m)) key = m.seq;
    else if (isOfflineState(m) && m.bootId !== null && !m.retained) key = willPlace(m, byBoot.get(m.bootId) ?? []);
    if (key === null) return;
    const boot = m.bootId ?? '';
    const list = slots.get(boot);
    if (list === undefined) slots.set(boot, [{ at: i, key }]);
    else list.push({ at: i, key });
  });
  for (const list of slots.values()) {
    const inOrder = list
      .map((slot) => ({ m: out[slot.at]!, key: slot.key }))
      .sort((a, b) => a.key - b.key || a.m.receivedAt - b.m.receivedAt);
    list.forEach((slot, k) => {
      out[slot.at] = inOrder[k]!.m;
    });
  }
  return out;
}

/** A stored message that can be folded: a terminal's (not a command), decoded with its header. */
function terminalMessage(m: StoredMessage): TerminalMessage | null {
  const d = m.data as { type?: unknown; header?: { bootId?: unknown; seq?: unknown } } | null;
  if (d === null || typeof d !== 'object' || d.type === 'cmd' || typeof d.type !== 'string') return null;
  if (typeof d.header?.bootId !== 'string' || typeof d.header.seq !== 'number') return null;
  return d as unknown as TerminalMessage;
}

export interface StoredFleetPictureOptions extends Omit<FleetStateOptions, 'trackSequence'> {
  store: Pick<FleetHistoryStore, 'terminalVersions' | 'messagesOf'>;
  clock: Clock;
}

/** How far back a resumed fold looks for what was written since: later-written messages force a full refold. */
const RESUME_TAIL_MS = 60_000;

/** What the picture remembers of a terminal's last fold, to resume it. */
interface Folded {
  version: number;
  /** Latest arrival folded, and the ids folded that arrived within RESUME_TAIL_MS of it. */
  maxReceivedAt: number;
  tail: Map<number, number>;
}

export interface PictureRefresh {
  /** Terminals whose stored messages changed. */
  changed: number;
  /** Of those, folded again from all their messages (the rest had messages added after the fold and were resumed). */
  refolded: number;
}

export class StoredFleetPicture {
  /** The folded state; read it through terminals()/terminal(), or hand it to an alert engine. */
  readonly state: FleetState;
  private readonly folded = new Map<string, Folded>();

  constructor(private readonly opts: StoredFleetPictureOptions) {
    // The store holds every consumer's share, so sequences are tracked even behind a shared subscription.
    this.state = new FleetState({ ...opts, trackSequence: true });
  }

  /**
   * Brings the terminals whose stored messages changed up to date; returns how many changed. A terminal whose new
   * messages all come after what was folded (same boot, higher seq, later arrival: the usual case) is resumed with
   * just those; any other change (a late seq filling a gap, a new boot, a will) refolds it from all its messages.
   */
  async refresh(): Promise<number> {
    return (await this.refreshCounted()).changed;
  }

  async refreshCounted(): Promise<PictureRefresh> {
    const versions = await this.opts.store.terminalVersions();
    const changed = versions.filter((v) => this.folded.get(terminalKey(v.fleet, v.terminalId))?.version !== v.version);
    let refolded = 0;
    for (let i = 0; i < changed.length; i += REFOLD_CHUNK) {
      const chunk = changed.slice(i, i + REFOLD_CHUNK);
      const resumable = chunk.filter((v) => this.folded.has(terminalKey(v.fleet, v.terminalId)));
      const recent = groupByTerminal(
        await this.opts.store.messagesOf(
          resumable.map((v) => ({
            fleet: v.fleet,
            terminalId: v.terminalId,
            since: this.folded.get(terminalKey(v.fleet, v.terminalId))!.maxReceivedAt - RESUME_TAIL_MS,
          })),
        ),
      );
      const full: TerminalVersion[] = [];
      for (const v of chunk) {
        const key = terminalKey(v.fleet, v.terminalId);
        const before = this.folded.get(key);
        if (before === undefined || !this.resume(v, before, recent.get(key) ?? [])) full.push(v);
      }
      if (full.length > 0) {
        const all = groupByTerminal(await this.opts.store.messagesOf(full));
        for (const v of full) this.refold(v, all.get(terminalKey(v.fleet, v.terminalId)) ?? []);
        refolded += full.length;
      }
    }
    return { changed: changed.length, refolded };
  }

  terminals(at = this.opts.clock.now()): TerminalView[] {
    return this.state.terminals(at);
  }

  terminal(fleet: string, terminalId: string, at = this.opts.clock.now()): TerminalView | undefined {
    return this.state.terminal(fleet, terminalId, at);
  }

  private refold(v: TerminalVersion, messages: readonly StoredMessage[]): void {
    this.state.forget(v.fleet, v.terminalId);
    const folded: Folded = { version: v.version, maxReceivedAt: Number.NEGATIVE_INFINITY, tail: new Map() };
    this.apply(foldOrder(messages), folded);
    this.folded.set(terminalKey(v.fleet, v.terminalId), folded);
  }

  /** Folds on from the last fold when exactly the messages written since all come after it; false otherwise. */
  private resume(v: TerminalVersion, folded: Folded, recent: readonly StoredMessage[]): boolean {
    const added = recent.filter((m) => !folded.tail.has(m.id));
    // Some were written later than the tail reaches back (or read in a different moment): cannot tell, refold.
    if (added.length !== v.version - folded.version) return false;
    const view = this.state.terminal(v.fleet, v.terminalId);
    if (view === undefined || view.connection === 'offline' || view.sequence.lastSeq === null) return false;
    const lastSeq = view.sequence.lastSeq;
    for (const m of added) {
      if (m.receivedAt < folded.maxReceivedAt) return false;
      if (counted(m)) {
        if (m.bootId !== view.bootId || m.seq! <= lastSeq) return false;
      } else if (m.receivedAt === folded.maxReceivedAt || (m.bootId !== null && m.bootId !== view.bootId)) {
        return false;
      }
    }
    this.apply(foldOrder(added), folded);
    folded.version = v.version;
    return true;
  }

  private apply(ordered: readonly StoredMessage[], folded: Folded): void {
    for (const m of ordered) {
      folded.maxReceivedAt = Math.max(folded.maxReceivedAt, m.receivedAt);
      folded.tail.set(m.id, m.receivedAt);
      const msg = terminalMessage(m);
      if (msg === null) continue;
      // `historical` goes along for a FleetState that tells backlog from current state.
      const ctx = { receivedAt: m.receivedAt, retained: m.retained, historical: m.historical };
      this.state.ingest(msg, ctx);
    }
    for (const [id, at] of folded.tail) if (at < folded.maxReceivedAt - RESUME_TAIL_MS) folded.tail.delete(id);
  }
}

function groupByTerminal(rows: readonly StoredMessage[]): Map<string, StoredMessage[]> {
  const byTerminal = new Map<string, StoredMessage[]>();
  for (const r of rows) {
    const key = terminalKey(r.fleet, r.terminalId);
    const list = byTerminal.get(key);
    if (list === undefined) byTerminal.set(key, [r]);
    else list.push(r);
  }
  return byTerminal;
}
