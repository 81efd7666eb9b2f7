/** Smoke test of the telemetry benchmark at small sizes: every part runs and reports its figures. */
import { describe, expect, it } from 'vitest';
import { benchTelemetry } from '../../bench/telemetry.js';

describe('telemetry benchmark (smoke)', () => {
  it('reports sizes, the publish rate and memory over a simulated outage at the outbox bound', async () => {
    const r = await benchTelemetry({ publishCount: 60, outageMinutes: 5, eventsPerSecond: 1, outboxMaxMessages: 100 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r.sizes.health.protobufBytes).toBeLessThan(r.sizes.health.jsonBytes);
    expect(r.sizes.event.protobufBytes).toBeLessThan(r.sizes.event.jsonBytes);
    expect(r.sizes.target.maxRatio).toBe(0.4);
    expect(r.publish).toMatchObject({ messages: 60, acknowledged: true });
    expect(r.publish.messagesPerSecond).toBeGreaterThan(0);
    expect(r.outage).toMatchObject({ events: 300, outboxDepth: 100, atBound: true, outboxHealth: 1 });
    expect(r.outage.dropped.health).toBeGreaterThan(0);
    expect(Number.isFinite(r.outage.rssDeltaBytes)).toBe(true);
  });
});
