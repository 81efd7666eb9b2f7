/**
 * Alert rules over the fleet picture, evaluated after every message for the terminal it came from, and on a timer
 * for the conditions that become true or false only as time passes (silence, ageing queues, windows sliding). The
 * timer does not scan the fleet: each evaluation also says when that terminal's rules could next change on their
 * own (a silence starting, a duration passing, an event leaving its window, a pending clear), and a deadline index
 * hands each check only the terminals whose time has come. The alerts are the same as evaluating every terminal on
 * every check, at the same checks (a property test holds the two side by side).
 *
 * Each (rule, terminal) pair is an alert that is either raised or not. It is reported once when its condition starts
 * and once when it has cleared; to keep a value hovering at a threshold from raising and clearing on every message,
 * a raised alert clears only after its condition has stayed false for `clearAfterMs`, and a duration in a rule
 * ("for longer than T") applies to raising only: a raised alert stays while the underlying condition holds.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { TerminalMessage } from './decode.js';
import { DeadlineIndex } from './deadlines.js';
import type { FleetState, IngestResult, TerminalFacts } from './state.js';

export type AlertRule =
  /** More than `moreThan` events with `code` within `withinMinutes` for one terminal. */
  | { type: 'event-burst'; name?: string; code: string; moreThan: number; withinMinutes: number }
  /** Offline or silent for longer than `longerThanMinutes`. */
  | { type: 'unreachable'; name?: string; longerThanMinutes: number }
  /** The oldest store-and-forward sale waiting for longer than `aboveHours`. */
  | { type: 'saf-age'; name?: string; aboveHours: number }
  /** More than `above` pending reversals for longer than `longerThanMinutes`. */
  | { type: 'pending-reversals'; name?: string; above: number; longerThanMinutes: number };

export type AlertRuleType = AlertRule['type'];

export interface Alert {
  at: number;
  state: 'raised' | 'cleared';
  rule: string;
  type: AlertRuleType;
  key: string;
  fleet: string;
  terminalId: string;
  /** What the rule measures, now: an event count, minutes unreachable, hours of queue age, pending reversals. */
  value: number;
  message: string;
}

export interface AlertEngineOptions {
  rules: readonly AlertRule[];
  state: FleetState;
  clock: Clock;
  onAlert: (alert: Alert) => void;
  /** How often every terminal is re-evaluated; default 5 s. */
  checkIntervalMs?: number;
  /** How long a condition must stay false before its alert clears; default 60 s. */
  clearAfterMs?: number;
}

export const DEFAULT_CHECK_INTERVAL_MS = 5_000;
export const DEFAULT_CLEAR_AFTER_MS = 60_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Events remembered per rule and terminal; enough for any sane "more than N" threshold. */
const MAX_EVENTS_REMEMBERED = 10_000;

interface Condition {
  /** Raise now. */
  active: boolean;
  /** Stay raised: the condition without its duration (an alert for "above K for 30 min" stays while above K). */
  sustained: boolean;
  value: number;
}

interface AlertSlot {
  raised: boolean;
  /** When the condition was last seen false while raised (pending clear), else null. */
  falseSince: number | null;
}

/** What the engine keeps per terminal: a slot per rule, and what the rules count. */
interface TerminalAlerts {
  key: string;
  fleet: string;
  terminalId: string;
  slots: AlertSlot[];
  /** Per event-burst rule: event times, ascending. */
  events: (number[] | undefined)[];
  /** Per pending-reversals rule: since when the count has been above the limit. */
  aboveSince: (number | undefined)[];
}

/** Names rules without one (`event-burst E101`, `unreachable`…), numbering repeats so each name is unique. */
export function ruleNames(rules: readonly AlertRule[]): string[] {
  const names: string[] = [];
  for (const rule of rules) {
    const base = rule.name ?? (rule.type === 'event-burst' ? `event-burst ${rule.code}` : rule.type);
    let name = base;
    for (let n = 2; names.includes(name); n++) name = `${base} #${n}`;
    names.push(name);
  }
  return names;
}

