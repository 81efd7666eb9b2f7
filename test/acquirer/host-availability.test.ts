/**
 * The host-availability tracker: down after N response timeouts in a row, back on any answer, an echo every probe
 * interval while down. ManualClock, no sockets.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { HostError } from '../../src/acquirer/acquirer-client.js';
import type { HostErrorCode } from '../../src/vocabulary/index.js';
import { HostAvailability } from '../../src/acquirer/host-availability.js';

const failed = (code: HostErrorCode, sent = true) => ({
  answered: false as const,
  error: new HostError(code, code, sent),
});
const answered = { answered: true as const };

function tracker(downAfterTimeouts: number) {
  const clock = new ManualClock();
  const probes: number[] = [];
  const changes: boolean[] = [];
  const availability = new HostAvailability({
    clock,
    downAfterTimeouts,
    probeIntervalMs: 15_000,
    probe: async () => {
      probes.push(clock.now());
    },
    onChange: (down) => changes.push(down),
  });
  return { clock, availability, probes, changes };
}

describe('host availability', () => {
  it('is down after the configured run of timeouts, not before, and only timeouts count', () => {
    const { availability, changes } = tracker(3);
    availability.observe(failed('timeout'));
    availability.observe(failed('timeout'));
    // Refused connects, cancels and busy fail fast: they neither add to the run nor break it.
    for (const code of ['not-connected', 'link-down', 'cancelled', 'busy', 'stopped', 'bad-request'] as const)
      availability.observe(failed(code, false));
    expect(availability.isDown()).toBe(false);
    availability.observe(failed('timeout'));
    expect(availability.state()).toMatchObject({ down: true, timeoutsInARow: 3 });
    expect(changes).toEqual([true]);
  });

  it('an answer between timeouts breaks the run; bytes keyed to us (garbled, mismatched) are an answer too', () => {
    for (const breaker of [answered, failed('garbled-response'), failed('mismatched-response')]) {
      const { availability } = tracker(2);
      availability.observe(failed('timeout'));
      availability.observe(breaker);
      availability.observe(failed('timeout'));
      expect(availability.isDown()).toBe(false);
    }
  });

  it('probes every interval while down and comes back on the first answer', async () => {
    const { clock, availability, probes, changes } = tracker(1);
    availability.observe(failed('timeout'));
    const downAt = clock.now();
    await clock.advance(14_999);
    expect(probes).toEqual([]);
    await clock.advance(1);
    await clock.advance(15_000);
    expect(probes).toEqual([downAt + 15_000, downAt + 30_000]);
    availability.observe(answered);
    expect(availability.isDown()).toBe(false);
    await clock.advance(60_000);
    expect(probes).toHaveLength(2);
    expect(changes).toEqual([true, false]);
  });

  it('0 never takes the host as down', () => {
    const { availability } = tracker(0);
    for (let i = 0; i < 50; i++) availability.observe(failed('timeout'));
    expect(availability.isDown()).toBe(false);
  });
});
