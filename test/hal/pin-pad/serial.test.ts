/**
 * SerialPinPad against the PIN pad emulator over a real pseudo-terminal pair (socat), or the mock-binding pair when
 * POS_SERIAL_MOCK=1 (test/support/pty.ts). Bytes really cross the ttys; the cardholder's timeout runs on the
 * emulator's ManualClock and the driver's timeouts on its own, both advanced by the test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { decryptPinBlock, deriveAesInitialKey, deriveTdesIpek } from '../../../hal/crypto/index.js';
import { SerialPinPad } from '../../../hal/pin-pad/serial.js';
import { PinPadEmulator } from '../../support/pin-pad-emulator.js';
import { openSerialPair, type SerialPair } from '../../support/pty.js';
import { until } from '../../support/wait.js';
import { AES_BDK, AES_KSN, hex, PAN, request, TDES_BDK, TDES_KSN } from './pin-fixtures.js';
import { expectFault, track } from '../expect-fault.js';

const BAUD = 115200;

let pair: SerialPair;
let clock: ManualClock;
let padClock: ManualClock;
let emulator: PinPadEmulator;
let pad: SerialPinPad;

async function prompted(): Promise<void> {
  await until(() => emulator.prompting, 'PIN prompt');
}

beforeEach(async () => {
  pair = await openSerialPair({ forceMock: process.env.POS_SERIAL_MOCK === '1' });
  clock = new ManualClock();
  padClock = new ManualClock();
  emulator = await PinPadEmulator.start(pair.openPort(pair.b, BAUD), { clock: padClock, serial: 'PP-0042' });
  pad = new SerialPinPad({
    path: pair.a,
    baudRate: BAUD,
    clock,
    ...(pair.kind === 'mock' ? { openPort: pair.openPort } : {}),
  });
  await pad.open();
  await until(() => emulator.idle, 'emulator idle');
});

afterEach(async () => {
  await pad.close();
  await emulator.close();
  await pair.close();
});

describe('SerialPinPad over a serial pair', () => {
  it('opens with INFO, loads a TDES DUKPT key, and reports the next KSN', async () => {
    expect(await pad.info()).toEqual({ model: 'EMU-PP1', firmware: '3.1.0', serial: 'PP-0042', keys: {} });
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    expect((await pad.info()).keys).toEqual({ 'tdes-dukpt': { nextKsn: 'FFFF9876543210E00001' } });
    expect(emulator.commands.map((c) => c.cmd)).toEqual(['INFO', 'INFO', 'LOAD_KEY', 'INFO']);
  });

  it('returns the X9.24-1 A.4 block for PIN 1234, and the host reads it back', async () => {
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    const digits: number[] = [];
    const prompts: Array<{ amountText?: string }> = [];
    pad.on('pin-digits', ({ count }) => digits.push(count));
    pad.on('pin-prompt', (p) => prompts.push(p));
    const pending = pad.requestPin(request({ amountText: 'EUR 12.50' }));
    await prompted();
    emulator.enter('1234');
    const result = await pending;
    expect(Buffer.from(result.pinBlock).toString('hex').toUpperCase()).toBe('1B9C1845EB993A7A');
    expect(Buffer.from(result.ksn).toString('hex').toUpperCase()).toBe('FFFF9876543210E00001');
    expect(decryptPinBlock({ bdk: TDES_BDK, ksn: result.ksn, pinBlock: result.pinBlock, pan: PAN, format: 0 })).toBe(
      '1234',
    );
    await until(() => digits.length === 4, 'digit events');
    expect(digits).toEqual([1, 2, 3, 4]);
    expect(prompts).toEqual([{ amountText: 'EUR 12.50' }]);
  });

  it('makes a format 4 block under AES DUKPT', async () => {
    const initialKey = deriveAesInitialKey(AES_BDK, AES_KSN.subarray(0, 8));
    await pad.loadKey({ scheme: 'aes-dukpt', initialKey, initialKsn: AES_KSN });
    const pending = pad.requestPin(request({ format: 4, pan: '4111111111111111' }));
    await prompted();
    emulator.enter('24680');
    const r = await pending;
    expect(r.pinBlock.length).toBe(16);
    expect(Buffer.from(r.ksn).toString('hex').toUpperCase()).toBe('123456789012345600000001');
    const pin = decryptPinBlock({ bdk: AES_BDK, ksn: r.ksn, pinBlock: r.pinBlock, pan: '4111111111111111', format: 4 });
    expect(pin).toBe('24680');
  });

  it('carries cancel, bypass, the pad timeout, no-keys and bad key loads as their codes', async () => {
    await expectFault(pad.requestPin(request()), 'pin-pad', 'no-keys');
    await expectFault(
      pad.loadKey({ scheme: 'tdes-dukpt', initialKey: hex('0011'), initialKsn: TDES_KSN }),
      'pin-pad',
      'bad-request',
    );
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    const c = pad.requestPin(request());
    await prompted();
    emulator.cancel();
    await expectFault(c, 'pin-pad', 'cancelled');
    const b = pad.requestPin(request());
    await prompted();
    emulator.bypass();
    await expectFault(b, 'pin-pad', 'bypassed');
    const t = expectFault(pad.requestPin(request({ timeoutMs: 20_000 })), 'pin-pad', 'timeout');
    await prompted();
    await padClock.advance(20_000);
    await t;
  });

  it('an aborted request tells the pad to drop its prompt', async () => {
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    const ac = new AbortController();
    const p = pad.requestPin(request({ signal: ac.signal }));
    await prompted();
    await expectFault(pad.requestPin(request()), 'pin-pad', 'busy');
    ac.abort();
    await expectFault(p, 'pin-pad', 'cancelled');
    await until(() => !emulator.prompting, 'prompt dropped');
    expect(emulator.commands.map((c) => c.cmd)).toContain('CANCEL');
  });

  it('fails tamper during a prompt and refuses later calls', async () => {
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    const tampers: string[] = [];
    pad.on('tamper', ({ reason }) => tampers.push(reason));
    const p = pad.requestPin(request());
    await prompted();
    emulator.tamper('case opened');
    await expectFault(p, 'pin-pad', 'tamper');
    await until(() => tampers.length === 1, 'tamper event');
    await expectFault(pad.requestPin(request()), 'pin-pad', 'tamper');
  });

  it('resends a NAKed command and still completes', async () => {
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    emulator.nakNext(1);
    const pending = track(pad.requestPin(request()));
    await prompted();
    emulator.enter('1234');
    const r = await pending.promise;
    expect(Buffer.from(r.pinBlock).toString('hex').toUpperCase()).toBe('1B9C1845EB993A7A');
    expect(emulator.stats.framesIn).toBeGreaterThanOrEqual(4);
  });

  it('refuses a malformed answer as bad-response, and an unknown error name as bad-request', async () => {
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    emulator.forgeNextPinAnswer({ ok: true, format: 0, pinBlock: '1234', ksn: 'FFFF9876543210E00001' });
    const bad = pad.requestPin(request());
    await prompted();
    emulator.enter('1234');
    const fault = await expectFault(bad, 'pin-pad', 'not-connected');
    expect(fault.detail).toEqual({ reason: 'bad-response' });
    emulator.forgeNextPinAnswer({ ok: false, error: 'melted' });
    const odd = pad.requestPin(request());
    await prompted();
    emulator.enter('1234');
    await expectFault(odd, 'pin-pad', 'bad-request');
  });

  it('fails timeout on its own when the pad stops answering mid-request', async () => {
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    emulator.stallAnswers();
    const pending = track(pad.requestPin(request({ timeoutMs: 1000 })));
    await until(() => emulator.stats.framesIn >= 3, 'request received');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await clock.advance(3999);
    expect(pending.settled).toBe(false);
    await clock.advance(1);
    await expectFault(pending.promise, 'pin-pad', 'timeout');
  });

  it('fails not-connected when the pad never answers the handshake', async () => {
    await emulator.close();
    const lonely = new SerialPinPad({
      path: pair.a,
      baudRate: BAUD,
      clock,
      maxRetransmits: 1,
      ...(pair.kind === 'mock' ? { openPort: pair.openPort } : {}),
    });
    await pad.close();
    const opening = track(lonely.open());
    for (let i = 0; i < 40 && !opening.settled; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await clock.advance(500);
    }
    await expectFault(opening.promise, 'pin-pad', 'not-connected');
    await lonely.close();
  });
});
