/**
 * Why this process started: a small marker file in dataDir says whether the previous run stopped cleanly, and the
 * kernel's boot id stored beside it tells a process crash from a restart of the whole system (power loss).
 *
 * File format, one line: `running <kernel-boot-id>` while the terminal runs, `clean <kernel-boot-id>` after a clean
 * stop. No file = first run on this data directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wire } from './wire.js';
import { writeFileAtomically } from '../util/durable-file.js';

export const MARKER_FILE = 'run-marker';
export const KERNEL_BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
/** Stored when the kernel boot id cannot be read, so a later comparison does not take it for a restart. */
const UNKNOWN = 'unknown';

export type BootReasonName = 'first' | 'clean' | 'crash' | 'power-loss';

export const BOOT_REASON_WIRE: Record<BootReasonName, number> = {
  first: wire.BootReason.BOOT_REASON_FIRST,
  clean: wire.BootReason.BOOT_REASON_CLEAN,
  crash: wire.BootReason.BOOT_REASON_CRASH,
  'power-loss': wire.BootReason.BOOT_REASON_POWER_LOSS,
};

export interface RunMarkerOptions {
  /** Where the kernel boot id is read (tests point it at a file of their own). */
  kernelBootIdPath?: string;
}

/** The decision, from what the previous run left behind and the current kernel boot id. */
export function bootReasonFrom(previous: string | undefined, kernelBootId: string | undefined): BootReasonName {
  if (previous === undefined) return 'first';
  const [state, storedBootId] = previous.trim().split(/\s+/);
  if (state === 'clean') return 'clean';
  // Anything else (running, or a file torn by a power cut) means the previous run did not stop cleanly.
  const known = (id: string | undefined) => id !== undefined && id !== UNKNOWN;
  const systemRestarted = known(storedBootId) && known(kernelBootId) && storedBootId !== kernelBootId;
  return systemRestarted ? 'power-loss' : 'crash';
}

function readKernelBootId(path: string): string | undefined {
  try {
    const id = readFileSync(path, 'utf8').trim();
    return id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Write-then-rename with fsync, so a power cut leaves the old marker or the new one, never half of one. */
function writeAtomically(path: string, text: string): void {
  writeFileAtomically(path, text, { mode: 0o640, tmp: `${path}.tmp` });
}

export class RunMarker {
  readonly path: string;
  readonly reason: BootReasonName;
  private readonly kernelBootId: string;

  private constructor(path: string, reason: BootReasonName, kernelBootId: string) {
    this.path = path;
    this.reason = reason;
    this.kernelBootId = kernelBootId;
  }

  /** Reads the previous run's marker, decides the boot reason, and marks this run as running. */
  static begin(dataDir: string, options: RunMarkerOptions = {}): RunMarker {
    const path = join(dataDir, MARKER_FILE);
    const kernelBootId = readKernelBootId(options.kernelBootIdPath ?? KERNEL_BOOT_ID_PATH);
    const previous = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    const reason = bootReasonFrom(previous, kernelBootId);
    const marker = new RunMarker(path, reason, kernelBootId ?? UNKNOWN);
    writeAtomically(path, `running ${marker.kernelBootId}\n`);
    return marker;
  }

  /** The clean stop: the next start reads "clean". */
  clean(): void {
    writeAtomically(this.path, `clean ${this.kernelBootId}\n`);
  }
}
