/** nexo message security against the published Adyen client crypto, both ways, and every way it must refuse. */
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveNexoKey, NexoKeyRing, NexoSecurityError, open, seal } from '../../src/nexo/security.js';
import { adyenKeyMaterial, adyenOpen, adyenSeal, sampleRequest, TEST_KEY, TEST_KEY_CONFIG } from './adyen.js';

const ring = new NexoKeyRing([TEST_KEY_CONFIG, { keyIdentifier: 'other', keyVersion: 2, passphrase: 'another one' }]);

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NexoSecurityError);
    return (err as NexoSecurityError).reason;
  }
  throw new Error('expected a refusal');
}

const response = {
  SaleToPOIResponse: {
    MessageHeader: { MessageCategory: 'Payment', MessageType: 'Response', ServiceID: '1' },
    PaymentResponse: { Response: { Result: 'Success' } },
  },
};

describe('nexo message security', () => {
  it('derives the same key material as the published client', () => {
    const ours = deriveNexoKey(TEST_KEY_CONFIG);
    const theirs = adyenKeyMaterial(TEST_KEY.Passphrase);
    expect(ours.hmacKey.equals(theirs.hmacKey)).toBe(true);
    expect(ours.cipherKey.equals(theirs.cipherKey)).toBe(true);
    expect(ours.iv.equals(theirs.iv)).toBe(true);
  });

  it('opens a request sealed by Adyen NexoCrypto and names the key it used', () => {
    const request = sampleRequest();
    const opened = open(adyenSeal(request, TEST_KEY), ring);
    expect(opened.message).toEqual(request);
    expect(opened.key.keyIdentifier).toBe(TEST_KEY.KeyIdentifier);
  });

  it('seals a response that Adyen NexoCrypto opens, with the header outside and a fresh nonce each time', () => {
    const key = ring.find(TEST_KEY.KeyIdentifier, 1)!;
    const sealed = seal(response, key);
    expect(sealed.SaleToPOIResponse.MessageHeader).toEqual(response.SaleToPOIResponse.MessageHeader);
    expect(sealed.SaleToPOIResponse.SecurityTrailer).toMatchObject({ AdyenCryptoVersion: 1, KeyVersion: 1 });
    expect(adyenOpen(sealed, TEST_KEY)).toEqual(response);
    expect(seal(response, key).SaleToPOIResponse.SecurityTrailer.Nonce).not.toBe(
      sealed.SaleToPOIResponse.SecurityTrailer.Nonce,
    );
    expect(open(seal(sampleRequest(), key), ring).message).toEqual(sampleRequest());
  });

  it('refuses a tampered Hmac or blob', () => {
    const sealed = adyenSeal(sampleRequest(), TEST_KEY);
    const hmac = Buffer.from(sealed.SaleToPOIRequest.SecurityTrailer.Hmac, 'base64');
    hmac[0] = hmac[0]! ^ 1;
    const badHmac = structuredClone(sealed);
    badHmac.SaleToPOIRequest.SecurityTrailer.Hmac = hmac.toString('base64');
    expect(refusal(() => open(badHmac, ring))).toBe('bad-hmac');

    const shortHmac = structuredClone(sealed);
    shortHmac.SaleToPOIRequest.SecurityTrailer.Hmac = 'AAAA';
    expect(refusal(() => open(shortHmac, ring))).toBe('bad-hmac');

    // A flipped bit in the first block garbles it; the padding survives and the Hmac catches it.
    const blob = Buffer.from(sealed.SaleToPOIRequest.NexoBlob, 'base64');
    blob[0] = blob[0]! ^ 1;
    const badBlob = structuredClone(sealed);
    badBlob.SaleToPOIRequest.NexoBlob = blob.toString('base64');
    expect(refusal(() => open(badBlob, ring))).toBe('bad-hmac');
  });

  it('refuses an unknown key identifier or version, and a version of the crypto it does not speak', () => {
    expect(refusal(() => open(adyenSeal(sampleRequest(), { ...TEST_KEY, KeyIdentifier: 'nobody' }), ring))).toBe(
      'unknown-key',
    );
    expect(refusal(() => open(adyenSeal(sampleRequest(), { ...TEST_KEY, KeyVersion: 9 }), ring))).toBe('unknown-key');
    expect(refusal(() => open(adyenSeal(sampleRequest(), { ...TEST_KEY, AdyenCryptoVersion: 2 }), ring))).toBe(
      'unsupported-version',
    );
  });

  it('refuses a wrong passphrase on a known key identifier (the Hmac, or the padding, fails)', () => {
    const reason = refusal(() => open(adyenSeal(sampleRequest(), { ...TEST_KEY, Passphrase: 'guess' }), ring));
    expect(['bad-hmac', 'bad-padding']).toContain(reason);
  });

  it('refuses bad padding, bad base64, a missing trailer and clear text that is not JSON', () => {
    const key = adyenKeyMaterial(TEST_KEY.Passphrase);
    const nonce = Buffer.alloc(16, 7);
    const iv = Buffer.from(key.iv.map((b, i) => b ^ nonce[i]!));
    const raw = (clear: Buffer, autoPadding: boolean) => {
      const cipher = createCipheriv('aes-256-cbc', key.cipherKey, iv).setAutoPadding(autoPadding);
      return Buffer.concat([cipher.update(clear), cipher.final()]);
    };
    const trailer = (clear: Buffer, blob: Buffer) => ({
      SaleToPOIRequest: {
        MessageHeader: {},
        NexoBlob: blob.toString('base64'),
        SecurityTrailer: {
          AdyenCryptoVersion: 1,
          KeyIdentifier: TEST_KEY.KeyIdentifier,
          KeyVersion: 1,
          Nonce: nonce.toString('base64'),
          Hmac: createHmac('sha256', key.hmacKey).update(clear).digest('base64'),
        },
      },
    });
    // 16 bytes ending in 0x00: never valid PKCS#7.
    const unpadded = Buffer.alloc(16, 0);
    expect(refusal(() => open(trailer(unpadded, raw(unpadded, false)), ring))).toBe('bad-padding');
    // Not a whole number of blocks.
    expect(refusal(() => open(trailer(unpadded, Buffer.alloc(5)), ring))).toBe('bad-padding');

    const notJson = Buffer.from('{"SaleToPOIRequest": oops', 'utf8');
    expect(refusal(() => open(trailer(notJson, raw(notJson, true)), ring))).toBe('not-json');
    const wrongEnvelope = Buffer.from(JSON.stringify(response), 'utf8');
    expect(refusal(() => open(trailer(wrongEnvelope, raw(wrongEnvelope, true)), ring))).toBe('wrong-envelope');

    const sealed = adyenSeal(sampleRequest(), TEST_KEY);
    const badBase64 = structuredClone(sealed);
    badBase64.SaleToPOIRequest.NexoBlob = `${sealed.SaleToPOIRequest.NexoBlob.slice(1)}!`;
    expect(refusal(() => open(badBase64, ring))).toBe('bad-base64');
    const shortNonce = structuredClone(sealed);
    shortNonce.SaleToPOIRequest.SecurityTrailer.Nonce = 'AAAA';
    expect(refusal(() => open(shortNonce, ring))).toBe('bad-base64');

    expect(refusal(() => open({ SaleToPOIRequest: { MessageHeader: {}, NexoBlob: 'AAAA' } }, ring))).toBe(
      'malformed-trailer',
    );
    expect(refusal(() => open('text', ring))).toBe('malformed-trailer');
    expect(refusal(() => open({ Other: {} }, ring))).toBe('malformed-trailer');
  });
});
