/**
 * Health sampling: what a Health message says, gathered from the terminal (its status and last self-test), the
 * counts the publisher keeps of what it has seen (outcomes, anomalies), the network and host probe, and this
 * process (memory, CPU since the last sample, disk free, uptime).
 */
import { statfsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../hal/clock.js';
import type { NetworkState } from '../../hal/network/contract.js';
import type { ProbeResult } from '../selftest/host-probe.js';
import type { SelfTestReport } from '../selftest/selftest.js';
import type { TerminalStatus } from '../terminal/terminal.js';
import { componentSignature, type HealthFacts } from './messages.js';

export interface HealthSamplerOptions {
  source: { status(): TerminalStatus; readonly lastSelfTest: SelfTestReport | undefined };
  clock: Clock;
  bootedAtMs: number;
  /** For disk free in Health. */
  dataDir?: string;
  network?: { current(): NetworkState };
  probe?: { last(): ProbeResult | undefined };
}

export class HealthSampler {
  private readonly outcomes = new Map<string, number>();
  private readonly anomalyCounts = new Map<string, number>();
  /** Boot and later self-tests go through the same states; after the first ready, degraded or locked it is booted. */
  private booted = false;
  private components = '';
  private cpu = { usage: process.cpuUsage(), at: performance.now() };

  constructor(private readonly o: HealthSamplerOptions) {}

  /** Remembers the components of the self-test the terminal has now (at start). */
  begin(): void {
    this.components = componentSignature(this.o.source.lastSelfTest);
  }

  countOutcome(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  countAnomaly(code: string): void {
    this.anomalyCounts.set(code, (this.anomalyCounts.get(code) ?? 0) + 1);
  }

  noteState(state: string): void {
    if (state === 'ready' || state === 'degraded' || state === 'locked') this.booted = true;
  }

  /** Whether this self-test changed any component's status (then a Health is worth sending). */
  noteSelfTest(report: SelfTestReport | undefined): boolean {
    const signature = componentSignature(report);
    if (signature === this.components) return false;
    this.components = signature;
    return true;
  }

  /** The facts of one Health, now; the publisher adds what only it knows (its drops and outbox depth). */
  sample(outbox: Pick<HealthFacts, 'dropped' | 'outboxDepth'>): HealthFacts {
    const { source } = this.o;
    const memory = process.memoryUsage();
    const now = performance.now();
    const usage = process.cpuUsage();
    const cpuMs = (usage.user - this.cpu.usage.user + usage.system - this.cpu.usage.system) / 1000;
    const wallMs = now - this.cpu.at;
    this.cpu = { usage, at: now };
    return {
      status: source.status(),
      booted: this.booted,
      selfTest: source.lastSelfTest,
      outcomes: this.outcomes,
      anomalies: this.anomalyCounts,
      network: this.o.network?.current(),
      hostRttMs: this.o.probe?.last()?.rttMs,
      resources: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        cpuPercent: wallMs > 0 ? Math.round((cpuMs / wallMs) * 1000) / 10 : 0,
        diskFreeBytes: this.diskFree(),
        uptimeS: Math.max(0, Math.floor((this.o.clock.now() - this.o.bootedAtMs) / 1000)),
      },
      dropped: { ...outbox.dropped },
      outboxDepth: outbox.outboxDepth,
    };
  }

  private diskFree(): number {
    if (!this.o.dataDir) return 0;
    try {
      const fs = statfsSync(this.o.dataDir);
      return fs.bavail * fs.bsize;
    } catch {
      return 0;
    }
  }
}
