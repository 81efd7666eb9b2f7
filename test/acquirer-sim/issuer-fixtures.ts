/**
 * The terminal's side of the issuer tests: a MACed link to the host simulator (master key loaded, sign-on, every
 * financial message MACed and every answer verified), a chip card in the mock reader and a PIN pad holding DUKPT
 * keys derived from the simulator's BDK.
 */
import { randomBytes } from 'node:crypto';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import type { EmvOnlineAnswer, EmvStartInput } from '../../hal/card-reader/emv-contract.js';
import { MockCardReader } from '../../hal/card-reader/mock.js';
import { ManualClock } from '../../hal/clock.js';
import { deriveTdesIpek } from '../../hal/crypto/index.js';
import { issuerDataFrom } from '../../hal/emv/index.js';
import { MockPinPad } from '../../hal/pin-pad/mock.js';
import { AcquirerClient, type HostReply, isoCorrelator } from '../../src/acquirer/acquirer-client.js';
import { MacSession } from '../../src/acquirer/mac-session.js';
import { signOn } from '../../src/acquirer/sign-on.js';
import { AcquirerHostSimulator, type HostSimOptions, TEST_BDK_HEX } from '../../src/acquirer-sim/simulator.js';
import { testCard, testEmvProfile } from '../../src/card/test-cards.js';
import {
  buildFinancialRequest,
  type FinancialRequest,
  isApprovedClass,
  PROCESSING_CODE,
} from '../../src/iso8583/index.js';
import { until } from '../support/wait.js';

export const TID = 'TERM0055';
export const BDK = Buffer.from(TEST_BDK_HEX, 'hex');
export const INITIAL_KSN = Buffer.from('FFFF9876543210E00000', 'hex');

export function startInput(amount: number): EmvStartInput {
  return {
    amount,
    currencyNumeric: 978,
    countryNumeric: 250,
    transactionType: '00',
    date: '260101',
    unpredictableNumber: Uint8Array.of(0x12, 0x34, 0x56, 0x78),
    terminalCapabilities: 'E068C8',
    floorLimit: 5000,
    tac: { denial: '0010000000', online: 'DC4004F800', default: 'DC4000A800' },
    contactlessCvmLimit: 5000,
    contactlessTransactionLimit: 50_000,
  };
}

let stan = 700;
export function saleRequest(pan: string, amount: number, extra: Partial<FinancialRequest> = {}): FinancialRequest {
  return {
    processingCode: PROCESSING_CODE.purchase,
    amount,
    currency: '978',
    stan: ++stan,
    transmittedAt: new Date(Date.UTC(2026, 11, 2, 10, 0, 0)),
    terminalId: TID,
    merchantId: 'MERCHANT0000001',
    pan,
    expiry: '2812',
    entryMode: '051',
    ...extra,
  };
}

/** What the terminal hands the card from a 0210: field 39's class, 8A, and tag 91 / scripts of field 55. */
export function onlineAnswer(reply: HostReply): EmvOnlineAnswer {
  const icc = reply.message.fields[55];
  const issuer = icc instanceof Uint8Array ? issuerDataFrom(icc) : {};
  return {
    hostReached: true,
    hostDecision: isApprovedClass(reply.responseCode) ? 'approved' : 'declined',
    authorizationResponseCode: reply.responseCode,
    ...issuer,
  };
}

export async function issuerSetup(options: HostSimOptions = {}) {
  const clock = new ManualClock();
  const tmk = randomBytes(16);
  const sim = new AcquirerHostSimulator({ clock, masterKeys: { [TID]: tmk }, ...options });
  const { port } = await sim.start();
  const link = new TcpHostLink({ host: '127.0.0.1', port, correlator: isoCorrelator, clock, connectTimeoutMs: 5_000 });
  link.start();
  await until(() => link.isUp(), 'link up');
  const mac = new MacSession('required');
  const client = new AcquirerClient(link, mac);
  const session = await signOn({
    client,
    terminalId: TID,
    stan: () => ++stan,
    now: () => new Date(clock.now()),
    masterKey: () => Buffer.from(tmk),
  });
  mac.setKey(session.key);
  const reader = new MockCardReader(clock);
  await reader.open();
  const pad = new MockPinPad(clock);
  pad.injectKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(BDK, INITIAL_KSN), initialKsn: INITIAL_KSN });
  await pad.open();
  /** Inserts a named test card and runs the kernel's first decision; its PAN and field 55. */
  const insert = async (name: string, amount: number) => {
    const card = testCard(name)!;
    const emv = testEmvProfile(name);
    reader.present(card, emv ? { emv } : {});
    await reader.waitForCard({ timeoutMs: 1000 });
    await reader.read();
    const first = await reader.emvStart(startInput(amount));
    return { pan: card.pan, first };
  };
  /** The cardholder types `digits` on the PIN pad: the enciphered block and its KSN, as fields 52 and 53. */
  const pin = async (pan: string, digits: string) => {
    pad.queue({ kind: 'pin', digits });
    return pad.requestPin({ pan, format: 0, minLength: 4, maxLength: 12, timeoutMs: 30_000 });
  };
  const send = (r: FinancialRequest) => client.send(buildFinancialRequest(r));
  const stop = async () => {
    await link.stop();
    await sim.stop();
    await reader.close();
    await pad.close();
  };
  return { clock, sim, client, reader, pad, insert, pin, send, stop };
}
