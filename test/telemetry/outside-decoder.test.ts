/**
 * Wire compatibility with an outside decoder: bytes the terminal published are taken off a real Mosquitto by
 * mosquitto_sub (as hex) and decoded by protoc from proto/, not by our generated code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { requireTool } from '../support/tools.js';
import { until } from '../support/wait.js';
import { Consumer, makeRig, TERMINAL_ID, topicFilter, type Rig } from './harness.js';

const PROTO = 'proto/pos/telemetry/v1/telemetry.proto';

function protocDecode(type: string, bytes: Buffer): string {
  const r = spawnSync(requireTool('protoc'), [`--decode=pos.telemetry.v1.${type}`, '--proto_path=proto', PROTO], {
    cwd: repoRoot,
    input: bytes,
  });
  if (r.status !== 0) throw new Error(`protoc failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/**
 * One message from the broker, as mosquitto_sub prints it with -F %x. Its stdout is a pipe (block-buffered), so we
 * cannot see when it has subscribed: `trigger` publishes again every 100 ms until mosquitto_sub has its message.
 */
async function takeOne(broker: Mosquitto, topic: string, trigger?: () => void): Promise<Buffer> {
  const sub = spawn(requireTool('mosquitto_sub'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(broker.port),
    '-t',
    topic,
    '-q',
    '1',
    '-C',
    '1',
    '-W',
    '10',
    '-F',
    '%x',
  ]);
  let out = '';
  let err = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  sub.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let exitCode: number | null | undefined;
  sub.once('exit', (code) => (exitCode = code));
  const started = Date.now();
  while (exitCode === undefined) {
    if (Date.now() - started > 10_000) {
      sub.kill();
      break;
    }
    trigger?.();
    await until(() => exitCode !== undefined, 'mosquitto_sub', 100).catch(() => {});
  }
  expect(exitCode, err).toBe(0);
  const hex = out.split(/\r?\n/).find((line) => /^[0-9a-f]+$/.test(line) && line.length % 2 === 0);
  if (!hex) throw new Error(`no payload in mosquitto_sub output:\n${out}${err}`);
  return Buffer.from(hex, 'hex');
}

describe('published bytes decoded by protoc', () => {
  let broker: Mosquitto;
  let rig: Rig;
  let consumer: Consumer;

  beforeAll(async () => {
    broker = await startMosquitto();
    rig = makeRig(broker.url);
    consumer = await Consumer.connect(broker.url, topicFilter(rig));
    rig.publisher.start();
    await until(() => consumer.of('health').length > 0 && rig.journal.outbox.stats().depth === 0, 'publisher up');
  });
  afterAll(async () => {
    await consumer?.close();
    await rig?.close();
    await broker?.kill();
  });

  const topic = (kind: string) => `pos/v1/${rig.fleet}/${TERMINAL_ID}/${kind}`;

  it('Health', async () => {
    rig.terminal.setState('degraded');
    rig.terminal.limitations = ['no printer: receipts kept pending'];
    // Change-driven Health is coalesced on the Clock.
    await rig.clock.advance(2_000);
    await until(
      () => consumer.of('health').some((h) => h.message['state'] === 'OPERATION_STATE_DEGRADED'),
      'degraded health',
    );
    const bytes = await takeOne(broker, topic('health'), () => rig.publisher.publishHealth());
    const text = protocDecode('Health', bytes);
    expect(text).toMatch(new RegExp(`terminal_id: "${TERMINAL_ID}"`));
    expect(text).toMatch(new RegExp(`fleet: "${rig.fleet}"`));
    expect(text).toMatch(new RegExp(`boot_id: "${rig.publisher.bootId}"`));
    expect(text).toMatch(/seq: \d+/);
    expect(text).toMatch(new RegExp(`sent_at_ms: ${rig.clock.now()}`));
    expect(text).toContain('state: OPERATION_STATE_DEGRADED');
    expect(text).toContain('limitations: "no printer: receipts kept pending"');
    expect(text).toMatch(/components \{\s+component: "printer"\s+status: CHECK_STATUS_OK/);
    expect(text).toContain('pending_reversals: 2');
    expect(text).toMatch(/store_and_forward \{\s+depth: 3\s+total_minor: 4500\s+oldest_age_ms: 60000\s+\}/);
    expect(text).toMatch(/resources \{\s+rss_bytes: \d+/);
    // The header's seq is the one our own decoder reads from the same message on the consumer.
    const seq = Number(/seq: (\d+)/.exec(text)![1]);
    await until(() => consumer.of('health').some((h) => h.message.header!.seq === seq), 'same health on the consumer');
  });

  it('Event', async () => {
    const bytes = await takeOne(broker, topic('event'), () => {
      rig.anomalies.raise(
        'declined-funds',
        { reason: 'response 51', stan: 4242, amount: 2500, currency: '978', maskedPan: '476173******0010' },
        { show: false },
      );
    });
    const text = protocDecode('Event', bytes);
    expect(text).toContain('kind: "anomaly"');
    expect(text).toContain('code: "E202"');
    expect(text).toContain('severity: SEVERITY_INFO');
    expect(text).toContain('stan: 4242');
    expect(text).toContain('amount_minor: 2500');
    expect(text).toContain('masked_pan: "476173******0010"');
  });

  it('Birth and the retained State', async () => {
    const birth = protocDecode('Birth', await takeOne(broker, topic('birth'), () => rig.publisher.rebirth()));
    expect(birth).toContain('boot_reason: BOOT_REASON_CLEAN');
    expect(birth).toContain('capabilities: "chip"');
    expect(birth).toContain('session: 1');
    expect(birth).toContain('health_interval_ms: 60000');
    // Retained: mosquitto_sub gets it as soon as it subscribes.
    const state = protocDecode('State', await takeOne(broker, topic('state')));
    expect(state).toContain('online: true');
    expect(state).toContain('reason: "connected"');
  });
});
