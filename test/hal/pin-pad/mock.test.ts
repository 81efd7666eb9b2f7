import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { deriveAesInitialKey, deriveTdesIpek, decryptPinBlock } from '../../../hal/crypto/index.js';
import { MockPinPad } from '../../../hal/pin-pad/mock.js';
import { AES_BDK, AES_KSN, hex, PAN, request, TDES_BDK, TDES_KSN } from './pin-fixtures.js';
import { expectFault } from '../expect-fault.js';

describe('MockPinPad', () => {
  let clock: ManualClock;
  let pad: MockPinPad;

  beforeEach(async () => {
    clock = new ManualClock();
    pad = new MockPinPad(clock);
    pad.injectKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    await pad.open();
  });

  it('returns the X9.24-1 A.4 encrypted block for PIN 1234 at the first counters, never the PIN', async () => {
    const first = pad.requestPin(request({ amountText: 'EUR 12.50' }));
    expect(pad.enter('1234')).toBe(true);
    const r1 = await first;
    expect(Buffer.from(r1.ksn).toString('hex').toUpperCase()).toBe('FFFF9876543210E00001');
    expect(Buffer.from(r1.pinBlock).toString('hex').toUpperCase()).toBe('1B9C1845EB993A7A');
    expect(JSON.stringify(r1)).not.toContain('1234');
    pad.queue({ kind: 'pin', digits: '1234' });
    const r2 = await pad.requestPin(request());
    expect(Buffer.from(r2.pinBlock).toString('hex').toUpperCase()).toBe('10A01C8D02C69107');
    expect(pad.prompts).toEqual([{ amountText: 'EUR 12.50' }, {}]);
    expect((await pad.info()).keys['tdes-dukpt']?.nextKsn).toBe('FFFF9876543210E00003');
  });

  it('round trips with the host decrypting from BDK + KSN, for format 0 and format 4', async () => {
    pad.injectKey({
      scheme: 'aes-dukpt',
      initialKey: deriveAesInitialKey(AES_BDK, AES_KSN.subarray(0, 8)),
      initialKsn: AES_KSN,
    });
    pad.queue({ kind: 'pin', digits: '987654' }, { kind: 'pin', digits: '2468' });
    const r0 = await pad.requestPin(request());
    expect(decryptPinBlock({ bdk: TDES_BDK, ksn: r0.ksn, pinBlock: r0.pinBlock, pan: PAN, format: 0 })).toBe('987654');
    const r4 = await pad.requestPin(request({ format: 4, pan: '4111111111111111' }));
    expect(r4.pinBlock.length).toBe(16);
    expect(r4.ksn.length).toBe(12);
    const pin = decryptPinBlock({
      bdk: AES_BDK,
      ksn: r4.ksn,
      pinBlock: r4.pinBlock,
      pan: '4111111111111111',
      format: 4,
    });
    expect(pin).toBe('2468');
  });

  it('tells digits typed by count only, and refuses Enter outside the length bounds', async () => {
    const counts: number[] = [];
    pad.on('pin-digits', ({ count }) => counts.push(count));
    const p = pad.requestPin(request({ minLength: 4, maxLength: 6 }));
    expect(pad.enter('12')).toBe(false);
    expect(pad.prompting).toBe(true);
    expect(pad.enter('1234')).toBe(true);
    await p;
    expect(counts).toEqual([1, 2, 1, 0, 1, 2, 3, 4]);
  });

  it('rejects cancel, bypass and no answer with their own codes', async () => {
    const c = pad.requestPin(request());
    pad.cancel();
    await expectFault(c, 'pin-pad', 'cancelled');
    const b = pad.requestPin(request());
    pad.bypass();
    await expectFault(b, 'pin-pad', 'bypassed');
    pad.queue({ kind: 'no-answer' });
    const t = expectFault(pad.requestPin(request({ timeoutMs: 20_000 })), 'pin-pad', 'timeout');
    await clock.advance(20_000);
    await t;
    // None of them used a key.
    expect((await pad.info()).keys['tdes-dukpt']?.nextKsn).toBe('FFFF9876543210E00001');
  });

  it('is cancelled by the signal, busy while prompting, not-connected when closed', async () => {
    const ac = new AbortController();
    const p = pad.requestPin(request({ signal: ac.signal }));
    await expectFault(pad.requestPin(request()), 'pin-pad', 'busy');
    ac.abort();
    await expectFault(p, 'pin-pad', 'cancelled');
    const q = pad.requestPin(request());
    await pad.close();
    await expectFault(q, 'pin-pad', 'not-connected');
    await expectFault(pad.requestPin(request()), 'pin-pad', 'not-connected');
  });

  it('says no-keys for a format without a loaded scheme, and bad-request for bad input', async () => {
    await expectFault(pad.requestPin(request({ format: 4 })), 'pin-pad', 'no-keys');
    const bad = await expectFault(pad.requestPin(request({ pan: '40123456789' })), 'pin-pad', 'bad-request');
    expect(JSON.stringify(bad.toJSON())).not.toContain('40123456789');
    await expectFault(pad.requestPin(request({ minLength: 3 })), 'pin-pad', 'bad-request');
    await expectFault(pad.requestPin(request({ minLength: 8, maxLength: 6 })), 'pin-pad', 'bad-request');
    await expectFault(
      pad.loadKey({ scheme: 'tdes-dukpt', initialKey: hex('00'), initialKsn: TDES_KSN }),
      'pin-pad',
      'bad-request',
    );
  });

  it('says key-exhausted at the end of the DUKPT counter, before prompting', async () => {
    const fresh = new MockPinPad(clock);
    await fresh.open();
    await expectFault(fresh.requestPin(request()), 'pin-pad', 'no-keys');
    const ipek = deriveTdesIpek(TDES_BDK, TDES_KSN);
    fresh.injectKey({ scheme: 'tdes-dukpt', initialKey: ipek, initialKsn: TDES_KSN }, { resumeAtCounter: 0x1ff800 });
    fresh.queue({ kind: 'pin', digits: '1234' });
    const last = await fresh.requestPin(request());
    expect(Buffer.from(last.ksn).toString('hex').toUpperCase()).toBe('FFFF9876543210FFF800');
    expect(decryptPinBlock({ bdk: TDES_BDK, ksn: last.ksn, pinBlock: last.pinBlock, pan: PAN, format: 0 })).toBe(
      '1234',
    );
    await expectFault(fresh.requestPin(request()), 'pin-pad', 'key-exhausted');
    expect(fresh.prompts).toHaveLength(1);
    expect((await fresh.info()).keys).toEqual({ 'tdes-dukpt': { nextKsn: null } });
  });

  it('erases its keys on tamper and refuses everything after', async () => {
    const tampers: string[] = [];
    pad.on('tamper', ({ reason }) => tampers.push(reason));
    const p = pad.requestPin(request());
    pad.tamper('case opened');
    await expectFault(p, 'pin-pad', 'tamper');
    await expectFault(pad.requestPin(request()), 'pin-pad', 'tamper');
    await expectFault(pad.info(), 'pin-pad', 'tamper');
    expect(tampers).toEqual(['case opened']);
  });

  it('takes injected faults on open and request', async () => {
    const other = new MockPinPad(clock);
    other.inject({ op: 'open', code: 'not-connected' });
    await expectFault(other.open(), 'pin-pad', 'not-connected');
    await other.open();
    other.inject({ op: 'request', code: 'tamper' });
    await expectFault(other.requestPin(request()), 'pin-pad', 'tamper');
  });
});
