/** nexo Display and Print: the register's text on the terminal's one display and its receipt printer. */
import { describe, expect, it } from 'vitest';
import { anomalyByName } from '../../src/anomaly/index.js';
import { until } from '../support/wait.js';
import { bootNexo, context, paymentRequest, presentWhenAsked, published, request } from './support.js';

const text = (...lines: string[]) => ({ OutputFormat: 'Text', OutputText: lines.map((Text) => ({ Text })) });

function displayRequest(serviceId: string, outputs: object[]) {
  return request('Display', serviceId, { DisplayOutput: outputs });
}

function printRequest(serviceId: string, content: object, qualifier = 'Document') {
  return request('Print', serviceId, {
    PrintOutput: { DocumentQualifier: qualifier, ResponseMode: 'PrintEnd', OutputContent: content },
  });
}

describe('nexo Display', () => {
  it("shows the register's text on the terminal's display, one result per output", async () => {
    const { app, nexo } = await bootNexo();
    const reply = published(
      await nexo(
        displayRequest('901', [
          { Device: 'CashierDisplay', InfoQualify: 'Status', OutputContent: text('Till 3 open') },
          { Device: 'CustomerDisplay', InfoQualify: 'Display', OutputContent: text('Welcome to', 'Café Crème') },
          { Device: 'CustomerInput', InfoQualify: 'Input', OutputContent: text('Yes / No') },
        ]),
        context,
      ),
    ).DisplayResponse!;
    expect(reply.OutputResult.map((r) => [String(r.Device), r.Response.Result, r.Response.ErrorCondition])).toEqual([
      ['CashierDisplay', 'Success', undefined],
      ['CustomerDisplay', 'Success', undefined],
      ['CustomerInput', 'Failure', 'UnavailableDevice'],
    ]);
    expect(app.mocks.display?.current?.lines).toEqual(['Welcome to', 'Café Crème']);
  });

  it('joins texts whose EndOfLineFlag is false and strips control characters', async () => {
    const { app, nexo } = await bootNexo();
    const content = {
      OutputFormat: 'Text',
      OutputText: [{ Text: 'Total ', EndOfLineFlag: false }, { Text: '12.50' }, { Text: 'Bye\u001b@\u0007' }],
    };
    const reply = published(
      await nexo(
        displayRequest('902', [{ Device: 'CustomerDisplay', InfoQualify: 'Display', OutputContent: content }]),
        context,
      ),
    ).DisplayResponse!;
    expect(reply.OutputResult[0]?.Response.Result).toBe('Success');
    expect(app.mocks.display?.current?.lines).toEqual(['Total 12.50', 'Bye @ ']);
  });

  it('answers Busy while a payment runs and leaves the payment screen alone', async () => {
    const { app, nexo } = await bootNexo();
    const running = nexo(paymentRequest('903', 10), context);
    await until(() => app.terminal.status().transaction?.state === 'waitingForCard', 'waiting for a card');
    const before = app.mocks.display?.current;
    const reply = published(
      await nexo(
        displayRequest('904', [{ Device: 'CustomerDisplay', InfoQualify: 'Display', OutputContent: text('Hello') }]),
        context,
      ),
    ).DisplayResponse!;
    expect(reply.OutputResult[0]?.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'Busy' });
    expect(app.mocks.display?.current).toEqual(before);
    await presentWhenAsked(app, 'visa');
    expect(published(await running).PaymentResponse?.Response.Result).toBe('Success');
  });

  it('answers UnavailableService for MessageRef and MessageFormat for a malformed output, showing nothing', async () => {
    const { app, nexo } = await bootNexo();
    const shown = app.mocks.display?.history.length;
    const ref = published(
      await nexo(
        displayRequest('905', [
          { Device: 'CustomerDisplay', InfoQualify: 'Display', OutputContent: { OutputFormat: 'MessageRef' } },
        ]),
        context,
      ),
    ).DisplayResponse!;
    expect(ref.OutputResult[0]?.Response.ErrorCondition).toBe('UnavailableService');
    const bad = await nexo(
      displayRequest('906', [
        { Device: 'CustomerDisplay', InfoQualify: 'Display', OutputContent: text('ok') },
        { Device: 'Toaster', InfoQualify: 'Display', OutputContent: text('no') },
      ]),
      context,
    );
    const body = bad.SaleToPOIResponse['DisplayResponse'] as { Response: { ErrorCondition: string } };
    expect(body.Response.ErrorCondition).toBe('MessageFormat');
    expect(app.mocks.display?.history.length).toBe(shown);
    expect(app.journal.anomalies.list({ limit: 5 }).some((a) => /Device/.test(a.message))).toBe(true);
  });
});

