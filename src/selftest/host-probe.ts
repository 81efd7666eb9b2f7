/**
 * Host reachability probe: an 0800 echo through the acquirer client every intervalMs, recording the round trip and,
 * from field 7 of the 0810, how far our clock is from the host's. The self-test and the health telemetry read
 * last(); listeners hear when the host becomes reachable or unreachable.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../../hal/events.js';
import { HostError, type AcquirerClient } from '../acquirer/acquirer-client.js';
import { buildEcho } from '../iso8583/index.js';

export interface ProbeResult {
  /** The host answered the echo (whatever its response code). */
  ok: boolean;
  rttMs?: number;
  /** Clock time the echo was sent. */
  at: number;
  /** Host time minus ours, to within the 1 s resolution of field 7. Absent when the host sent no usable field 7. */
  skewMs?: number;
  /** Field 39 of the 0810. */
  responseCode?: string;
  error?: string;
}

export interface HostProbeEvents {
  /** The first result, and every later one whose `ok` differs from the one before. */
  reachability: { reachable: boolean; result: ProbeResult; previous?: ProbeResult };
}

export interface HostProbeOptions {
  acquirer: AcquirerClient;
  clock: Clock;
  terminalId: string;
  /** Echo STANs share the terminal's sequence, so they never collide with a transaction in flight. */
  nextStan: () => number;
  /** Default 60 s. */
  intervalMs?: number;
  /** Response timeout for one echo; default 10 s. */
  timeoutMs?: number;
}

export class HostProbe {
  private readonly events = new TypedEmitter<HostProbeEvents>();
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private result: ProbeResult | undefined;
  private inFlight: Promise<ProbeResult> | undefined;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly options: HostProbeOptions) {
    this.intervalMs = Math.max(1, options.intervalMs ?? 60_000);
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 10_000);
  }

  on<E extends keyof HostProbeEvents>(event: E, listener: Listener<HostProbeEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** The latest result; undefined until the first echo has finished (unknown is not the same as unreachable). */
  last(): ProbeResult | undefined {
    return this.result === undefined ? undefined : { ...this.result };
  }

  /** Echo at once, then every intervalMs (measured from the end of one echo to the start of the next). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One echo now; joins the echo already in flight rather than sending a second. Never rejects. */
  probeNow(): Promise<ProbeResult> {
    this.inFlight ??= this.echo().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async tick(): Promise<void> {
    await this.probeNow();
    if (!this.running) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.running) void this.tick();
    }, this.intervalMs);
  }

  private async echo(): Promise<ProbeResult> {
    const { clock, acquirer, terminalId } = this.options;
    const at = clock.now();
    let result: ProbeResult;
    try {
      const request = buildEcho({ stan: this.options.nextStan(), terminalId, transmittedAt: new Date(at) });
      const reply = await acquirer.send(request, { timeoutMs: this.timeoutMs });
      const answeredAt = clock.now();
      // A wall clock stepped backwards mid-echo must not give a negative round trip.
      const rttMs = Math.max(0, answeredAt - at);
      result = { ok: true, rttMs, at, responseCode: reply.responseCode };
      const skewMs = estimateSkew(reply.transmittedAt, at + rttMs / 2);
      if (skewMs !== undefined) result.skewMs = skewMs;
    } catch (err) {
      result = {
        ok: false,
        at,
        error: err instanceof HostError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err),
      };
    }
    this.record(result);
    return { ...result };
  }

  private record(result: ProbeResult): void {
    const previous = this.result;
    this.result = result;
    if (previous === undefined || previous.ok !== result.ok) {
      this.events.emit('reachability', {
        reachable: result.ok,
        result: { ...result },
        ...(previous ? { previous: { ...previous } } : {}),
      });
    }
  }
}

/**
 * Host time minus ours. Field 7 is MMDDhhmmss in UTC without a year, so the year is the one that puts the host's
 * time nearest ours (an echo across New Year's Eve still reads right). Undefined for a malformed field 7.
 */
export function estimateSkew(field7: string | undefined, ourMs: number): number | undefined {
  if (field7 === undefined) return undefined;
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(field7);
  if (!m) return undefined;
  const [month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const year = new Date(ourMs).getUTCFullYear();
  let best: number | undefined;
  for (const y of [year - 1, year, year + 1]) {
    const hostMs = Date.UTC(y, month - 1, day, hour, minute, second);
    // Date.UTC rolls 31 February into March: such a field 7 is malformed, not a date.
    if (new Date(hostMs).getUTCDate() !== day) continue;
    const skew = hostMs - ourMs;
    if (best === undefined || Math.abs(skew) < Math.abs(best)) best = skew;
  }
  return best === undefined ? undefined : Math.round(best);
}
