/**
 * What the devices' own reports mean for sales, kept per device so it never outlives its cause. A 'health' event
 * (hal/reconnect/health.ts) from any device replaces every reason that device had caused, its self-test results
 * included: a reader or pad that comes back, or a printer that reports paper again, clears it at once. Tamper locks at
 * once (E315); only a supervisor's unlock clears that lock, and the self-test it runs must find the device clean.
 */
import type { CardReader } from '../../hal/card-reader/contract.js';
import type { Unsubscribe } from '../../hal/events.js';
import type { DeviceClass } from '../../hal/fault.js';
import type { PinPad } from '../../hal/pin-pad/contract.js';
import type { DeviceHealth } from '../../hal/reconnect/health.js';
import type { Printer } from '../../hal/printer/contract.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { type CheckComponent, LIMITATION, type SelfTestReport, summarize } from '../selftest/selftest.js';
import { DEVICE_LOCK_PREFIX, type SelfTestSummary } from './machine.js';

/** Applied by the terminal machine: `remove` goes from both lists, then the new reasons are added. */
export interface DeviceHealthChange {
  type: 'DEVICE_HEALTH';
  device: DeviceClass;
  remove: string[];
  limitations: string[];
  lockReasons: string[];
}

export const PIN_PAD_MISSING = 'PIN pad not connected: no PIN entry';

const NAMES: Partial<Record<DeviceClass, string>> = { 'card-reader': 'card reader', 'pin-pad': 'PIN pad' };

/** The reasons one health report stands for: a reader that is away stops sales, any other device limits them. */
export function reasonsOf(health: DeviceHealth): { limitations: string[]; lockReasons: string[] } {
  if (health.state === 'ok') return { limitations: [], lockReasons: [] };
  const code = health.code ?? health.state;
  const name = NAMES[health.device] ?? health.device;
  if (health.device === 'card-reader')
    return { limitations: [], lockReasons: [`${DEVICE_LOCK_PREFIX}${name}: ${code}`] };
  if (health.device === 'printer') return { limitations: [LIMITATION.noPrinter], lockReasons: [] };
  if (health.device === 'pin-pad') return { limitations: [PIN_PAD_MISSING], lockReasons: [] };
  return { limitations: [`${name}: ${code}`], lockReasons: [] };
}

export class DeviceHealthBook {
  /** Per device: every string it has put in the machine's lists (self-test ones with their 'self-test: ' prefix). */
  private readonly held = new Map<DeviceClass, Set<string>>();
  /** Per device: what its last health report added (kept across a self-test that does not check it). */
  private readonly reported = new Map<DeviceClass, { limitations: string[]; lockReasons: string[] }>();

  /** A health report: the change for the terminal machine. */
  change(health: DeviceHealth): DeviceHealthChange {
    const remove = [...(this.held.get(health.device) ?? [])];
    const reasons = reasonsOf(health);
    this.reported.set(health.device, reasons);
    this.held.set(health.device, new Set([...reasons.limitations, ...reasons.lockReasons]));
    return { type: 'DEVICE_HEALTH', device: health.device, remove, ...reasons };
  }

  /**
   * A finished self-test: its results stand for the devices it checked (their reports are superseded), and the
   * reports of the devices it did not check (the PIN pad) are carried into the summary the machine takes.
   */
  afterSelfTest(report: SelfTestReport): SelfTestSummary {
    const checked = new Set<CheckComponent>(report.results.map((r) => r.component));
    for (const device of ['card-reader', 'printer'] as const) {
      if (!checked.has(device)) continue;
      const own = summarize(report.results.filter((r) => r.component === device));
      this.reported.delete(device);
      this.held.set(device, new Set([...own.limitations, ...own.lockReasons.map((r) => `self-test: ${r}`)]));
    }
    const limitations = [...report.limitations];
    const lockReasons = [...report.lockReasons];
    const carried: string[] = [];
    for (const reasons of this.reported.values()) {
      limitations.push(...reasons.limitations);
      carried.push(...reasons.lockReasons);
    }
    return {
      limitations: [...new Set(limitations)],
      lockReasons: [...new Set(lockReasons)],
      ...(carried.length > 0 ? { deviceLockReasons: [...new Set(carried)] } : {}),
    };
  }
}

export interface DeviceWatchDeps {
  reader: CardReader;
  pinPad?: PinPad;
  /** The printer reports its own health (paper back, cover closed, unplugged, back again). */
  printer?: Pick<Printer, 'on'>;
  anomalies: AnomalyRecorder;
  /** The change goes to the terminal machine. */
  apply: (change: DeviceHealthChange) => void;
  lock: (reason: string) => void;
}

/** Subscribes to every device's health and tamper events; returns the unsubscribes. */
export function watchDevices(book: DeviceHealthBook, deps: DeviceWatchDeps): Unsubscribe[] {
  const onHealth = (health: DeviceHealth) => deps.apply(book.change(health));
  const onTamper = (device: DeviceClass, reason: string) => {
    // Journaled and published (telemetry listens to every anomaly), then sales stop at once.
    deps.anomalies.raise(
      'reader-tamper',
      { reason: `${NAMES[device]}: ${reason}`, detail: { device } },
      { show: false },
    );
    deps.lock(`${NAMES[device]} tamper: ${reason}`);
  };
  const subscriptions: Unsubscribe[] = [
    deps.reader.on('health', onHealth),
    deps.reader.on('tamper', ({ reason }) => onTamper('card-reader', reason)),
  ];
  if (deps.pinPad) {
    subscriptions.push(
      deps.pinPad.on('health', onHealth),
      deps.pinPad.on('tamper', ({ reason }) => onTamper('pin-pad', reason)),
    );
  }
  if (deps.printer)
    subscriptions.push(deps.printer.on('health', ({ health }) => onHealth({ device: 'printer', ...health })));
  return subscriptions;
}
