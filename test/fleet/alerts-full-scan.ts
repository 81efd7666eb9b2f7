/**
 * The alert engine as it was before it became incremental, kept as the oracle of the property test: every check
 * evaluates every rule for every terminal. Copied unchanged but for its name and imports.
 *
 * Alert rules over the fleet picture, evaluated after every message for the terminal it came from and on a timer for
 * all terminals (conditions that become true or false only as time passes: silence, ageing queues, windows sliding).
 *
 * Each (rule, terminal) pair is an alert that is either raised or not. It is reported once when its condition starts
 * and once when it has cleared; to keep a value hovering at a threshold from raising and clearing on every message,
 * a raised alert clears only after its condition has stayed false for `clearAfterMs`, and a duration in a rule
 * ("for longer than T") applies to raising only: a raised alert stays while the underlying condition holds.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { TerminalMessage } from '../../src/fleet/decode.js';
import type { Alert, AlertRule } from '../../src/fleet/alerts.js';
import type { FleetState, IngestResult, TerminalView } from '../../src/fleet/state.js';

interface AlertEngineOptions {
  rules: readonly AlertRule[];
  state: FleetState;
  clock: Clock;
  onAlert: (alert: Alert) => void;
  /** How often every terminal is re-evaluated; default 5 s. */
  checkIntervalMs?: number;
  /** How long a condition must stay false before its alert clears; default 60 s. */
  clearAfterMs?: number;
}

const DEFAULT_CHECK_INTERVAL_MS = 5_000;
const DEFAULT_CLEAR_AFTER_MS = 60_000;

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
  detail: string;
}

interface AlertSlot {
  raised: boolean;
  /** When the condition was last seen false while raised (pending clear), else null. */
  falseSince: number | null;
}

/** Names rules without one (`event-burst E101`, `unreachable`…), numbering repeats so each name is unique. */
function ruleNames(rules: readonly AlertRule[]): string[] {
  const names: string[] = [];
  for (const rule of rules) {
    const base = rule.name ?? (rule.type === 'event-burst' ? `event-burst ${rule.code}` : rule.type);
    let name = base;
    for (let n = 2; names.includes(name); n++) name = `${base} #${n}`;
    names.push(name);
  }
  return names;
}

export class FullScanAlertEngine {
  private readonly rules: readonly AlertRule[];
  private readonly names: string[];
  private readonly state: FleetState;
  private readonly clock: Clock;
  private readonly onAlert: (alert: Alert) => void;
  private readonly checkIntervalMs: number;
  private readonly clearAfterMs: number;
  /** rule index → terminal key → event times. */
  private readonly events = new Map<number, Map<string, number[]>>();
  /** rule index → terminal key → since when pending reversals have been above the limit. */
  private readonly aboveSince = new Map<number, Map<string, number>>();
  /** `${rule index} ${terminal key}` → alert slot. */
  private readonly slots = new Map<string, AlertSlot>();
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

