/**
 * The host simulator as an issuer: the ARQC of field 55 verified with the test issuer key and answered with tag 91
 * that the card model accepts at its second decision; a tampered or unparsable field 55 declined (05), the
 * simulator still up; the issuer script card answered with its script; an advice whose TC does not verify booked but
 * flagged. Real ISO 8583 messages over a MACed loopback link, field 55 from the mock reader's card model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ISSUER_SCRIPT_TEST_PAN, parseField55, verifyArqc, TEST_ISSUER_MASTER_KEY } from '../../hal/emv/index.js';
import { buildAdvice, buildFinancialRequest, pack, unpack } from '../../src/iso8583/index.js';
import { issuerSetup, onlineAnswer, saleRequest } from './issuer-fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const s = await issuerSetup();
  cleanups.push(s.stop);
  return s;
}

const hx = (b: Uint8Array | undefined) =>
  Buffer.from(b ?? [])
    .toString('hex')
    .toUpperCase();

describe('field 55 of a 0200: the ARQC', () => {
  it('a valid ARQC: approved, tag 91 in the 0210, the card accepts it (TC), the ledger says so', async () => {
    const { sim, reader, insert, send } = await setup();
    const { pan, first } = await insert('emv-online-approve', 12_500);
    expect(first.decision).toBe('ARQC');
    const reply = await send(saleRequest(pan, 12_500, { iccData: first.iccData }));
    expect(reply.responseCode).toBe('00');
    const icc = reply.message.fields[55] as Uint8Array;
    expect(icc).toBeInstanceOf(Uint8Array);
    expect(hx(onlineAnswer(reply).issuerAuthenticationData).slice(16)).toBe('3030'); // ARC = field 39
    const second = await reader.emvComplete(onlineAnswer(reply));
    expect(second).toMatchObject({ decision: 'TC', authorizationResponseCode: '00' });
    expect(second.reason).toBeUndefined();
    expect(sim.totals().netAmount).toBe(12_500);
    const out = sim.ledger.find((e) => e.dir === 'out' && e.mti === '0210')!;
    expect(out).toMatchObject({ field55: true, cryptogramValid: true, pinPresent: false, movedAmount: 12_500 });
    expect(out.pan ?? '').not.toContain(pan);
  });

  it('a declining rule still answers tag 91 (ARC 05), and the card is told: AAC', async () => {
    const { reader, insert, send } = await setup();
    const { pan, first } = await insert('emv-online-approve', 100_005); // magic amount: 05
    const reply = await send(saleRequest(pan, 100_005, { iccData: first.iccData }));
    expect(reply.responseCode).toBe('05');
    expect(hx(onlineAnswer(reply).issuerAuthenticationData).slice(16)).toBe('3035');
    expect((await reader.emvComplete(onlineAnswer(reply))).decision).toBe('AAC');
  });

  it('a tampered 9F26: declined 05, nothing owed, the reason in the ledger, no tag 91', async () => {
    const { sim, insert, send } = await setup();
    const { pan, first } = await insert('emv-online-approve', 12_500);
    const tampered = Buffer.from(first.iccData);
    const at = tampered.indexOf(Buffer.from([0x9f, 0x26, 0x08]));
    expect(at).toBeGreaterThanOrEqual(0);
    tampered[at + 3] = (tampered[at + 3] ?? 0) ^ 0x01;
    const reply = await send(saleRequest(pan, 12_500, { iccData: tampered }));
    expect(reply.responseCode).toBe('05');
    expect(reply.message.fields[55]).toBeUndefined();
    expect(sim.totals().netAmount).toBe(0);
    const out = sim.ledger.find((e) => e.dir === 'out' && e.mti === '0210')!;
    expect(out).toMatchObject({ field55: true, cryptogramValid: false, movedAmount: 0 });
    expect(out.verification).toContain('9F26');
  });

  it('a told approval does not approve a cryptogram that fails', async () => {
    const { sim, insert, send } = await setup();
    const { first } = await insert('emv-online-approve', 12_500);
    sim.answerOnce({ mti: '0210', responseCode: '00' });
    // The ARQC was computed for another card: it cannot verify under this PAN's key.
    const reply = await send(saleRequest('4761739001010010', 12_500, { iccData: first.iccData }));
    expect(reply.responseCode).toBe('05');
  });

  it('garbage field 55: declined 05, no crash, the simulator still answers', async () => {
    const { sim, insert, send } = await setup();
    const garbage = Uint8Array.of(0x9f, 0x26, 0x81, 0xff, 0x01);
    const reply = await send(saleRequest('4761739001010010', 1_000, { iccData: garbage }));
    expect(reply.responseCode).toBe('05');
    const missingTags = Uint8Array.of(0x9f, 0x26, 0x02, 0x01, 0x02);
    expect((await send(saleRequest('4761739001010010', 1_000, { iccData: missingTags }))).responseCode).toBe('05');
    const reasons = sim.ledger.filter((e) => e.dir === 'out' && e.mti === '0210').map((e) => e.verification);
    expect(reasons[0]).toBe('field 55 unusable (bad-tlv)');
    expect(reasons[1]).toBe('field 55 unusable (missing-tags)');
    const { pan, first } = await insert('emv-online-approve', 2_000);
    expect((await send(saleRequest(pan, 2_000, { iccData: first.iccData }))).responseCode).toBe('00');
    expect(sim.totals().netAmount).toBe(2_000);
  });

  it('a magstripe 0200 without field 55 is answered as before', async () => {
    const { sim, send } = await setup();
    const reply = await send(saleRequest('4761739001010010', 1_500, { entryMode: '901' }));
    expect(reply.responseCode).toBe('00');
    expect(reply.message.fields[55]).toBeUndefined();
    expect(sim.ledger.find((e) => e.dir === 'out' && e.mti === '0210')).toMatchObject({ field55: false });
  });

  it('the issuer script card: 72 in the answer, run by the card, its result in 9F5B', async () => {
    const { reader, insert, send } = await setup();
    const { pan, first } = await insert('emv-issuer-script', 3_000);
    expect(pan).toBe(ISSUER_SCRIPT_TEST_PAN);
    const reply = await send(saleRequest(pan, 3_000, { iccData: first.iccData }));
    expect(reply.responseCode).toBe('00');
    const answer = onlineAnswer(reply);
    expect(answer.issuerScripts?.[0]).toBe(0x72);
    const second = await reader.emvComplete(answer);
    expect(second.decision).toBe('TC');
    expect(hx(second.scriptResults)).toBe('2000000001');
  });
});

describe('field 55 of an advice: the TC', () => {
  it('a verified TC and a forged one are both booked; the forged one is flagged', async () => {
    const { sim, client, reader, insert, send } = await setup();
    const { pan, first } = await insert('emv-online-approve', 4_000);
    const reply = await send(saleRequest(pan, 4_000, { iccData: first.iccData }));
    const second = await reader.emvComplete(onlineAnswer(reply));
    expect(verifyArqc(TEST_ISSUER_MASTER_KEY, second.iccData, pan).type).toBe('TC');
    const good = await client.send(
      buildAdvice({ ...saleRequest(pan, 4_000, { iccData: second.iccData }), approvalCode: 'Y1' }, { repeat: false }),
    );
    expect(good.responseCode).toBe('00');
    const forged = Buffer.from(second.iccData);
    const at = forged.indexOf(Buffer.from([0x9f, 0x26, 0x08]));
    forged[at + 10] = (forged[at + 10] ?? 0) ^ 0xff;
    const bad = await client.send(
      buildAdvice({ ...saleRequest(pan, 4_000, { iccData: forged }), approvalCode: 'Y1' }, { repeat: false }),
    );
    expect(bad.responseCode).toBe('00');
    expect(sim.totals().advices).toEqual({ count: 2, amount: 8_000 });
    const advices = sim.ledger.filter((e) => e.dir === 'out' && e.mti === '0230');
    expect(advices.map((e) => e.cryptogramValid)).toEqual([true, false]);
    expect(advices[1]!.verification).toMatch(/TC not verified, booked anyway/);
  });
});

describe('what travels', () => {
  it('field 55 of the 0210 round-trips the codec and parses as BER-TLV', async () => {
    const { insert, send } = await setup();
    const { pan, first } = await insert('emv-online-approve', 1_250);
    expect(parseField55(first.iccData).has('9F26')).toBe(true);
    const reply = await send(saleRequest(pan, 1_250, { iccData: first.iccData }));
    const again = unpack(pack(reply.message));
    expect(hx(again.fields[55] as Uint8Array)).toBe(hx(reply.message.fields[55] as Uint8Array));
    expect(buildFinancialRequest(saleRequest(pan, 1, { iccData: first.iccData })).fields[55]).toBeDefined();
  });
});