/** Sorted insert: events mostly arrive in time order, so this is a push. */
function insertSorted(times: number[], at: number): void {
  let i = times.length;
  while (i > 0 && (times[i - 1] as number) > at) i--;
  times.splice(i, 0, at);
}

export class AlertEngine {
  private readonly rules: readonly AlertRule[];
  private readonly names: string[];
  private readonly state: FleetState;
  private readonly clock: Clock;
  private readonly onAlert: (alert: Alert) => void;
  private readonly checkIntervalMs: number;
  private readonly clearAfterMs: number;
  private readonly byTerminal = new Map<string, TerminalAlerts>();
  /** Terminals by the next time one of their rules could change without a message. */
  private readonly deadlines = new DeadlineIndex();
  private timer: TimerHandle | null = null;

  constructor(opts: AlertEngineOptions) {
    this.rules = opts.rules;
    this.names = ruleNames(opts.rules);
    this.state = opts.state;
    this.clock = opts.clock;
    this.onAlert = opts.onAlert;
    this.checkIntervalMs = opts.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
    this.clearAfterMs = opts.clearAfterMs ?? DEFAULT_CLEAR_AFTER_MS;
  }

  /** Checks what fell due every checkIntervalMs until stop(); the state forgets what has aged out on the same beat. */
  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      const at = this.clock.now();
      this.state.prune(at);
      this.evaluateDue(at);
      this.timer = this.clock.setTimeout(tick, this.checkIntervalMs);
    };
    this.timer = this.clock.setTimeout(tick, this.checkIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** Call after FleetState.ingest, for every message: records what the rules count, then evaluates that terminal. */
  observe(msg: TerminalMessage, result: IngestResult): Alert[] {
    const t = this.entry(result.key, result.fleet, result.terminalId);
    if (result.applied && msg.type === 'event') {
      const at = result.eventAt ?? this.clock.now();
      for (let i = 0; i < this.rules.length; i++) {
        const rule = this.rules[i] as AlertRule;
        if (rule.type !== 'event-burst' || rule.code !== msg.code) continue;
        let times = t.events[i];
        if (times === undefined) {
          times = [];
          t.events[i] = times;
        }
        insertSorted(times, at);
        if (times.length > MAX_EVENTS_REMEMBERED) times.splice(0, times.length - MAX_EVENTS_REMEMBERED);
      }
    }
    return this.evaluateTerminal(t, this.clock.now());
  }

  /** The terminals whose deadline has passed by `at`, evaluated in terminal order; returns the alerts that changed. */
  evaluateDue(at = this.clock.now()): Alert[] {
    const due = this.deadlines.takeDue(at).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const changed: Alert[] = [];
    for (const key of due) {
      const t = this.byTerminal.get(key);
      if (t !== undefined) for (const alert of this.evaluateTerminal(t, at)) changed.push(alert);
    }
    return changed;
  }

  /** Evaluates every rule for every terminal (a full re-evaluation); returns (and reports) the alerts that changed. */
  evaluate(at = this.clock.now()): Alert[] {
    const changed: Alert[] = [];
    for (const view of this.state.terminals(at)) {
      const t = this.entry(view.key, view.fleet, view.terminalId);
      for (const alert of this.evaluateTerminal(t, at)) changed.push(alert);
    }
    return changed;
  }

  /** Alerts raised now. */
  active(): { rule: string; key: string }[] {
    const out: { rule: string; key: string }[] = [];
    for (const t of this.byTerminal.values())
      t.slots.forEach((slot, i) => {
        if (slot.raised) out.push({ rule: this.names[i] ?? '', key: t.key });
      });
    return out;
  }

  /** How many terminals wait in the deadline index (for metrics and tests). */
  get scheduled(): number {
    return this.deadlines.size;
  }

  private entry(key: string, fleet: string, terminalId: string): TerminalAlerts {
    let t = this.byTerminal.get(key);
    if (t === undefined) {
      t = {
        key,
        fleet,
        terminalId,
        slots: this.rules.map(() => ({ raised: false, falseSince: null })),
        events: [],
        aboveSince: [],
      };
      this.byTerminal.set(key, t);
    }
    return t;
  }

  private evaluateTerminal(t: TerminalAlerts, at: number): Alert[] {
    const facts = this.state.facts(t.key, at);
    // Forgotten by the state: it no longer raises alerts (what is raised stays, as with a full re-evaluation).
    if (facts === undefined) return [];
    const changed: Alert[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as AlertRule;
      const slot = t.slots[i] as AlertSlot;
      const cond = this.condition(rule, i, t, facts, at);
      let report: Alert['state'] | null = null;
      if (cond.active && !slot.raised) {
        slot.raised = true;
        slot.falseSince = null;
        report = 'raised';
      } else if (slot.raised && cond.sustained) {
        slot.falseSince = null;
      } else if (slot.raised) {
        slot.falseSince ??= at;
        if (at - slot.falseSince >= this.clearAfterMs) {
          slot.raised = false;
          slot.falseSince = null;
          report = 'cleared';
        }
      }
      // When this rule could next change for this terminal if no message comes.
      let candidate = this.nextChange(rule, i, t, facts, at);
      if (slot.raised && slot.falseSince !== null) candidate = Math.min(candidate, slot.falseSince + this.clearAfterMs);
      if (candidate < next) next = candidate;
      if (report) {
        const alert: Alert = {
          at,
          state: report,
          rule: this.names[i] ?? rule.type,
          type: rule.type,
          key: t.key,
          fleet: t.fleet,
          terminalId: t.terminalId,
          value: cond.value,
          message: this.detail(rule, i, t, facts, at, cond),
        };
        changed.push(alert);
        this.onAlert(alert);
      }
    }
    this.deadlines.schedule(t.key, next);
    return changed;
  }

  private condition(rule: AlertRule, i: number, t: TerminalAlerts, f: TerminalFacts, at: number): Condition {
    switch (rule.type) {
      case 'event-burst': {
        const windowMs = rule.withinMinutes * MINUTE;
        const times = t.events[i];
        let count = 0;
        if (times !== undefined) {
          let drop = 0;
          while (drop < times.length && (times[drop] as number) <= at - windowMs) drop++;
          if (drop > 0) times.splice(0, drop);
          for (const time of times) if (time <= at) count++;
        }
        return { active: count > rule.moreThan, sustained: count > rule.moreThan, value: count };
      }
      case 'unreachable': {
        const since = f.unreachableSince;
        const forMs = since === null ? 0 : at - since;
        return {
          active: since !== null && forMs > rule.longerThanMinutes * MINUTE,
          sustained: since !== null,
          value: forMs / MINUTE,
        };
      }
      case 'saf-age': {
        const age = safAge(f, at);
        return { active: age > rule.aboveHours * HOUR, sustained: age > rule.aboveHours * HOUR, value: age / HOUR };
      }
      case 'pending-reversals': {
        const pending = f.pendingReversals;
        let since = t.aboveSince[i];
        if (pending > rule.above) {
          if (since === undefined) {
            since = f.healthReceivedAt ?? at;
            t.aboveSince[i] = since;
          }
        } else {
          t.aboveSince[i] = undefined;
          since = undefined;
        }
        const forMs = since === undefined ? 0 : at - since;
        return {
          active: since !== undefined && forMs > rule.longerThanMinutes * MINUTE,
          sustained: since !== undefined,
          value: pending,
        };
      }
    }
  }

  /**
   * The earliest time when the rule's condition can change with no message; Infinity if never. A change that holds
   * from its time on ("at or after") counts only after `at`; one that holds just past its time ("longer than")
   * counts from `at` itself, so a check at the very limit is followed by a look at the next check.
   */
  private nextChange(rule: AlertRule, i: number, t: TerminalAlerts, f: TerminalFacts, at: number): number {
    const INF = Number.POSITIVE_INFINITY;
    const from = (time: number): number => (time > at ? time : INF);
    const past = (time: number): number => (time >= at ? time : INF);
    switch (rule.type) {
      case 'event-burst': {
        const times = t.events[i];
        if (times === undefined || times.length === 0) return INF;
        // The oldest leaves the window; an event stamped after `at` enters it.
        let future = INF;
        for (let k = times.length - 1; k >= 0 && (times[k] as number) > at; k--) future = times[k] as number;
        return Math.min(from((times[0] as number) + rule.withinMinutes * MINUTE), from(future));
      }
      case 'unreachable': {
        const limit = rule.longerThanMinutes * MINUTE;
        if (f.offline) return past((f.unreachableSince as number) + limit);
        return f.silentAt === null ? INF : Math.min(from(f.silentAt), past(f.silentAt + limit));
      }
      case 'saf-age': {
        if (f.safDepth <= 0 || f.healthReceivedAt === null) return INF;
        return past(f.healthReceivedAt + Math.max(0, rule.aboveHours * HOUR - f.safOldestAgeMs));
      }
      case 'pending-reversals': {
        const since = t.aboveSince[i];
        return since === undefined ? INF : past(since + rule.longerThanMinutes * MINUTE);
      }
    }
  }

  /** The alert's words; built only for an alert that is reported. */
  private detail(rule: AlertRule, i: number, t: TerminalAlerts, f: TerminalFacts, at: number, c: Condition): string {
    switch (rule.type) {
      case 'event-burst': {
        const count = c.value;
        return `${count} ${rule.code} event${count === 1 ? '' : 's'} within ${minutes(rule.withinMinutes * MINUTE)} (limit ${rule.moreThan})`;
      }
      case 'unreachable': {
        const since = f.unreachableSince;
        if (since === null)
          return `reachable again (${this.state.terminal(t.fleet, t.terminalId, at)?.status ?? 'gone'})`;
        return `${f.offline ? 'offline' : 'silent'} for ${minutes(at - since)} (limit ${minutes(rule.longerThanMinutes * MINUTE)})`;
      }
      case 'saf-age':
        return `oldest store-and-forward sale ${hours(safAge(f, at))} old, ${f.safDepth} queued (limit ${hours(rule.aboveHours * HOUR)})`;
      case 'pending-reversals': {
        const pending = f.pendingReversals;
        const since = t.aboveSince[i];
        return (
          `${pending} pending reversal${pending === 1 ? '' : 's'}` +
          (since === undefined
            ? ` (limit ${rule.above})`
            : ` for ${minutes(at - since)} (limit ${rule.above} for ${minutes(rule.longerThanMinutes * MINUTE)})`)
        );
      }
    }
  }
}

/** The oldest queued sale's age at `at`: as reported, plus the time since the report while anything is queued. */
function safAge(f: TerminalFacts, at: number): number {
  if (f.safDepth <= 0 || f.healthReceivedAt === null) return 0;
  return f.safOldestAgeMs + Math.max(0, at - f.healthReceivedAt);
}

function minutes(ms: number): string {
  const m = ms / MINUTE;
  return `${Number.isInteger(m) ? m : m.toFixed(1)} min`;
}

function hours(ms: number): string {
  const h = ms / HOUR;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}

/** One line per alert for people and log files: `<ISO time> RAISED|CLEARED <fleet>/<terminal> <rule>: <detail>`. */
export function formatAlert(alert: Alert): string {
  return `${new Date(alert.at).toISOString()} ${alert.state === 'raised' ? 'RAISED ' : 'CLEARED'} ${alert.key} ${alert.rule}: ${alert.message}`;
}
