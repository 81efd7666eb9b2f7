/**
 * Sends an allow-listed fleet command on an operator's behalf and keeps its audit entry current: written before the
 * command leaves, updated with the terminal's result, a timeout or the failure to send. The sending itself is a
 * port (in `pos-fleet serve`, consumer.ts's sendCommand over the broker), so tests hand in their own.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../hal/clock.js';
import { CommandTimeoutError, type FleetCommand } from '../consumer.js';
import type { CommandResultMessage } from '../decode.js';
import type { AuditEntry, CommandAudit } from './command-audit.js';

export interface CommandRequest {
  fleet: string;
  terminalId: string;
  name: FleetCommand;
  issuedBy: string;
  commandId: string;
}

export type CommandSender = (request: CommandRequest) => Promise<CommandResultMessage>;

export class CommandRunner {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly audit: CommandAudit,
    private readonly send: CommandSender,
    private readonly clock: Clock,
  ) {}

  /** Records and sends; resolves with the entry as first written (outcome "sent"), the result lands later. */
  start(c: Omit<CommandRequest, 'commandId'>): AuditEntry {
    const commandId = randomUUID();
    const entry = this.audit.begin({ ...c, by: c.issuedBy, commandId, at: this.clock.now() });
    const done = this.send({ ...c, commandId })
      .then(
        (r) => {
          const detail = r.ok ? r.message : `${r.error}${r.message ? `: ${r.message}` : ''}`;
          this.audit.finish(commandId, r.ok ? 'ok' : 'failed', this.clock.now(), detail);
        },
        (err: unknown) => {
          const timeout = err instanceof CommandTimeoutError;
          const message = err instanceof Error ? err.message : String(err);
          this.audit.finish(commandId, timeout ? 'timeout' : 'error', this.clock.now(), message);
        },
      )
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    return entry;
  }

  /** Waits for every command still waiting for its result (on shutdown, and in tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
