/** Reversal, TransactionStatus, Diagnosis, Login/Logout and bad input over nexo. */
import { describe, expect, it } from 'vitest';
import type { TerminalApp } from '../../src/app/compose.js';
import type { NexoHandler } from '../../src/nexo/types.js';
import { authorizations, bootNexo, context, paymentRequest, presentWhenAsked, published, request } from './support.js';

async function pay(app: TerminalApp, nexo: NexoHandler, serviceId: string, amount: number, card = 'visa') {
  const pending = nexo(paymentRequest(serviceId, amount), context);
  await presentWhenAsked(app, card);
  return published(await pending).PaymentResponse!;
}

function status(serviceId: string, reference?: object) {
  return request('TransactionStatus', serviceId, reference ? { MessageReference: reference } : {});
}

describe('nexo Reversal', () => {
  it('voids the payment named by its POITransactionID, with the supervisor PIN', async () => {
    const { app, nexo } = await bootNexo();
    const payment = await pay(app, nexo, '501', 15);
    const original = payment.POIData.POITransactionID;
    const reversal = (serviceId: string, pin?: string) =>
      request('Reversal', serviceId, {
        OriginalPOITransaction: { POITransactionID: original },
        ReversalReason: 'MerchantCancel',
        ...(pin
          ? {
              SaleData: {
                SaleTransactionID: { TransactionID: 'rev', TimeStamp: original.TimeStamp },
                SaleToPOIData: `supervisorPin=${pin}`,
              },
            }
          : {}),
      });
    const refused = published(await nexo(reversal('502'), context)).ReversalResponse!;
    expect(refused.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'NotAllowed' });
    const done = published(await nexo(reversal('503', '1234'), context)).ReversalResponse!;
    expect(done.Response.Result).toBe('Success');
    expect(done.ReversedAmount).toBe(15);
    expect(done.OriginalPOITransaction?.POITransactionID).toEqual(original);
    expect(app.journal.transactions.get(done.POIData!.POITransactionID.TransactionID)).toMatchObject({
      kind: 'void',
      outcome: 'approved',
      originalStan: app.journal.transactions.get(original.TransactionID)!.stan,
    });
    // The reversal's answer again, by its MessageReference.
    const again = published(
      await nexo(status('505', { SaleID: 'POS-1', ServiceID: '503', MessageCategory: 'Reversal' }), context),
    ).TransactionStatusResponse!;
    expect(again.RepeatedMessageResponse?.RepeatedResponseMessageBody.ReversalResponse).toEqual(done);
    const unknown = published(
      await nexo(
        request('Reversal', '504', {
          OriginalPOITransaction: { POITransactionID: { TransactionID: 'no-such', TimeStamp: original.TimeStamp } },
          ReversalReason: 'MerchantCancel',
        }),
        context,
      ),
    ).ReversalResponse!;
    expect(unknown.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'NotFound' });
  });
});

describe('nexo TransactionStatus', () => {
  it('answers InProgress while the payment runs, then the journaled payment inside RepeatedMessageResponse', async () => {
    const { app, nexo } = await bootNexo();
    // The register never reads this answer: it asks for the status instead.
    const lost = nexo(paymentRequest('601', 9.99), context);
    await new Promise<void>((resolve) => {
      const check = () => (app.terminal.status().transaction ? resolve() : setTimeout(check, 2));
      check();
    });
    const reference = { SaleID: 'POS-1', ServiceID: '601', MessageCategory: 'Payment' };
    const running = published(await nexo(status('602', reference), context)).TransactionStatusResponse!;
    expect(running.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'InProgress' });
    await presentWhenAsked(app, 'visa');
    const answered = published(await lost).PaymentResponse!;
    const finished = published(await nexo(status('603', reference), context)).TransactionStatusResponse!;
    expect(finished.Response.Result).toBe('Success');
    const repeated = finished.RepeatedMessageResponse!;
    expect(repeated.MessageHeader.ServiceID).toBe('601');
    expect(String(repeated.MessageHeader.MessageCategory)).toBe('Payment');
    expect(repeated.RepeatedResponseMessageBody.PaymentResponse).toEqual(answered);
    // Without a MessageReference: the last payment of this SaleID.
    const last = published(await nexo(status('604'), context)).TransactionStatusResponse!;
    expect(last.RepeatedMessageResponse?.RepeatedResponseMessageBody.PaymentResponse).toEqual(answered);
    expect(authorizations(app)).toHaveLength(1);
  });

  it('answers NotFound for a payment it never saw', async () => {
    const { nexo } = await bootNexo();
    const reference = { SaleID: 'POS-1', ServiceID: 'never', MessageCategory: 'Payment' };
    const response = published(await nexo(status('701', reference), context)).TransactionStatusResponse!;
    expect(response.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'NotFound' });
    expect(response.MessageReference?.ServiceID).toBe('never');
  });
});

