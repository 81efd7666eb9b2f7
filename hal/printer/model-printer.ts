/**
 * A printer whose documents are encoded for the configured model: every document it prints carries the model's
 * profile (code pages, Chinese mode) to the driver's encoder. Everything else is the driver's own.
 */
import type { Printer, PrinterEvents, PrintResult, ReceiptDocument } from './contract.js';
import type { Listener, Unsubscribe } from '../events.js';
import type { PrinterModelProfile } from './model-profiles.js';

export function withPrinterModel(printer: Printer, profile: PrinterModelProfile): Printer {
  return {
    open: () => printer.open(),
    close: () => printer.close(),
    info: () => printer.info(),
    status: () => printer.status(),
    print: (doc: ReceiptDocument): Promise<PrintResult> => printer.print({ ...doc, printerModel: profile }),
    on: <E extends keyof PrinterEvents>(event: E, listener: Listener<PrinterEvents[E]>): Unsubscribe =>
      printer.on(event, listener),
    ...(printer.kickDrawer ? { kickDrawer: () => printer.kickDrawer!() } : {}),
    // Whether the driver holds its device open (the self-test reopens a closed one): read through, never copied.
    get opened() {
      return (printer as { opened?: boolean }).opened;
    },
  } as Printer;
}
