/** Topic parsing and payload decoding: every message type, and typed, counted errors for everything else. */
import { describe, expect, it } from 'vitest';
import {
  decodeTelemetry,
  parseTopic,
  subscriptionFilter,
  TelemetryDecodeError,
  TelemetryDecoder,
  topicFor,
} from '../../src/fleet/decode.js';
import { wire } from '../../src/telemetry/wire.js';
import { encode, FLEET, T0, TERMINAL, topic } from './support.js';

function decodeError(fn: () => unknown): TelemetryDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TelemetryDecodeError);
    return err as TelemetryDecodeError;
  }
  throw new Error('expected a TelemetryDecodeError');
}

describe('topics', () => {
  it('parses pos/v1/<fleet>/<terminal>/<type>', () => {
    expect(parseTopic('pos/v1/shop-1/TERM0001/health')).toEqual({
      fleet: 'shop-1',
      terminalId: 'TERM0001',
      type: 'health',
    });
    expect(parseTopic('pos/v1/shop-1/TERM0001/cmd-result').type).toBe('cmd-result');
  });

  it.each([
    'pos/v1/shop-1/TERM0001',
    'pos/v1/shop-1/TERM0001/health/extra',
    'pos/v2/shop-1/TERM0001/health',
    'pos/v1//TERM0001/health',
    'pos/v1/shop-1/TERM0001/telemetry',
    'other/topic',
    '',
  ])('refuses %j as bad-topic', (t) => {
    expect(decodeError(() => parseTopic(t)).code).toBe('bad-topic');
  });

  it('builds topics and subscription filters, shared or not', () => {
    expect(topicFor('f', 't', 'cmd')).toBe('pos/v1/f/t/cmd');
    expect(subscriptionFilter()).toBe('pos/v1/+/+/+');
    expect(subscriptionFilter('shop-1')).toBe('pos/v1/shop-1/+/+');
    expect(subscriptionFilter(undefined, 'ops')).toBe('$share/ops/pos/v1/+/+/+');
    expect(() => subscriptionFilter('a/b')).toThrow(/topic level/);
    expect(() => subscriptionFilter(undefined, '#')).toThrow(/share group/);
  });
});

describe('decoding every message type', () => {
  const h = { seq: 7, sentAtMs: T0 };
  const header = { terminalId: TERMINAL, fleet: FLEET, bootId: 'boot-a', seq: 7, sentAtMs: T0 };

  it('birth', () => {
    expect(decodeTelemetry(topic('birth'), encode.birth(h))).toEqual({
      topic: topic('birth'),
      fleet: FLEET,
      terminalId: TERMINAL,
      type: 'birth',
      header,
      firmwareVersion: '1.4.2',
      configVersion: 'cfg-7',
      capabilities: ['chip', 'contactless', 'printer'],
      bootReason: 'crash',
      bootedAtMs: T0 - 5_000,
      model: 'PX-900',
      session: 1,
      healthIntervalMs: 60_000,
    });
  });

  it('health, with longs as numbers and enums by name', () => {
    const m = decodeTelemetry(
      topic('health'),
      encode.health(h, {
        state: wire.OperationState.OPERATION_STATE_LOCKED,
        lockReasons: ['repeated-anomalies'],
        limitations: ['offline-only'],
        pendingReversals: 2,
        storeAndForward: { depth: 3, totalMinor: 4_500, oldestAgeMs: 7_200_000 },
        components: [
          {
            component: 'printer',
            status: wire.CheckStatus.CHECK_STATUS_FAULT,
            code: 'paper-out',
            detail: 'no paper',
            durationMs: 5,
          },
        ],
        anomalies: [{ key: 'E101', count: 4 }],
        telemetryDropped: 9,
        eventsDropped: 2,
        outboxDepth: 4,
      }),
    );
    expect(m).toMatchObject({
      type: 'health',
      header,
      state: 'locked',
      lockReasons: ['repeated-anomalies'],
      limitations: ['offline-only'],
      pendingReversals: 2,
      storeAndForward: { depth: 3, totalMinor: 4_500, oldestAgeMs: 7_200_000 },
      components: [{ component: 'printer', status: 'fault', code: 'paper-out', detail: 'no paper', durationMs: 5 }],
      outcomes: [{ key: 'approved', count: 17 }],
      anomalies: [{ key: 'E101', count: 4 }],
      link: { hostUp: true, networkUp: true, interface: 'eth0', signalDbm: 0, signalPercent: 0, hostRttMs: 42 },
      resources: {
        rssBytes: 80_000_000,
        heapUsedBytes: 30_000_000,
        cpuPercent: 1.5,
        diskFreeBytes: 5_000_000_000,
        uptimeS: 3600,
      },
      telemetryDropped: 9,
      eventsDropped: 2,
      outboxDepth: 4,
    });
    expect(typeof (m.type === 'health' && m.resources?.diskFreeBytes)).toBe('number');
  });

  it('health without link or resources reads them as null', () => {
    const m = decodeTelemetry(topic('health'), wire.Health.encode({ header: { ...header } }).finish());
    expect(m).toMatchObject({
      type: 'health',
      state: 'unspecified',
      link: null,
      resources: null,
      storeAndForward: { depth: 0 },
    });
  });

  it('event', () => {
    expect(decodeTelemetry(topic('event'), encode.event(h))).toEqual({
      topic: topic('event'),
      fleet: FLEET,
      terminalId: TERMINAL,
      type: 'event',
      header,
      kind: 'anomaly',
      code: 'E101',
      name: 'host-timeout',
      severity: 'error',
      severityLevel: 3,
      atMs: T0,
      stan: 12,
      amountMinor: 1250,
      currency: '978',
      maskedPan: '400000******0002',
      message: 'No answer from the acquirer',
      txnRef: 'T-1',
    });
  });

  it('state', () => {
    expect(decodeTelemetry(topic('state'), encode.state(h, false, 'connection lost', 3))).toMatchObject({
      type: 'state',
      header,
      online: false,
      reason: 'connection lost',
      session: 3,
    });
  });

  it('command (no header) and command result', () => {
    expect(decodeTelemetry(topic('cmd'), encode.command('c-1', wire.CommandName.COMMAND_NAME_RUN_SELF_TEST))).toEqual({
      topic: topic('cmd'),
      fleet: FLEET,
      terminalId: TERMINAL,
      type: 'cmd',
      commandId: 'c-1',
      name: 'run-self-test',
      issuedAtMs: T0,
      issuedBy: 'ops@fleet',
    });
    expect(
      decodeTelemetry(
        topic('cmd-result'),
        encode.commandResult(
          h,
          'c-1',
          wire.CommandName.COMMAND_NAME_UNLOCK,
          false,
          wire.CommandError.COMMAND_ERROR_NOT_ALLOWED,
          'remote unlock disabled',
        ),
      ),
    ).toMatchObject({
      type: 'cmd-result',
      header,
      commandId: 'c-1',
      name: 'unlock',
      ok: false,
      error: 'not-allowed',
      message: 'remote unlock disabled',
    });
  });

  it('enum names come from the contract; a value from a newer contract keeps its number', () => {
    const selfTesting = wire.OperationState.OPERATION_STATE_SELF_TESTING;
    expect(decodeTelemetry(topic('health'), encode.health(h, { state: selfTesting }))).toMatchObject({
      state: 'self-testing',
    });
    const m = decodeTelemetry(topic('event'), encode.event(h, { severity: 9 as never }));
    expect(m).toMatchObject({ severity: 'unknown-9', severityLevel: 9 });
  });
});