describe('nexo Diagnosis, Login, Logout', () => {
  it('reports the self-test per device and the logged-in sale systems', async () => {
    const { nexo } = await bootNexo();
    const login = published(
      await nexo(
        request('Login', '801', {
          DateTime: '2026-12-02T08:00:00.000Z',
          SaleSoftware: {
            ManufacturerID: 'Shop',
            ApplicationName: 'Till',
            SoftwareVersion: '1.0',
            CertificationCode: 'x',
          },
          OperatorLanguage: 'en',
          OperatorID: 'cashier-7',
        }),
        context,
      ),
    ).LoginResponse!;
    expect(login.Response.Result).toBe('Success');
    const diagnosis = published(await nexo(request('Diagnosis', '802', { HostDiagnosisFlag: true }), context))
      .DiagnosisResponse!;
    expect(diagnosis.Response.Result).toBe('Success');
    expect(diagnosis.POIStatus).toMatchObject({ CardReaderOKFlag: true, CommunicationOKFlag: true });
    expect(String(diagnosis.POIStatus?.GlobalStatus)).toBe('OK');
    expect(String(diagnosis.POIStatus?.PrinterStatus)).toBe('OK');
    expect(diagnosis.HostStatus?.[0]?.IsReachableFlag).toBe(true);
    expect(diagnosis.LoggedSaleID).toEqual(['POS-1']);
    const checks = new URLSearchParams(diagnosis.Response.AdditionalResponse);
    expect(checks.get('card-reader')).toBe('ok');
    expect(checks.get('printer')).toBe('ok');
    const logout = published(await nexo(request('Logout', '803', {}), context)).LogoutResponse!;
    expect(logout.Response.Result).toBe('Success');
    const after = published(await nexo(request('Diagnosis', '804', {}), context)).DiagnosisResponse!;
    expect(after.LoggedSaleID).toBeUndefined();
  });

  it('answers a category it does not serve UnavailableService, not MessageFormat', async () => {
    const { nexo } = await bootNexo();
    // A category nexo defines and this terminal does not serve (yet): UnavailableService, not MessageFormat.
    const reconciliation = published(
      await nexo(request('Reconciliation', '903', { ReconciliationType: 'SaleReconciliation' }), context),
    ).ReconciliationResponse!;
    expect(reconciliation.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'UnavailableService' });
  });
});

describe('nexo bad input', () => {
  it('answers Failure MessageFormat, journals it, and charges nothing', async () => {
    const { app, nexo } = await bootNexo();
    const bad: unknown[] = [
      null,
      { SaleToPOIRequest: 'text' },
      { SaleToPOIRequest: { MessageHeader: { MessageType: 'Request' } } },
      request('Teleport', '1', {}),
      request('Payment', '2', {}),
      paymentRequest('3', 'twelve'),
      paymentRequest('4', -5),
      paymentRequest('5', 10, 'XYZ'),
      paymentRequest('6', { value: 10 } as unknown as number),
      request('Payment', '4111111111111111', {
        SaleData: { SaleTransactionID: { TransactionID: 'x', TimeStamp: 'now' } },
        PaymentTransaction: { AmountsReq: { Currency: 'EUR', RequestedAmount: 1 } },
      }),
      request('Abort', '7', { AbortReason: 'x' }),
    ];
    for (const message of bad) {
      const reply = await nexo(message as { SaleToPOIRequest: Record<string, unknown> }, context);
      const body = Object.entries(reply.SaleToPOIResponse).find(([k]) => k !== 'MessageHeader')?.[1] as {
        Response: { Result: string; ErrorCondition: string; AdditionalResponse: string };
      };
      expect(body.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'MessageFormat' });
      expect(JSON.stringify(reply)).not.toContain('4111111111111111');
      expect(JSON.stringify(reply)).not.toMatch(/at .*\.ts:\d+/);
    }
    const journaled = app.journal.anomalies.list({}).filter((a) => a.message.includes('nexo'));
    expect(journaled.length).toBeGreaterThanOrEqual(bad.length);
    expect(JSON.stringify(journaled)).not.toContain('4111111111111111');
    expect(authorizations(app)).toHaveLength(0);
    expect(app.journal.transactions.list({})).toHaveLength(0);
  });
});
