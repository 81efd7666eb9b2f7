/**
 * A CPU budget for one benchmark process: a cgroup whose CPU quota holds the process to a share of one core
 * (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`). With each consumer held to the same budget, two consumers on a
 * shared subscription can be compared with one on a machine with fewer cores than processes: the figure then says
 * how the split scales, not how many cores were free. Needs root and a writable cgroup tree; otherwise it says why
 * not and the benchmark reports the budgeted runs as skipped.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PERIOD_US = 100_000;

export interface CpuBudget {
  readonly share: number;
  add(pid: number): void;
  remove(): void;
}

function v2Root(): string | null {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const controllers = join(root, 'cgroup.controllers');
    if (existsSync(controllers) && readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu')) return root;
  }
  return null;
}

/** A budget of `share` of one core for the processes added, or the reason there cannot be one here. */
export function cpuBudget(name: string, share: number): CpuBudget | { unavailable: string } {
  const quota = Math.max(1_000, Math.round(share * PERIOD_US));
  try {
    const v2 = v2Root();
    if (v2) {
      const subtree = join(v2, 'cgroup.subtree_control');
      if (!readFileSync(subtree, 'utf8').split(/\s+/).includes('cpu')) writeFileSync(subtree, '+cpu');
      const dir = join(v2, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
      return budget(dir, share);
    }
    const v1 = '/sys/fs/cgroup/cpu';
    if (existsSync(join(v1, 'cpu.cfs_quota_us'))) {
      const dir = join(v1, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      return budget(dir, share);
    }
    return { unavailable: 'no cgroup CPU controller (neither cgroup v2 cpu.max nor v1 cpu.cfs_quota_us)' };
  } catch (err) {
    return { unavailable: `cgroup not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

function budget(dir: string, share: number): CpuBudget {
  return {
    share,
    add: (pid) => writeFileSync(join(dir, 'cgroup.procs'), String(pid)),
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // Still has a process (an exit not yet reaped): the kernel keeps the empty group; nothing else depends on it.
      }
    },
  };
}