describe('nexo Print', () => {
  it('prints Text with its alignment and styles, and a QR code, then cuts', async () => {
    const { app, nexo } = await bootNexo();
    const printer = app.mocks.printer!;
    const before = printer.printed.length;
    const content = {
      OutputFormat: 'Text',
      OutputText: [
        { Text: 'GIFT VOUCHER', Alignment: 'Centred', CharacterStyle: 'Bold', CharacterHeight: 'DoubleHeight' },
        { Text: 'Value 20.00 EUR', Alignment: 'Right' },
        { Text: 'Thank you' },
      ],
    };
    const reply = published(await nexo(printRequest('911', content, 'Voucher'), context)).PrintResponse!;
    expect(reply.Response.Result).toBe('Success');
    expect(String(reply.DocumentQualifier)).toBe('Voucher');
    const doc = printer.printed[before]!;
    expect(doc.lines).toEqual([
      { text: 'GIFT VOUCHER', align: 'center', bold: true, doubleHeight: true },
      { text: 'Value 20.00 EUR', align: 'right' },
      { text: 'Thank you' },
    ]);
    const qr = published(
      await nexo(
        printRequest('912', {
          OutputFormat: 'BarCode',
          OutputBarcode: { BarcodeType: 'QRCODE', BarcodeValue: 'https://shop.example/r/1' },
        }),
        context,
      ),
    ).PrintResponse!;
    expect(qr.Response.Result).toBe('Success');
    expect(printer.printed[before + 1]?.barcode).toEqual({ kind: 'qr', data: 'https://shop.example/r/1' });
  });

  it('prints the text of an XHTML document', async () => {
    const { app, nexo } = await bootNexo();
    const printer = app.mocks.printer!;
    const before = printer.printed.length;
    const xhtml = Buffer.from('<html><body><p>Order <b>42</b></p>Fish &amp; chips<br/>Total 9.90</body></html>');
    const reply = published(
      await nexo(printRequest('913', { OutputFormat: 'XHTML', OutputXHTML: xhtml.toString('base64') }), context),
    ).PrintResponse!;
    expect(reply.Response.Result).toBe('Success');
    expect(printer.printed[before]?.lines.map((l) => ('text' in l ? l.text : '-'))).toEqual([
      'Order 42',
      'Fish & chips',
      'Total 9.90',
    ]);
  });

  it('reports a printer fault as DeviceOut, journaled, and a bar code it cannot draw as UnavailableService', async () => {
    const { app, nexo } = await bootNexo();
    const printer = app.mocks.printer!;
    printer.inject({ op: 'print', code: 'paper-out' });
    const out = published(await nexo(printRequest('914', text('one line')), context)).PrintResponse!;
    expect(out.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'DeviceOut' });
    expect(new URLSearchParams(out.Response.AdditionalResponse).get('error')).toBe('device-fault');
    expect(app.journal.anomalies.list({ limit: 3 }).map((a) => a.code)).toContain(
      anomalyByName('printer-paper-out').code,
    );
    const ean = published(
      await nexo(
        printRequest('915', {
          OutputFormat: 'BarCode',
          OutputBarcode: { BarcodeType: 'EAN13', BarcodeValue: '4006381333931' },
        }),
        context,
      ),
    ).PrintResponse!;
    expect(ean.Response).toMatchObject({ Result: 'Failure', ErrorCondition: 'UnavailableService' });
  });
});
