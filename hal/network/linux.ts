/**
 * Network link monitor for Linux: reads the kernel's own view of the link from sysfs and procfs, polled on the
 * Clock. No netlink socket and no daemon (NetworkManager, ModemManager) is needed, so it works on a minimal image.
 *
 * Files read (roots configurable so tests can use a fake tree):
 * - `<proc>/net/route` (then `<proc>/net/ipv6_route`): the interface holding the default route, when none is configured
 * - `<sysfs>/<if>/operstate`, `carrier`: link up or down
 * - `<sysfs>/<if>/wireless`, `phy80211`, `uevent` (DEVTYPE), `type` (ARPHRD), name prefix: the link kind
 * - `<proc>/net/wireless`: Wi-Fi signal level (dBm) and link quality
 * - cellular signal: the kernel has no standard file for it; if `cellularSignalFile` is set, that file (written by a
 *   modem agent, e.g. from `mmcli -m 0 --signal-get` or AT+CSQ) holds JSON `{"dbm": -85, "percent": 60}`; otherwise
 *   the signal is omitted.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import { DeviceFaultError } from '../fault.js';
import {
  sameNetworkState,
  type NetworkEvents,
  type NetworkFaultCode,
  type NetworkMonitor,
  type NetworkState,
} from './contract.js';

export interface LinuxNetworkMonitorOptions {
  /** Interface to watch; null follows whichever interface holds the default route. */
  interface: string | null;
  clock?: Clock;
  /** Default 2000. */
  pollMs?: number;
  /** Default '/sys/class/net'. */
  sysfsRoot?: string;
  /** Default '/proc'. */
  procRoot?: string;
  /** Optional JSON file `{"dbm"?: number, "percent"?: number}` with the modem's signal; see the file header. */
  cellularSignalFile?: string;
}

/** NetworkState plus why the link counts as down; the reason is for logs and health, not for guards. */
export interface LinuxNetworkState extends NetworkState {
  reason?: string;
}

const RTF_UP = 0x0001;
const RTF_REJECT = 0x0200;
/** ARPHRD_* from linux/if_arp.h. */
const ARPHRD_ETHER = 1;
const ARPHRD_PPP = 512;
const ARPHRD_RAWIP = 519;
/** cfg80211 reports link quality out of 70 for drivers that measure signal in dBm. */
const WIFI_MAX_QUALITY = 70;
const CELLULAR_NAME = /^(wwan|wwp|ppp|rmnet|usb_wwan|mhi_hwip)/;

export class LinuxNetworkMonitor implements NetworkMonitor {
  private readonly events = new TypedEmitter<NetworkEvents>();
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly sysfsRoot: string;
  private readonly procRoot: string;
  private observed: LinuxNetworkState = { link: 'down', reason: 'not started' };
  private timer: TimerHandle | undefined;
  private started = false;

  constructor(private readonly options: LinuxNetworkMonitorOptions) {
    this.clock = options.clock ?? systemClock;
    this.pollMs = Math.max(1, options.pollMs ?? 2_000);
    this.sysfsRoot = options.sysfsRoot ?? '/sys/class/net';
    this.procRoot = options.procRoot ?? '/proc';
  }

