/** Shared inputs of the EMV reader tests: a terminal's start data and the host's side of the exchange. */
import type { EmvOnlineAnswer, EmvStartInput } from '../../../hal/card-reader/contract.js';
import { verifyArqc } from '../../../hal/emv/cryptogram.js';
import { TEST_ISSUER_MASTER_KEY } from '../../../hal/emv/test-issuer-key.js';

/** 9F33 E068C8: online PIN, signature and no CVM (no offline PIN). TACs as acquirers commonly set them. */
export function startInput(amount: number, overrides: Partial<EmvStartInput> = {}): EmvStartInput {
  return {
    amount,
    currencyNumeric: 978,
    countryNumeric: 250,
    transactionType: '00',
    date: '260101',
    unpredictableNumber: Uint8Array.of(0xca, 0xfe, 0xba, 0xbe),
    terminalCapabilities: 'E068C8',
    floorLimit: 5000,
    tac: { denial: '0010000000', online: 'DC4004F800', default: 'DC4000A800' },
    contactlessCvmLimit: 5000,
    contactlessTransactionLimit: 50_000,
    ...overrides,
  };
}

/** The host: checks the ARQC with the test issuer key and answers field 39 with tag 91. */
export function hostAnswer(
  iccData: Uint8Array,
  pan: string,
  responseCode: string,
  decision: 'approved' | 'declined',
): EmvOnlineAnswer & { arqcValid: boolean } {
  const check = verifyArqc(TEST_ISSUER_MASTER_KEY, iccData, pan, '01');
  return {
    hostReached: true,
    hostDecision: decision,
    authorizationResponseCode: responseCode,
    issuerAuthenticationData: check.issuerAuthenticationData(responseCode),
    arqcValid: check.valid,
  };
}

export const h = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
export const hx = (bytes: Uint8Array | undefined): string =>
  Buffer.from(bytes ?? [])
    .toString('hex')
    .toUpperCase();
