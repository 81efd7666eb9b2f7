/**
 * A nexo client against the whole terminal over real HTTPS, as `ecr.nexo` starts it: Payment → TransactionStatus →
 * Reversal → Abort → Diagnosis, plain and sealed with the published Adyen client crypto, every answer checked
 * against the published typings, the money against the host simulator's ledger, the certificate against the
 * fingerprint the terminal reports in status.
 */
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { adyenOpen, adyenSeal, TEST_KEY, TEST_KEY_CONFIG, type AdyenSealed } from '../../nexo/adyen.js';
import {
  authorizations,
  bootNexoApp,
  header,
  paymentRequest,
  presentWhenAsked,
  published,
  request,
} from '../../nexo/support.js';

type Body = { SaleToPOIRequest: Record<string, unknown> };
type Answer = { SaleToPOIResponse: Record<string, unknown> };

/** POSTs one body to the endpoint; answers the parsed body and the certificate's SHA-256 fingerprint. */
function post(port: number, body: unknown): Promise<{ status: number; json: unknown; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      // The terminal's certificate is self-signed: the client pins it by fingerprint, checked below.
      { host: '127.0.0.1', port, path: '/nexo/', method: 'POST', rejectUnauthorized: false, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), fingerprint }));
      },
    );
    let fingerprint = '';
    req.on('socket', (socket) =>
      socket.once('secureConnect', () => {
        fingerprint = (socket as TLSSocket).getPeerCertificate().fingerprint256;
      }),
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('nexo over HTTPS on the whole terminal', () => {
  it('pays, answers the status again, reverses, aborts and diagnoses, plain and sealed', async () => {
    const app = await bootNexoApp({
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      allowPlain: true,
      securityKeys: [TEST_KEY_CONFIG],
    });
    const endpoint = app.nexo!;
    expect(endpoint.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const status = await app.commands.run({ kind: 'status' }, { client: 'test' });
    expect(status.ok && status.value.nexo).toEqual({ port: endpoint.port, fingerprint: endpoint.fingerprint });

    const plain = async (body: Body) => {
      const answer = await post(endpoint.port, body);
      expect(answer.status).toBe(200);
      expect(answer.fingerprint).toBe(endpoint.fingerprint);
      return published(answer.json as Answer);
    };
    const sealed = async (body: Body) => {
      const answer = await post(endpoint.port, adyenSeal(body, TEST_KEY));
      expect(answer.status).toBe(200);
      // Adyen's own decrypt checks our HMAC and opens our blob.
      return published(adyenOpen(answer.json as { SaleToPOIResponse: AdyenSealed }, TEST_KEY) as Answer);
    };

    // Payment, plain: one 0200 of 12.50 at the host.
    const paying = plain(paymentRequest('1', '12.50'));
    await presentWhenAsked(app, 'visa');
    const payment = (await paying).PaymentResponse!;
    expect(payment.Response.Result).toBe('Success');
    expect(payment.PaymentResult?.AmountsResp?.AuthorizedAmount).toBe(12.5);
    expect(authorizations(app).map((e) => e.amount)).toEqual([1250]);

    // TransactionStatus, sealed: the same answer again, nothing charged again.
    const again = (
      await sealed(
        request('TransactionStatus', '2', {
          MessageReference: { MessageCategory: 'Payment', SaleID: 'POS-1', ServiceID: '1' },
        }),
      )
    ).TransactionStatusResponse!;
    expect(again.Response.Result).toBe('Success');
    expect(again.RepeatedMessageResponse?.RepeatedResponseMessageBody?.PaymentResponse).toEqual(payment);
    expect(authorizations(app)).toHaveLength(1);

    // Reversal, sealed, with the supervisor's PIN: our void, one 0200 of the void at the host.
    const reversal = (
      await sealed(
        request('Reversal', '3', {
          OriginalPOITransaction: { POITransactionID: payment.POIData.POITransactionID },
          ReversalReason: 'MerchantCancel',
          SaleData: {
            SaleTransactionID: { TransactionID: 'rev-1', TimeStamp: '2026-12-02T08:00:00.000Z' },
            SaleToPOIData: 'supervisorPin=1234',
          },
        }),
      )
    ).ReversalResponse!;
    expect(reversal.Response.Result).toBe('Success');
    expect(reversal.ReversedAmount).toBe(12.5);
    const voidRow = app.journal.transactions.get(reversal.POIData!.POITransactionID.TransactionID);
    expect(voidRow).toMatchObject({ kind: 'void', outcome: 'approved' });

    // Abort, plain, of a payment waiting for its card: the payment answers Aborted and nothing more reaches the host.
    const running = plain(paymentRequest('4', 7));
    await waitFor(() => app.terminal.status().transaction?.state === 'waitingForCard');
    const abort = await plain(
      request('Abort', '5', {
        AbortReason: 'MerchantAbort',
        MessageReference: { MessageCategory: 'Payment', SaleID: 'POS-1', ServiceID: '4' },
      }),
    );
    expect(abort.MessageHeader.ServiceID).toBe('5');
    expect((await running).PaymentResponse!.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'Aborted' });
    expect(authorizations(app).map((e) => e.amount)).not.toContain(700);

    // Diagnosis, sealed: the self-test per device.
    const diagnosis = (
      await sealed({
        SaleToPOIRequest: { MessageHeader: header('Diagnosis', '6'), DiagnosisRequest: { HostDiagnosisFlag: true } },
      })
    ).DiagnosisResponse!;
    expect(diagnosis.Response.Result).toBe('Success');
  });

  it('refuses a plain request when plain is not allowed, and answers a wrong seal as a nexo Failure', async () => {
    const app = await bootNexoApp({
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      allowPlain: false,
      securityKeys: [TEST_KEY_CONFIG],
    });
    const port = app.nexo!.port;
    const refused = await post(port, paymentRequest('1', 5));
    expect(JSON.stringify(refused.json)).toContain('NotAllowed');
    const forged = adyenSeal(paymentRequest('2', 5), { ...TEST_KEY, Passphrase: 'not-the-passphrase' });
    const failure = await post(port, forged);
    expect(JSON.stringify(failure.json)).toMatch(/MessageFormat|NotAllowed/);
    expect(authorizations(app)).toHaveLength(0);
    expect(app.journal.transactions.list().length).toBe(0);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}