  on<E extends keyof NetworkEvents>(event: E, listener: Listener<NetworkEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  current(): LinuxNetworkState {
    return copyState(this.observed);
  }

  async start(): Promise<void> {
    if (this.started) return;
    if (!isDirectory(this.sysfsRoot)) {
      throw new DeviceFaultError<NetworkFaultCode>(
        'network',
        'unavailable',
        `cannot observe the link: ${this.sysfsRoot} is missing`,
        {
          path: this.sysfsRoot,
        },
      );
    }
    this.started = true;
    this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Read the link now (also done every pollMs while started); emits 'change' if anything changed. */
  refresh(): LinuxNetworkState {
    let next: LinuxNetworkState;
    try {
      next = this.read();
    } catch (err) {
      // read() handles every expected failure; this is the last guard so a poll never throws.
      next = { link: 'down', reason: `link state unreadable: ${(err as Error).message}` };
    }
    if (!sameLinuxState(this.observed, next)) {
      const previous = this.observed;
      this.observed = next;
      this.events.emit('change', { state: copyState(next), previous: copyState(previous) });
    }
    return copyState(this.observed);
  }

  private schedule(): void {
    if (!this.started) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.started) return;
      this.refresh();
      this.schedule();
    }, this.pollMs);
  }

  // Reads are synchronous on purpose: these kernel pseudo-files answer from memory, and a sync poll is atomic, so two
  // polls never interleave and a ManualClock tick observes a whole new state.
  private read(): LinuxNetworkState {
    let name = this.options.interface;
    if (name === null) {
      const route = this.defaultRouteInterface();
      if (route.error !== undefined) return { link: 'down', reason: route.error };
      if (route.name === undefined) return { link: 'down', reason: 'no default route' };
      name = route.name;
    }
    if (!isSafeName(name)) return { link: 'down', reason: `invalid interface name ${JSON.stringify(name)}` };
    const dir = join(this.sysfsRoot, name);
    if (!existsSync(dir)) return { link: 'down', interface: name, reason: `interface ${name} not present` };

    const state: LinuxNetworkState = { link: 'down', interface: name };
    const kind = this.kindOf(name);
    if (kind !== undefined) state.kind = kind;

    const operstate = readText(join(dir, 'operstate'));
    if (operstate === undefined) return { ...state, reason: `${name}/operstate unreadable` };
    // carrier is unreadable (EINVAL) while the interface is administratively down.
    const carrier = readText(join(dir, 'carrier'));
    if (operstate === 'up') {
      if (carrier === '0') return { ...state, reason: 'no carrier' };
      state.link = 'up';
    } else if (operstate === 'unknown') {
      // ppp, tun and some modem drivers never report an operstate: carrier is the only word on the link.
      if (carrier !== '1')
        return { ...state, reason: carrier === undefined ? 'operstate unknown, carrier unreadable' : 'no carrier' };
      state.link = 'up';
    } else {
      return { ...state, reason: `operstate ${operstate}` };
    }

    const signal = kind === 'wifi' ? this.wifiSignal(name) : kind === 'cellular' ? this.cellularSignal() : undefined;
    if (signal !== undefined) state.signal = signal;
    return state;
  }

  /** The interface of the lowest-metric default route, IPv4 first, then IPv6. */
  private defaultRouteInterface(): { name?: string; error?: string } {
    const v4 = readText(join(this.procRoot, 'net', 'route'));
    const v6 = readText(join(this.procRoot, 'net', 'ipv6_route'));
    if (v4 === undefined && v6 === undefined) return { error: 'routing table unreadable' };
    const best = (candidates: Array<{ name: string; metric: number }>) =>
      candidates.sort((a, b) => a.metric - b.metric)[0]?.name;
    const ipv4 = v4 === undefined ? undefined : best(parseRouteV4(v4));
    if (ipv4 !== undefined) return { name: ipv4 };
    const ipv6 = v6 === undefined ? undefined : best(parseRouteV6(v6));
    return ipv6 !== undefined ? { name: ipv6 } : {};
  }

  private kindOf(name: string): NetworkState['kind'] {
    const dir = join(this.sysfsRoot, name);
    if (existsSync(join(dir, 'wireless')) || existsSync(join(dir, 'phy80211'))) return 'wifi';
    const devtype = /^DEVTYPE=(.*)$/m.exec(readText(join(dir, 'uevent')) ?? '')?.[1];
    if (devtype === 'wlan') return 'wifi';
    if (devtype === 'wwan') return 'cellular';
    if (CELLULAR_NAME.test(name)) return 'cellular';
    const type = Number(readText(join(dir, 'type')));
    if (type === ARPHRD_PPP || type === ARPHRD_RAWIP) return 'cellular';
    // Loopback, tunnels and unknown link types have no kind the terminal can act on.
    return type === ARPHRD_ETHER ? 'ethernet' : undefined;
  }

  private wifiSignal(name: string): NetworkState['signal'] {
    const text = readText(join(this.procRoot, 'net', 'wireless'));
    if (text === undefined) return undefined;
    for (const line of text.split('\n')) {
      // " wlan0: 0000   54.  -56.  -256   0 0 0 0 0   0"; a trailing '.' marks a value updated since the last read.
      const m = /^\s*([^\s:]+):\s+\S+\s+(-?\d+)\.?\s+(-?\d+)\.?/.exec(line);
      if (!m || m[1] !== name) continue;
      const quality = Number(m[2]);
      const level = Number(m[3]);
      const signal: { dbm?: number; percent?: number } = {};
      // Only a negative level is dBm; old drivers report an unscaled positive number that means nothing portable.
      if (level < 0 && level > -200) signal.dbm = level;
      if (quality > 0) signal.percent = Math.min(100, Math.round((quality / WIFI_MAX_QUALITY) * 100));
      return signal.dbm !== undefined || signal.percent !== undefined ? signal : undefined;
    }
    return undefined;
  }

  private cellularSignal(): NetworkState['signal'] {
    const file = this.options.cellularSignalFile;
    if (file === undefined) return undefined;
    const text = readText(file);
    if (text === undefined) return undefined;
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value !== 'object' || value === null) return undefined;
      const { dbm, percent } = value as Record<string, unknown>;
      const signal: { dbm?: number; percent?: number } = {};
      if (typeof dbm === 'number' && Number.isFinite(dbm) && dbm < 0) signal.dbm = Math.round(dbm);
      if (typeof percent === 'number' && Number.isFinite(percent))
        signal.percent = Math.max(0, Math.min(100, Math.round(percent)));
      return signal.dbm !== undefined || signal.percent !== undefined ? signal : undefined;
    } catch {
      // A half-written file from the agent: skip this poll's signal rather than report nonsense.
      return undefined;
    }
  }
}