describe('bad messages', () => {
  it('garbage, truncation, missing header, spoofed header, empty and oversized payloads are typed errors', () => {
    const good = encode.health({ seq: 1 });
    const cases: [string, Uint8Array, string][] = [
      [topic('health'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 'bad-payload'],
      [topic('health'), good.subarray(0, good.length - 3), 'bad-payload'],
      [topic('event'), Buffer.from('this is not protobuf at all'), 'bad-payload'],
      [topic('health'), wire.Health.encode({ pendingReversals: 1 }).finish(), 'missing-header'],
      [topic('health', 'TERM9999'), good, 'header-mismatch'],
      [topic('health', TERMINAL, 'other-fleet'), good, 'header-mismatch'],
      [topic('state'), new Uint8Array(0), 'empty-payload'],
      [topic('health'), new Uint8Array(300 * 1024), 'too-large'],
      ['pos/v1/x', good, 'bad-topic'],
    ];
    for (const [t, payload, code] of cases) {
      const err = decodeError(() => decodeTelemetry(t, payload));
      expect({ t, code: err.code }).toEqual({ t, code });
      expect(err.topic).toBe(t);
      expect(err.message).not.toBe('');
    }
  });

  it('TelemetryDecoder never throws and counts what it refused', () => {
    const decoder = new TelemetryDecoder();
    expect(decoder.decode(topic('health'), encode.health({ seq: 1 })).ok).toBe(true);
    const bad = decoder.decode('pos/v1/nope', Buffer.from('x'));
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-topic' } });
    expect(decoder.decode(topic('birth'), Buffer.from([0x0a, 0x05, 0x01])).ok).toBe(false);
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + (i % 40) }, (_, j) => (i * 31 + j * 17) & 0xff));
      decoder.decode(topic(['birth', 'health', 'event', 'state', 'cmd-result'][i % 5]!), junk);
    }
    const stats = decoder.stats();
    expect(stats.received).toBe(203);
    expect(stats.decoded + stats.rejected).toBe(203);
    expect(stats.byError['bad-topic']).toBe(1);
    expect(stats.byError['bad-payload']).toBeGreaterThan(1);
    expect(Object.values(stats.byError).reduce((a, b) => a + b, 0)).toBe(stats.rejected);
  });
});
