/** A wrong online PIN asked again: the declined attempt set apart in one commit, every STAN keeping one row. */
import { describe, expect, it } from 'vitest';
import { Journal, JournalError } from '../../src/journal/index.js';

const MASKED = '476173******0019';

function sent(j: Journal, ref: string, stan: number) {
  j.transactions.recordState(ref, 'sending', { stan, maskedPan: MASKED, entryMode: 'chip' });
  j.reversals.arm({
    txnRef: ref,
    stan,
    originalMti: '0200',
    processingCode: '000000',
    amount: 2100,
    currency: '978',
    transmittedAt: 1,
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    maskedPan: MASKED,
  });
}

function journal() {
  const j = Journal.open(':memory:');
  j.transactions.begin({ txnRef: 'T1', kind: 'sale', amount: 2100, currency: '978', ecrRequestId: 'r-1' });
  return j;
}

describe('recordPinAttempt', () => {
  it('moves the STAN, the 55 and the settled reversal to the attempt; the sale goes on without them', () => {
    const j = journal();
    sent(j, 'T1', 7);
    j.recordAuthorization('T1', 'authorized', { stan: 7, responseCode: '55' });
    j.recordPinAttempt('T1', 'T1.pin1', 'E203', 'retryingPin');
    const attempt = j.transactions.get('T1.pin1')!;
    expect(attempt).toMatchObject({
      stan: 7,
      responseCode: '55',
      outcome: 'declined',
      maskedPan: MASKED,
      anomalyCode: 'E203',
    });
    expect(attempt.ecrRequestId).toBeNull();
    // It belongs to the sale's batch, so it settles and is purged with it.
    expect(attempt.batchNumber).toBe(j.transactions.get('T1')!.batchNumber);
    expect(attempt.batchNumber).toBe(1);
    const sale = j.transactions.get('T1')!;
    expect(sale).toMatchObject({
      stan: null,
      responseCode: null,
      outcome: null,
      state: 'retryingPin',
      ecrRequestId: 'r-1',
    });
    expect(j.reversals.forTransaction('T1.pin1')?.stan).toBe(7);
    // The next attempt arms its own reversal under its own STAN.
    sent(j, 'T1', 8);
    expect(j.reversals.forTransaction('T1')?.stan).toBe(8);
    expect(j.transactions.findByStan(7)?.txnRef).toBe('T1.pin1');
    // A repeat of the register's request finds the sale, not the attempt.
    expect(j.transactions.findByEcrRequestId('r-1')?.txnRef).toBe('T1');
  });

  it('refuses while the reversal is still owed, and leaves everything as it was', () => {
    const j = journal();
    sent(j, 'T1', 9);
    j.transactions.recordState('T1', 'authorizedAwaitingCard', { stan: 9, responseCode: '55' });
    expect(() => j.recordPinAttempt('T1', 'T1.pin1', null, 'retryingPin')).toThrow(JournalError);
    expect(j.transactions.get('T1.pin1')).toBeUndefined();
    expect(j.transactions.get('T1')).toMatchObject({ stan: 9, responseCode: '55' });
    expect(j.reversals.forTransaction('T1')?.state).toBe('armed');
  });

  it('refuses a transaction that sent nothing or already ended', () => {
    const j = journal();
    expect(() => j.recordPinAttempt('T1', 'T1.pin1', null, 'retryingPin')).toThrow(/no attempt sent/);
    expect(() => j.recordPinAttempt('nope', 'nope.pin1', null, 'retryingPin')).toThrow(JournalError);
  });
});
