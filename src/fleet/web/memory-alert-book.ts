/**
 * An AlertBook held in memory, fed by the alert engine: what `pos-fleet serve` shows when no persistent book is
 * configured. One record per raise of a (rule, terminal) pair; a clear closes the open record. Bounded: the oldest
 * cleared records are forgotten first.
 */
import type { Clock } from '../../../hal/clock.js';
import type { Alert } from '../alerts.js';
import type { AlertBook, AlertListQuery, AlertRecord } from '../ports.js';

export class MemoryAlertBook implements AlertBook {
  private readonly records = new Map<string, AlertRecord>();
  /** `${rule} ${fleet}/${terminal}` → id of its record that is not cleared yet. */
  private readonly current = new Map<string, string>();
  private next = 1;

  constructor(
    private readonly clock: Clock,
    private readonly maxRecords = 10_000,
  ) {}

  async record(alert: Alert, evidence?: Record<string, unknown>): Promise<AlertRecord> {
    const slot = `${alert.rule} ${alert.key}`;
    const openId = this.current.get(slot);
    const open = openId === undefined ? undefined : this.records.get(openId);
    if (alert.state === 'cleared') {
      if (open) {
        open.state = 'cleared';
        open.clearedAt = alert.at;
        open.value = alert.value;
        open.message = alert.message;
        this.current.delete(slot);
        return { ...open };
      }
    } else if (open) {
      open.value = alert.value;
      open.message = alert.message;
      return { ...open };
    }
    const rec: AlertRecord = {
      id: `A${this.next++}`,
      rule: alert.rule,
      type: alert.type,
      fleet: alert.fleet,
      terminalId: alert.terminalId,
      state: alert.state === 'raised' ? 'open' : 'cleared',
      raisedAt: alert.at,
      clearedAt: alert.state === 'cleared' ? alert.at : null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      acknowledgeNote: null,
      value: alert.value,
      message: alert.message,
      evidence: evidence ?? null,
    };
    this.records.set(rec.id, rec);
    if (rec.state === 'open') this.current.set(slot, rec.id);
    this.trim();
    return { ...rec };
  }

  async list(query: AlertListQuery): Promise<AlertRecord[]> {
    const out: AlertRecord[] = [];
    let skipped = 0;
    const offset = query.offset ?? 0;
    // Newest first: the map keeps insertion order, so walk it backwards.
    const all = [...this.records.values()];
    for (let i = all.length - 1; i >= 0 && out.length < query.limit; i--) {
      const r = all[i];
      if (!r) continue;
      if (query.states && !query.states.includes(r.state)) continue;
      if (query.fleet !== undefined && r.fleet !== query.fleet) continue;
      if (query.terminalId !== undefined && r.terminalId !== query.terminalId) continue;
      if (skipped++ < offset) continue;
      out.push({ ...r });
    }
    return out;
  }

  async acknowledge(id: string, by: string, note?: string): Promise<AlertRecord | undefined> {
    const rec = this.records.get(id);
    if (!rec) return undefined;
    if (rec.acknowledgedAt === null) {
      rec.acknowledgedAt = this.clock.now();
      rec.acknowledgedBy = by;
      rec.acknowledgeNote = note ?? null;
      if (rec.state === 'open') rec.state = 'acknowledged';
    }
    return { ...rec };
  }

  private trim(): void {
    if (this.records.size <= this.maxRecords) return;
    for (const [id, r] of this.records) {
      if (this.records.size <= this.maxRecords) break;
      if (r.state === 'cleared') this.records.delete(id);
    }
  }
}