/** Default routes in /proc/net/route: destination and mask 00000000, route up. */
export function parseRouteV4(text: string): Array<{ name: string; metric: number }> {
  const out: Array<{ name: string; metric: number }> = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8) continue;
    const [name, destination, , flags, , , metric, mask] = cols;
    if (name === undefined || destination !== '00000000' || mask !== '00000000') continue;
    const f = parseInt(flags ?? '', 16);
    if (!(f & RTF_UP) || f & RTF_REJECT) continue;
    out.push({ name, metric: Number(metric) || 0 });
  }
  return out;
}

/** Default routes in /proc/net/ipv6_route: ::/0, up, not a reject route (the kernel keeps one on lo). */
export function parseRouteV6(text: string): Array<{ name: string; metric: number }> {
  const out: Array<{ name: string; metric: number }> = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [destination, prefix, , , , metric, , , flags, name] = cols;
    if (name === undefined || name === 'lo' || !/^0{32}$/.test(destination ?? '') || prefix !== '00') continue;
    const f = parseInt(flags ?? '', 16);
    if (!(f & RTF_UP) || f & RTF_REJECT) continue;
    out.push({ name, metric: parseInt(metric ?? '', 16) || 0 });
  }
  return out;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Kernel interface names: up to 15 bytes, no '/', and never '.' or '..' (so a name cannot walk out of sysfs). */
function isSafeName(name: string): boolean {
  return (
    name.length > 0 && name.length <= 15 && !name.includes('/') && name !== '.' && name !== '..' && !/\s/.test(name)
  );
}

function sameLinuxState(a: LinuxNetworkState, b: LinuxNetworkState): boolean {
  return sameNetworkState(a, b) && a.reason === b.reason;
}

function copyState(state: LinuxNetworkState): LinuxNetworkState {
  const copy: LinuxNetworkState = { link: state.link };
  if (state.interface !== undefined) copy.interface = state.interface;
  if (state.kind !== undefined) copy.kind = state.kind;
  if (state.signal !== undefined) copy.signal = { ...state.signal };
  if (state.reason !== undefined) copy.reason = state.reason;
  return copy;
}
