/** The bytes a printer driver sends for a document, through the printer model wrapper, for decoding back to text. */
import { ManualClock } from '../../hal/clock.js';
import type { Printer, ReceiptDocument } from '../../hal/printer/contract.js';
import { encodeReceiptParts } from '../../hal/printer/escpos-encoder.js';
import { MockPrinter } from '../../hal/printer/mock.js';
import { withPrinterModel } from '../../hal/printer/model-printer.js';
import { PRINTER_MODEL_PROFILES } from '../../hal/printer/model-profiles.js';

export const COLUMNS = 42;

/** As the serial driver encodes, with the model the wrapper stamped. */
export async function bytesSent(doc: ReceiptDocument, model: keyof typeof PRINTER_MODEL_PROFILES): Promise<Buffer> {
  const mock = new MockPrinter(new ManualClock(0), { columns: COLUMNS });
  await mock.open();
  let sent: Buffer | undefined;
  const capturing: Printer = {
    open: () => mock.open(),
    close: () => mock.close(),
    info: () => mock.info(),
    status: () => mock.status(),
    on: (event, listener) => mock.on(event, listener),
    print: (stamped) => {
      const parts = encodeReceiptParts(stamped, COLUMNS);
      sent = Buffer.concat([parts.init, ...parts.lines, parts.trailer]);
      return mock.print(stamped);
    },
  };
  await withPrinterModel(capturing, PRINTER_MODEL_PROFILES[model]).print(doc);
  if (!sent) throw new Error('nothing sent');
  return sent;
}

/** The texts of a document's lines (rules left out). */
export function documentTexts(doc: ReceiptDocument): string[] {
  return doc.lines.flatMap((l) => ('text' in l ? [l.text] : []));
}
