/** The published Adyen client crypto, the outside judge of our nexo message security. */
import { createRequire } from 'node:module';

export interface AdyenSecurityKey {
  AdyenCryptoVersion: number;
  KeyIdentifier: string;
  KeyVersion: number;
  Passphrase: string;
}

export interface AdyenSealed {
  MessageHeader: unknown;
  NexoBlob: string;
  SecurityTrailer: {
    AdyenCryptoVersion: number;
    KeyIdentifier: string;
    KeyVersion: number;
    Nonce: string;
    Hmac: string;
  };
}

interface NexoCryptoClass {
  new (): { decrypt(sealed: AdyenSealed, key: AdyenSecurityKey): string };
  encrypt(header: unknown, json: string, key: AdyenSecurityKey): AdyenSealed;
}

const require = createRequire(import.meta.url);
const NexoCrypto = (require('@adyen/api-library/lib/src/security/nexoCrypto.js') as { default: NexoCryptoClass })
  .default;
const keyGenerator = (
  require('@adyen/api-library/lib/src/security/nexoDerivedKeyGenerator.js') as {
    default: { deriveKeyMaterial(p: string): { cipherKey: Buffer; hmacKey: Buffer; iv: Buffer } };
  }
).default;

/** Seals the JSON of a whole `{ SaleToPOIRequest }` as an Adyen client does; returns the body to POST. */
export function adyenSeal(request: { SaleToPOIRequest: { MessageHeader?: unknown } }, key: AdyenSecurityKey) {
  return { SaleToPOIRequest: NexoCrypto.encrypt(request.SaleToPOIRequest.MessageHeader, JSON.stringify(request), key) };
}

/** Opens a sealed `{ SaleToPOIResponse }` body as an Adyen client does; throws when Adyen's check fails. */
export function adyenOpen(response: { SaleToPOIResponse: AdyenSealed }, key: AdyenSecurityKey): unknown {
  return JSON.parse(new NexoCrypto().decrypt(response.SaleToPOIResponse, key));
}

export function adyenKeyMaterial(passphrase: string) {
  return keyGenerator.deriveKeyMaterial(passphrase);
}

export const TEST_KEY: AdyenSecurityKey = {
  AdyenCryptoVersion: 1,
  KeyIdentifier: 'CryptoKeyIdentifier12345',
  KeyVersion: 1,
  Passphrase: 'p@ssw0rd123456',
};

export const TEST_KEY_CONFIG = {
  keyIdentifier: TEST_KEY.KeyIdentifier,
  keyVersion: TEST_KEY.KeyVersion,
  passphrase: TEST_KEY.Passphrase,
};

export function sampleRequest(serviceId = '1') {
  return {
    SaleToPOIRequest: {
      MessageHeader: {
        ProtocolVersion: '3.0',
        MessageClass: 'Service',
        MessageCategory: 'Payment',
        MessageType: 'Request',
        SaleID: 'POS1',
        ServiceID: serviceId,
        POIID: 'SIM00001',
      },
      PaymentRequest: {
        SaleData: { SaleTransactionID: { TransactionID: 'T1', TimeStamp: '2026-01-01T00:00:00Z' } },
        PaymentTransaction: { AmountsReq: { Currency: 'EUR', RequestedAmount: 12.5 } },
      },
    },
  };
}
