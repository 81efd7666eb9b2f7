/**
 * Fault scripting shared by the mock drivers: a test or the simulator injects rules, and the mock asks `check` (or
 * `match`) at each operation whether a fault is due. Typed by each device's op and fault-code unions, so only faults
 * the contract names can be injected.
 *
 * Steps: some ops carry a position given by the mock (the printer's 'print-line' passes the 1-based line number
 * within the current document). For ops checked without a step, the step is the number of times that op has been
 * checked since the rule was injected (1 = the next call).
 */
export interface FaultRule<Op extends string, Code extends string> {
  op: Op;
  code: Code;
  /** The rule becomes due once the step reaches this value (1-based). Absent: due at any step. */
  atStep?: number;
  /** How many matching checks the rule fires on. Default 1; Infinity keeps it until clear() (sticky). */
  times?: number;
  /** Message for the resulting fault; the mock supplies one when absent. */
  message?: string;
}

interface ActiveRule<Op extends string, Code extends string> {
  readonly rule: Readonly<FaultRule<Op, Code>>;
  remaining: number;
  /** Checks of this rule's op since injection: the implicit step. */
  seen: number;
}

export class FaultScript<Op extends string, Code extends string> {
  private rules: ActiveRule<Op, Code>[] = [];

  /** Add a rule. Rules are checked in the order they were injected; the first due rule wins. */
  inject(rule: FaultRule<Op, Code>): void {
    const times = rule.times ?? 1;
    // Misuse of the script is a bug in the test or simulator, not a device fault: fail loudly at once.
    if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) {
      throw new RangeError(`fault rule times must be a positive integer or Infinity, got ${times}`);
    }
    if (rule.atStep !== undefined && !(Number.isInteger(rule.atStep) && rule.atStep >= 1)) {
      throw new RangeError(`fault rule atStep must be a positive integer, got ${rule.atStep}`);
    }
    this.rules.push({ rule: { ...rule }, remaining: times, seen: 0 });
  }

  /** Drop every rule, or only those for one op. */
  clear(op?: Op): void {
    this.rules = op === undefined ? [] : this.rules.filter((r) => r.rule.op !== op);
  }

  /** Rules not yet used up, with the number of firings left. */
  pending(): Array<Readonly<FaultRule<Op, Code>> & { remaining: number }> {
    return this.rules.map((r) => ({ ...r.rule, remaining: r.remaining }));
  }

  /** The fault code due for this op at this step, consuming one firing of the rule; undefined when none is due. */
  check(op: Op, step?: number): Code | undefined {
    return this.match(op, step)?.code;
  }

  /** Like check, but returns the whole rule (for its message). */
  match(op: Op, step?: number): Readonly<FaultRule<Op, Code>> | undefined {
    let hit: ActiveRule<Op, Code> | undefined;
    for (const active of this.rules) {
      if (active.rule.op !== op) continue;
      // Every rule for the op counts the check, so implicit steps stay true to the call count.
      active.seen += 1;
      if (hit) continue;
      const at = step ?? active.seen;
      if (active.rule.atStep === undefined || at >= active.rule.atStep) hit = active;
    }
    if (!hit) return undefined;
    hit.remaining -= 1;
    if (hit.remaining <= 0) this.rules = this.rules.filter((r) => r !== hit);
    return hit.rule;
  }
}
