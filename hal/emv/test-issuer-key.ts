/**
 * The issuer master key of the test cards: the mock card model derives each card's keys from it and the host
 * simulator verifies their cryptograms with it. A published test value, never a key of a real issuer.
 */
export const TEST_ISSUER_MASTER_KEY: Uint8Array = Uint8Array.from(
  Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'),
);
