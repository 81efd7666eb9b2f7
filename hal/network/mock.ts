/** Mock network monitor with fault injection, for tests and the desktop simulator. */
import { DeviceFaultError } from '../fault.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import { FaultScript, type FaultRule } from '../mock/fault-script.js';
import {
  sameNetworkState,
  type NetworkEvents,
  type NetworkFaultCode,
  type NetworkMonitor,
  type NetworkState,
} from './contract.js';

/** Injection point: start(). Steps are implicit (nth call). */
export type NetworkOp = 'start';
export type NetworkFaultRule = FaultRule<NetworkOp, NetworkFaultCode>;

const DEFAULT_STATE: NetworkState = { link: 'up', interface: 'eth0', kind: 'ethernet' };

export class MockNetworkMonitor implements NetworkMonitor {
  private readonly events = new TypedEmitter<NetworkEvents>();
  private readonly faults = new FaultScript<NetworkOp, NetworkFaultCode>();
  /** The world as it is; what the monitor reports only follows it while started. */
  private actual: NetworkState;
  private observed: NetworkState;
  private started = false;

  constructor(initial: NetworkState = DEFAULT_STATE) {
    this.actual = copyState(initial);
    this.observed = copyState(initial);
  }

  on<E extends keyof NetworkEvents>(event: E, listener: Listener<NetworkEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  current(): NetworkState {
    return copyState(this.observed);
  }

  async start(): Promise<void> {
    if (this.started) return;
    const rule = this.faults.match('start');
    if (rule) {
      throw new DeviceFaultError('network', rule.code, rule.message ?? `link monitor: ${rule.code}`, {
        injected: true,
      });
    }
    this.started = true;
    // Changes made while stopped are reported on start, so listeners never miss the present state.
    this.observe();
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  /** Change the link as the world would. Emits 'change' (while started) only when a field actually changed. */
  setState(partial: Partial<NetworkState>): void {
    this.actual = copyState({ ...this.actual, ...partial, link: partial.link ?? this.actual.link });
    if (this.started) this.observe();
  }

  inject(rule: NetworkFaultRule): void {
    this.faults.inject(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  get running(): boolean {
    return this.started;
  }

  private observe(): void {
    if (sameNetworkState(this.observed, this.actual)) return;
    const previous = this.observed;
    this.observed = copyState(this.actual);
    this.events.emit('change', { state: copyState(this.observed), previous });
  }
}

function copyState(state: NetworkState): NetworkState {
  const copy: NetworkState = { link: state.link };
  if (state.interface !== undefined) copy.interface = state.interface;
  if (state.kind !== undefined) copy.kind = state.kind;
  if (state.signal !== undefined) copy.signal = { ...state.signal };
  return copy;
}
