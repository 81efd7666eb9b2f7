/**
 * A small typed event emitter shared by the device drivers. Events are a map from event name to payload type, and
 * `on` hands back the function that removes the listener, so a machine actor can subscribe and clean up in one place.
 */
export type Unsubscribe = () => void;
export type Listener<P> = (payload: P) => void;

/** What a device contract exposes: subscription only. Emitting stays inside the driver. */
export interface EventSource<Events extends object> {
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): Unsubscribe;
}

export interface TypedEmitterOptions {
  /**
   * Called when a listener throws. A faulty listener must not break the driver or starve the other listeners,
   * so the error is caught and handed here. Default: a process warning (visible, never a crash).
   */
  onListenerError?: (error: unknown, event: string) => void;
}

export class TypedEmitter<Events extends object> implements EventSource<Events> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  private readonly onListenerError: (error: unknown, event: string) => void;

  constructor(options: TypedEmitterOptions = {}) {
    this.onListenerError = options.onListenerError ?? defaultListenerError;
  }

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    // Wrap so the same function subscribed twice is two subscriptions, each removed by its own unsubscribe.
    const entry: Listener<Events[E]> = (payload) => listener(payload);
    set.add(entry as Listener<never>);
    return () => {
      set.delete(entry as Listener<never>);
    };
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    // Snapshot: listeners that subscribe or unsubscribe during an emit take effect from the next emit.
    for (const listener of [...set] as Listener<Events[E]>[]) {
      try {
        listener(payload);
      } catch (error) {
        this.onListenerError(error, String(event));
      }
    }
  }

  listenerCount(event?: keyof Events): number {
    if (event !== undefined) return this.listeners.get(event)?.size ?? 0;
    let total = 0;
    for (const set of this.listeners.values()) total += set.size;
    return total;
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }
}

function defaultListenerError(error: unknown, event: string): void {
  const warning = error instanceof Error ? error : new Error(String(error));
  process.emitWarning(warning, { code: 'HAL_LISTENER_ERROR', detail: `listener for '${event}' threw` });
}