  /** Re-evaluates every checkIntervalMs until stop(); the state forgets what has aged out on the same beat. */
  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      const at = this.clock.now();
      this.state.prune(at);
      this.evaluate(at);
      this.timer = this.clock.setTimeout(tick, this.checkIntervalMs);
    };
    this.timer = this.clock.setTimeout(tick, this.checkIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** Call after FleetState.ingest: records what the rules count, then evaluates that terminal. */
  observe(msg: TerminalMessage, result: IngestResult): Alert[] {
    if (result.applied && msg.type === 'event') {
      const at = result.eventAt ?? this.clock.now();
      this.rules.forEach((rule, i) => {
        if (rule.type !== 'event-burst' || rule.code !== msg.code) return;
        let byTerminal = this.events.get(i);
        if (!byTerminal) {
          byTerminal = new Map();
          this.events.set(i, byTerminal);
        }
        const times = byTerminal.get(result.key) ?? [];
        times.push(at);
        times.sort((a, b) => a - b);
        if (times.length > MAX_EVENTS_REMEMBERED) times.splice(0, times.length - MAX_EVENTS_REMEMBERED);
        byTerminal.set(result.key, times);
      });
    }
    const view = this.state.terminal(result.fleet, result.terminalId);
    return view ? this.evaluateTerminal(view, this.clock.now()) : [];
  }

  /** Evaluates every rule for every terminal; returns (and reports) the alerts that changed. */
  evaluate(at = this.clock.now()): Alert[] {
    return this.state.terminals(at).flatMap((view) => this.evaluateTerminal(view, at));
  }

  /** Alerts raised now. */
  active(): { rule: string; key: string }[] {
    const out: { rule: string; key: string }[] = [];
    for (const [slotKey, slot] of this.slots) {
      if (!slot.raised) continue;
      const space = slotKey.indexOf(' ');
      out.push({ rule: this.names[Number(slotKey.slice(0, space))] ?? '', key: slotKey.slice(space + 1) });
    }
    return out;
  }

  private evaluateTerminal(view: TerminalView, at: number): Alert[] {
    const changed: Alert[] = [];
    this.rules.forEach((rule, i) => {
      const cond = this.condition(rule, i, view, at);
      const slotKey = `${i} ${view.key}`;
      const slot = this.slots.get(slotKey) ?? { raised: false, falseSince: null };
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
      this.slots.set(slotKey, slot);
      if (report) {
        const alert: Alert = {
          at,
          state: report,
          rule: this.names[i] ?? rule.type,
          type: rule.type,
          key: view.key,
          fleet: view.fleet,
          terminalId: view.terminalId,
          value: cond.value,
          message: cond.detail,
        };
        changed.push(alert);
        this.onAlert(alert);
      }
    });
    return changed;
  }

  private condition(rule: AlertRule, i: number, view: TerminalView, at: number): Condition {
    switch (rule.type) {
      case 'event-burst': {
        const windowMs = rule.withinMinutes * MINUTE;
        const times = this.events.get(i)?.get(view.key) ?? [];
        while (times.length > 0 && (times[0] ?? 0) <= at - windowMs) times.shift();
        const count = times.filter((t) => t <= at).length;
        return {
          active: count > rule.moreThan,
          sustained: count > rule.moreThan,
          value: count,
          detail: `${count} ${rule.code} event${count === 1 ? '' : 's'} within ${minutes(windowMs)} (limit ${rule.moreThan})`,
        };
      }
      case 'unreachable': {
        const since = view.unreachableSince;
        const forMs = since === null ? 0 : at - since;
        const what = view.status === 'offline' ? 'offline' : view.status === 'silent' ? 'silent' : 'reachable';
        return {
          active: since !== null && forMs > rule.longerThanMinutes * MINUTE,
          sustained: since !== null,
          value: forMs / MINUTE,
          detail:
            since === null
              ? `reachable again (${view.status})`
              : `${what} for ${minutes(forMs)} (limit ${minutes(rule.longerThanMinutes * MINUTE)})`,
        };
      }
      case 'saf-age': {
        const saf = view.health?.storeAndForward;
        const age = saf?.oldestAgeNowMs ?? 0;
        return {
          active: age > rule.aboveHours * HOUR,
          sustained: age > rule.aboveHours * HOUR,
          value: age / HOUR,
          detail: `oldest store-and-forward sale ${hours(age)} old, ${saf?.depth ?? 0} queued (limit ${hours(rule.aboveHours * HOUR)})`,
        };
      }
      case 'pending-reversals': {
        let byTerminal = this.aboveSince.get(i);
        if (!byTerminal) {
          byTerminal = new Map();
          this.aboveSince.set(i, byTerminal);
        }
        const pending = view.health?.pendingReversals ?? 0;
        let since = byTerminal.get(view.key);
        if (pending > rule.above) {
          if (since === undefined) {
            since = view.health?.receivedAt ?? at;
            byTerminal.set(view.key, since);
          }
        } else {
          byTerminal.delete(view.key);
          since = undefined;
        }
        const forMs = since === undefined ? 0 : at - since;
        return {
          active: since !== undefined && forMs > rule.longerThanMinutes * MINUTE,
          sustained: since !== undefined,
          value: pending,
          detail:
            `${pending} pending reversal${pending === 1 ? '' : 's'}` +
            (since === undefined
              ? ` (limit ${rule.above})`
              : ` for ${minutes(forMs)} (limit ${rule.above} for ${minutes(rule.longerThanMinutes * MINUTE)})`),
        };
      }
    }
  }
}

function minutes(ms: number): string {
  const m = ms / MINUTE;
  return `${Number.isInteger(m) ? m : m.toFixed(1)} min`;
}

function hours(ms: number): string {
  const h = ms / HOUR;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}
