/** The handler on stub ports: an unexpected failure of the terminal is a nexo Failure and one anomaly, no stack. */
import { describe, expect, it } from 'vitest';
import { createNexoHandler } from '../../src/nexo/handler.js';
import { context, paymentRequest, POI_ID, published } from './support.js';

describe('nexo handler faults', () => {
  it('answers UnavailableService when the command service throws, journaling one system fault', async () => {
    const raised: Array<{ name: string; reason?: string }> = [];
    const nexo = createNexoHandler({
      commands: {
        run: async () => {
          throw new Error('disk on fire');
        },
      },
      journal: { transactions: { get: () => undefined, findByEcrRequestId: () => undefined } },
      anomalies: { raise: (name, ctx) => raised.push({ name, ...ctx }) },
      clock: { now: () => 0 },
      poiId: POI_ID,
      defaultCurrency: '978',
    });
    const reply = await nexo(paymentRequest('1', 10), context);
    const payment = published(reply).PaymentResponse!;
    expect(payment.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'UnavailableService' });
    expect(JSON.stringify(reply)).not.toContain('disk on fire');
    expect(raised).toEqual([{ name: 'system-fault', reason: 'nexo 127.0.0.1: Error: disk on fire' }]);
  });
});
