import { describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from '../../hal/events.js';

interface Events {
  ping: { n: number };
  pong: string;
}

describe('TypedEmitter', () => {
  it('delivers payloads and stops after unsubscribe', () => {
    const e = new TypedEmitter<Events>();
    const got: number[] = [];
    const off = e.on('ping', (p) => got.push(p.n));
    e.emit('ping', { n: 1 });
    off();
    off(); // idempotent
    e.emit('ping', { n: 2 });
    expect(got).toEqual([1]);
    expect(e.listenerCount()).toBe(0);
  });

  it('keeps other listeners running when one throws', () => {
    const onListenerError = vi.fn();
    const e = new TypedEmitter<Events>({ onListenerError });
    const second = vi.fn();
    e.on('pong', () => {
      throw new Error('bad listener');
    });
    e.on('pong', second);
    expect(() => e.emit('pong', 'hi')).not.toThrow();
    expect(second).toHaveBeenCalledWith('hi');
    expect(onListenerError).toHaveBeenCalledTimes(1);
    expect(onListenerError.mock.calls[0]?.[1]).toBe('pong');
  });

  it('treats the same function subscribed twice as two subscriptions', () => {
    const e = new TypedEmitter<Events>();
    const fn = vi.fn();
    const off1 = e.on('pong', fn);
    e.on('pong', fn);
    off1();
    e.emit('pong', 'x');
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
