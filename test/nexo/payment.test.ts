/** Payments over nexo on a whole terminal on mocks: the host simulator's ledger says what was charged. */
import { describe, expect, it } from 'vitest';
import { authorizations, bootNexo, context, paymentRequest, presentWhenAsked, published, request } from './support.js';

describe('nexo Payment', () => {
  it('charges an approved payment once and answers card, amounts, acquirer data and receipts', async () => {
    const { app, nexo } = await bootNexo();
    const pending = nexo(paymentRequest('101', 12.5), context);
    await presentWhenAsked(app, 'visa');
    const response = published(await pending);
    const payment = response.PaymentResponse!;
    expect(payment.Response).toMatchObject({ Result: 'Success' });
    expect(payment.Response.AdditionalResponse).toMatch(/txnRef=/);
    expect(payment.SaleData.SaleTransactionID.TransactionID).toBe('order-101');
    const txnRef = payment.POIData.POITransactionID.TransactionID;
    expect(app.journal.transactions.get(txnRef)).toMatchObject({ outcome: 'approved', amount: 1250, currency: '978' });
    const result = payment.PaymentResult!;
    expect(result.AmountsResp).toEqual({ AuthorizedAmount: 12.5, Currency: 'EUR' });
    expect(result.PaymentInstrumentData?.CardData?.MaskedPan).toMatch(/^\d{6}\*+\d{4}$/);
    expect(result.PaymentInstrumentData?.CardData?.PaymentBrand).toBe('visa');
    expect((result.PaymentInstrumentData?.CardData?.EntryMode ?? []).map(String)).toEqual(['ICC']);
    expect(result.PaymentAcquirerData?.ApprovalCode).toMatch(/^\w{6}$/);
    expect(result.PaymentAcquirerData?.AcquirerTransactionID?.TransactionID).toBeTruthy();
    const receipt = payment.PaymentReceipt ?? [];
    expect(receipt.map((r) => String(r.DocumentQualifier))).toEqual(['CashierReceipt', 'CustomerReceipt']);
    const lines = (receipt[0]?.OutputContent.OutputText ?? []).map((t) => t.Text).join('\n');
    expect(lines).toContain('AMOUNT 12.50 EUR');
    expect(lines).toContain('APPROVED');
    expect(lines).not.toMatch(/\d{13,19}/);
    expect(authorizations(app).map((e) => e.amount)).toEqual([1250]);
  });

  it('answers a declined payment Failure Refusal with the anomaly code', async () => {
    const { app, nexo } = await bootNexo();
    const pending = nexo(paymentRequest('102', '20.00'), context);
    await presentWhenAsked(app, 'do-not-honour');
    const payment = published(await pending).PaymentResponse!;
    expect(payment.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'Refusal' });
    expect(new URLSearchParams(payment.Response.AdditionalResponse).get('anomaly')).toMatch(/^E\d{3}$/);
    expect(payment.PaymentResult?.AmountsResp).toBeUndefined();
  });

  it('takes amounts by the currency exponent: 1000 JPY is 1000 minor units, 1.234 KWD is 1234', async () => {
    const { app, nexo } = await bootNexo();
    const yen = nexo(paymentRequest('103', 1000, 'JPY'), context);
    await presentWhenAsked(app, 'visa');
    const yenResult = published(await yen).PaymentResponse!;
    expect(yenResult.PaymentResult?.AmountsResp).toEqual({ AuthorizedAmount: 1000, Currency: 'JPY' });
    const dinar = nexo(paymentRequest('104', '1.234', 'KWD'), context);
    await presentWhenAsked(app, 'mastercard');
    const dinarResult = published(await dinar).PaymentResponse!;
    expect(dinarResult.PaymentResult?.AmountsResp).toEqual({ AuthorizedAmount: 1.234, Currency: 'KWD' });
    expect(authorizations(app).map((e) => [e.amount, e.currency])).toEqual([
      [1000, '392'],
      [1234, '414'],
    ]);
    // Half a yen is not an amount: refused before anything is charged.
    const half = published(await nexo(paymentRequest('105', '10.5', 'JPY'), context)).PaymentResponse!;
    expect(half.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'MessageFormat' });
    expect(authorizations(app)).toHaveLength(2);
  });

  it('refunds with the supervisor PIN in SaleToPOIData, and refuses a refund without it', async () => {
    const { app, nexo } = await bootNexo();
    const refund = (serviceId: string, saleToPoi?: string) =>
      paymentRequest(serviceId, '5.00', 'EUR', {
        PaymentData: { PaymentType: 'Refund' },
        SaleData: {
          SaleTransactionID: { TransactionID: `refund-${serviceId}`, TimeStamp: '2026-12-02T08:00:00.000Z' },
          ...(saleToPoi ? { SaleToPOIData: saleToPoi } : {}),
        },
      });
    const refused = published(await nexo(refund('201'), context)).PaymentResponse!;
    expect(refused.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'NotAllowed' });
    const pending = nexo(refund('202', 'supervisorPin=1234'), context);
    await presentWhenAsked(app, 'visa');
    const done = published(await pending).PaymentResponse!;
    expect(done.Response.Result).toBe('Success');
    expect(String(done.PaymentResult?.PaymentType)).toBe('Refund');
    expect(app.journal.transactions.get(done.POIData.POITransactionID.TransactionID)).toMatchObject({
      kind: 'refund',
      outcome: 'approved',
      amount: 500,
    });
  });

  it('answers a repeat of SaleID + ServiceID from the journal: one charge', async () => {
    const { app, nexo } = await bootNexo();
    const pending = nexo(paymentRequest('301', 7), context);
    await presentWhenAsked(app, 'visa');
    const first = published(await pending).PaymentResponse!;
    const again = published(await nexo(paymentRequest('301', 7), context)).PaymentResponse!;
    expect(again.Response.Result).toBe('Success');
    expect(again.POIData.POITransactionID).toEqual(first.POIData.POITransactionID);
    expect(again.PaymentResult?.AmountsResp).toEqual(first.PaymentResult?.AmountsResp);
    expect(authorizations(app)).toHaveLength(1);
    // The same ids for another amount are not the same request.
    const other = published(await nexo(paymentRequest('301', 8), context)).PaymentResponse!;
    expect(other.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'MessageFormat' });
    expect(authorizations(app)).toHaveLength(1);
  });

  it('answers Busy while another payment runs, and Aborted for the payment the register aborted', async () => {
    const { app, nexo } = await bootNexo();
    const pending = nexo(paymentRequest('401', 30), context);
    await presentWhenAsked(app, 'visa').catch(() => undefined);
    await pending;
    const running = nexo(paymentRequest('402', 31), context);
    await new Promise<void>((resolve) => {
      const check = () =>
        app.terminal.status().transaction?.state === 'waitingForCard' ? resolve() : setTimeout(check, 2);
      check();
    });
    const busy = published(await nexo(paymentRequest('403', 32), context)).PaymentResponse!;
    expect(busy.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'Busy' });
    // The same request again while it runs: InProgress, not a second transaction.
    const repeat = published(await nexo(paymentRequest('402', 31), context)).PaymentResponse!;
    expect(repeat.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'InProgress' });
    const diagnosis = published(await nexo(request('Diagnosis', '405', {}), context)).DiagnosisResponse!;
    expect(String(diagnosis.POIStatus?.GlobalStatus)).toBe('Busy');
    const abort = published(
      await nexo(
        request('Abort', '404', {
          AbortReason: 'MerchantAbort',
          MessageReference: { MessageCategory: 'Payment', SaleID: 'POS-1', ServiceID: '402' },
        }),
        context,
      ),
    );
    expect(abort.MessageHeader.ServiceID).toBe('404');
    const aborted = published(await running).PaymentResponse!;
    expect(aborted.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'Aborted' });
    expect(authorizations(app).map((e) => e.amount)).toEqual([3000]);
  });
});
