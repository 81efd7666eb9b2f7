/**
 * EMV_START and EMV_COMPLETE over a real pseudo-terminal pair (socat; the mock-binding pair where socat is missing):
 * the serial driver against the module emulator, which runs the same card model as the mock reader. The host's
 * side is played with the host simulator's functions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { SerialCardModule } from '../../../hal/card-reader/serial-module.js';
import {
  emvAnswerFrom,
  emvCompleteArgs,
  emvStartArgs,
  emvStartInputFrom,
  emvStartResultFrom,
} from '../../../hal/card-reader/emv-messages.js';
import { verifyArqc } from '../../../hal/emv/cryptogram.js';
import { parseField55 } from '../../../hal/emv/field55.js';
import { TEST_ISSUER_MASTER_KEY } from '../../../hal/emv/test-issuer-key.js';
import { encodeTlv } from '../../../hal/emv/tlv.js';
import { testCard, testEmvProfile } from '../../../src/card/test-cards.js';
import { CardModuleEmulator, type EmulatedCard } from '../../support/card-module-emulator.js';
import { openSerialPair, type SerialPair } from '../../support/pty.js';
import { until } from '../../support/wait.js';
import { expectFault } from '../expect-fault.js';
import { h, hostAnswer, hx, startInput } from './emv-fixtures.js';

const BAUD = 115200;
let pair: SerialPair;
let emulator: CardModuleEmulator;
let reader: SerialCardModule;

beforeEach(async () => {
  pair = await openSerialPair({ forceMock: process.env.POS_SERIAL_MOCK === '1' });
  emulator = await CardModuleEmulator.start(pair.openPort(pair.b, BAUD), { clock: new ManualClock() });
  reader = new SerialCardModule({
    path: pair.a,
    baudRate: BAUD,
    clock: new ManualClock(),
    ...(pair.kind === 'mock' ? { openPort: pair.openPort } : {}),
  });
  await reader.open();
  await until(() => emulator.idle, 'emulator idle');
});

afterEach(async () => {
  await reader.close();
  await emulator.close();
  await pair.close();
});

function emulated(name: string): EmulatedCard {
  const card = testCard(name)!;
  const emv = testEmvProfile(name);
  return {
    entryMode: card.entryMode === 'contactless' ? 'contactless' : 'chip',
    pan: card.pan,
    expiry: card.expiry,
    serviceCode: '201',
    ...(emv ? { emv } : {}),
  };
}

async function insertAndRead(name: string): Promise<string> {
  const card = emulated(name);
  emulator.present(card);
  await reader.waitForCard({ timeoutMs: 30_000 });
  const read = await reader.read();
  expect(read.pan).toBe(card.pan);
  return card.pan;
}

describe('EMV over the serial card module', () => {
  it('online approve: ARQC verified by the host, tag 91 and a script to the card, TC back', async () => {
    const pan = await insertAndRead('emv-issuer-script');
    // The READ answer carries no chip profile and no sensitive EMV data.
    expect(JSON.stringify(emulator.sent.filter((m) => m.rsp === 'READ'))).not.toContain('cvmList');
    const first = await reader.emvStart(startInput(12_500));
    expect(first).toMatchObject({ decision: 'ARQC', cvm: 'signature' });
    expect(hx(first.cvmResults)).toBe('5E0300');
    expect(emulator.commands.map((c) => c.cmd)).toContain('EMV_START');

    const answer = hostAnswer(first.iccData, pan, '00', 'approved');
    expect(answer.arqcValid).toBe(true);
    const scripts = encodeTlv([
      {
        tag: '72',
        children: [
          { tag: '9F18', value: h('00000007') },
          { tag: '86', value: h('04DA9F580401020304') },
        ],
      },
    ]);
    const second = await reader.emvComplete({ ...answer, issuerScripts: scripts });
    expect(second).toMatchObject({ decision: 'TC', authorizationResponseCode: '00' });
    expect(hx(second.scriptResults)).toBe('2000000007');
    expect(verifyArqc(TEST_ISSUER_MASTER_KEY, second.iccData, pan, '01')).toMatchObject({ valid: true, type: 'TC' });
  });

  it('decline after approval, host declined and host unreached', async () => {
    let pan = await insertAndRead('emv-decline-after-approval');
    let first = await reader.emvStart(startInput(12_500));
    expect(await reader.emvComplete(hostAnswer(first.iccData, pan, '00', 'approved'))).toMatchObject({
      decision: 'AAC',
      reason: 'card-declined-after-approval',
    });
    emulator.remove();
    await until(() => emulator.idle, 'removal sent');
    pan = await insertAndRead('emv-online-decline');
    first = await reader.emvStart(startInput(12_500));
    expect(await reader.emvComplete(hostAnswer(first.iccData, pan, '05', 'declined'))).toMatchObject({
      decision: 'AAC',
      reason: 'host-declined',
      authorizationResponseCode: '05',
    });
    await reader.emvStart(startInput(12_500));
    expect(await reader.emvComplete({ hostReached: false })).toMatchObject({
      decision: 'AAC',
      authorizationResponseCode: 'Z3',
    });
  });

  it('offline approve, online PIN and contactless under the CVM limit', async () => {
    await insertAndRead('emv-offline-approve');
    const offline = await reader.emvStart(startInput(1000));
    expect(offline).toMatchObject({ decision: 'TC', authorizationResponseCode: 'Y1' });
    expect(parseField55(offline.iccData).get('9F27')).toEqual(Uint8Array.of(0x40));
    emulator.remove();
    await until(() => emulator.idle, 'removal sent');
    await insertAndRead('emv-online-pin');
    expect((await reader.emvStart(startInput(12_500))).cvm).toBe('online-pin');
    emulator.remove();
    await until(() => emulator.idle, 'removal sent');
    await insertAndRead('emv-contactless');
    expect((await reader.emvStart(startInput(2000))).cvm).toBe('no-cvm');
  });

  it('card removed before completion and chip failure arrive as faults', async () => {
    const pan = await insertAndRead('emv-removed');
    const removed: unknown[] = [];
    reader.on('card-removed', (e) => removed.push(e));
    const first = await reader.emvStart(startInput(12_500));
    await expectFault(
      reader.emvComplete(hostAnswer(first.iccData, pan, '00', 'approved')),
      'card-reader',
      'card-removed',
    );
    await until(() => removed.length === 1, 'CARD_REMOVED event');
    await insertAndRead('emv-chip-error');
    await expectFault(reader.emvStart(startInput(12_500)), 'card-reader', 'chip-error');
    const bad = await expectFault(reader.emvComplete({ hostReached: false }), 'card-reader', 'read-failed');
    expect(bad.detail).toMatchObject({ reason: 'no-transaction' });
  });

  it('refuses module answers it cannot believe: field 55 with a PAN, a bad decision, bad hex', () => {
    const good = { ok: true, decision: 'ARQC', cvm: 'signature', cvmResults: '5E0300', tvr: '0000000000', tlv: '' };
    expect(emvStartResultFrom(good)).toMatchObject({ decision: 'ARQC' });
    for (const wrong of [
      { ...good, decision: 'MAYBE' },
      { ...good, cvm: 'telepathy' },
      { ...good, tvr: '00' },
      { ...good, tlv: 'zz' },
      { ...good, tlv: '5A084761739001010010' },
    ]) {
      const result = emvStartResultFrom(wrong);
      expect(result).toMatchObject({ code: 'chip-error', detail: { reason: 'bad-response' } });
      expect(JSON.stringify(result)).not.toContain('4761');
    }
    expect(emvStartResultFrom({ ok: false, error: 'card-removed' })).toMatchObject({ code: 'card-removed' });
    expect(emvStartResultFrom({ ok: false, error: 'weird' })).toMatchObject({ code: 'chip-error' });
  });

  it('the terminal data and the host answer cross the line as TLV and come back the same', () => {
    const input = startInput(12_345, {
      amountOther: 500,
      tvrStart: '0000000800',
      onlineCapable: false,
      terminalType: '21',
    });
    expect(emvStartInputFrom(emvStartArgs(input))).toEqual(input);
    const { contactlessCvmLimit: _c, contactlessTransactionLimit: _t, ...contact } = startInput(1);
    expect(emvStartInputFrom(emvStartArgs(contact))).toEqual({
      ...contact,
      amountOther: 0,
      terminalType: '22',
      tvrStart: '0000000000',
      onlineCapable: true,
    });
    const answer = {
      hostReached: true as const,
      hostDecision: 'approved' as const,
      authorizationResponseCode: '00',
      issuerAuthenticationData: h('01020304050607083030'),
      issuerScripts: encodeTlv([{ tag: '71', children: [{ tag: '86', value: h('841E000000') }] }]),
    };
    expect(emvAnswerFrom(emvCompleteArgs(answer))).toEqual(answer);
    expect(emvAnswerFrom(emvCompleteArgs({ hostReached: false }))).toEqual({ hostReached: false });
    for (const bad of [{ tlv: 'zz' }, { tlv: '9F0206000000001234' }, {}])
      expect(emvStartInputFrom(bad)).toBeUndefined();
    expect(emvAnswerFrom({ hostReached: true, hostDecision: 'maybe', tlv: '8A023030' })).toBeUndefined();
    expect(emvAnswerFrom({ hostReached: true, hostDecision: 'approved', tlv: '9102' })).toBeUndefined();
  });
});
