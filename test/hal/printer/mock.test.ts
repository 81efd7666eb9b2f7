import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import {
  PRINTER_FAULT_CODES,
  PRINTER_STATUS_OK,
  faultFromStatus,
  type PrinterEvents,
  type PrinterFaultCode,
  type PrinterStatus,
  type ReceiptDocument,
} from '../../../hal/printer/contract.js';
import { MockPrinter } from '../../../hal/printer/mock.js';
import { expectFault } from '../expect-fault.js';

function receipt(n: number, cut = true): ReceiptDocument {
  return { lines: Array.from({ length: n }, (_, i) => ({ text: `line ${i + 1}` })), cut };
}
const texts = (p: MockPrinter) => p.printedLines.map((l) => ('text' in l ? l.text : '---'));

let clock: ManualClock;
let printer: MockPrinter;

beforeEach(async () => {
  clock = new ManualClock();
  printer = new MockPrinter(clock, { model: 'TM-MOCK', firmware: '2.0', columns: 48 });
  await printer.open();
});

describe('MockPrinter injected faults', () => {
  it.each([...PRINTER_FAULT_CODES])("rejects '%s' on a line with linesPrinted", async (code) => {
    printer.inject({ op: 'print-line', code, atStep: 2 });
    const fault = await expectFault(printer.print(receipt(4)), 'printer', code);
    expect(fault.detail).toMatchObject({ linesPrinted: 1 });
    expect(texts(printer)).toEqual(['line 1']);
    expect(printer.printed[0]?.fault).toBe(code);
    expect(printer.printed[0]?.cut).toBe(false);
  });

  it('paper out on the 3rd line prints exactly the two lines before it and stays out', async () => {
    printer.inject({ op: 'print-line', code: 'paper-out', atStep: 3 });
    const fault = await expectFault(printer.print(receipt(5)), 'printer', 'paper-out');
    expect(fault.detail).toMatchObject({ linesPrinted: 2 });
    expect(texts(printer)).toEqual(['line 1', 'line 2']);

    expect((await printer.status()).paper).toBe('out');
    const again = await expectFault(printer.print(receipt(2)), 'printer', 'paper-out');
    expect(again.detail).toMatchObject({ linesPrinted: 0 });
    expect(printer.printed).toHaveLength(1);

    printer.setStatus({ paper: 'ok' });
    await expect(printer.print(receipt(2))).resolves.toEqual({ linesPrinted: 2, warnings: [] });
    expect(texts(printer)).toEqual(['line 1', 'line 2', 'line 1', 'line 2']);
  });

  it('waits for a document long enough to reach the step', async () => {
    printer.inject({ op: 'print-line', code: 'jam', atStep: 3 });
    await expect(printer.print(receipt(2))).resolves.toMatchObject({ linesPrinted: 2 });
    await expectFault(printer.print(receipt(3)), 'printer', 'jam');
  });

  it('applies a sticky line fault to every document', async () => {
    printer.inject({ op: 'print-line', code: 'timeout', atStep: 2, times: Infinity });
    for (let i = 0; i < 3; i++) {
      const fault = await expectFault(printer.print(receipt(3)), 'printer', 'timeout');
      expect(fault.detail).toMatchObject({ linesPrinted: 1 });
    }
    // timeout is not a printer condition: the status is untouched.
    expect(await printer.status()).toEqual(PRINTER_STATUS_OK);
    printer.clearFaults();
    await expect(printer.print(receipt(3))).resolves.toMatchObject({ linesPrinted: 3 });
  });

  it('fails at the start of print without printing', async () => {
    printer.inject({ op: 'print', code: 'unrecoverable' });
    const fault = await expectFault(printer.print(receipt(3)), 'printer', 'unrecoverable');
    expect(fault.detail).toMatchObject({ linesPrinted: 0 });
    expect(printer.printed).toEqual([]);
    expect((await printer.status()).unrecoverableError).toBe(true);
  });

  it('fails the cut after all lines are printed', async () => {
    printer.inject({ op: 'cut', code: 'cutter-fault' });
    const fault = await expectFault(printer.print(receipt(3)), 'printer', 'cutter-fault');
    expect(fault.detail).toMatchObject({ linesPrinted: 3 });
    expect(printer.printed[0]).toMatchObject({ cut: false, fault: 'cutter-fault' });
    expect((await printer.status()).cutterError).toBe(true);
  });

  it("rejects 'offline' on a status read with no answer, leaving the status as it was", async () => {
    printer.inject({ op: 'status', code: 'offline' });
    await expectFault(printer.status(), 'printer', 'offline');
    expect(await printer.status()).toEqual(PRINTER_STATUS_OK);
  });

  it('reports other codes injected on status as a condition in the answer', async () => {
    printer.inject({ op: 'status', code: 'cover-open' });
    expect(await printer.status()).toMatchObject({ coverOpen: true });
    await expectFault(printer.print(receipt(1)), 'printer', 'cover-open');
  });

  it('clears an injected overheat once the head cools on the clock', async () => {
    printer.inject({ op: 'print-line', code: 'overheat' });
    await expectFault(printer.print(receipt(2)), 'printer', 'overheat');
    await clock.advance(29_999);
    expect((await printer.status()).overheated).toBe(true);
    await clock.advance(1);
    expect((await printer.status()).overheated).toBe(false);
    await expect(printer.print(receipt(2))).resolves.toMatchObject({ linesPrinted: 2 });
  });
});

describe('MockPrinter behaviour', () => {
  it('prints and records lines, barcode and cut', async () => {
    const doc: ReceiptDocument = {
      lines: [{ text: 'SHOP', align: 'center', bold: true }, { kind: 'rule' }, { text: 'TOTAL 12.50' }],
      barcode: { kind: 'qr', data: 'https://example.test/r/1' },
      cut: true,
    };
    await expect(printer.print(doc)).resolves.toEqual({ linesPrinted: 3, warnings: [] });
    expect(printer.printed).toEqual([{ lines: doc.lines, barcode: doc.barcode, cut: true }]);
  });

  it('warns on paper near end without failing', async () => {
    printer.setStatus({ paper: 'near-end' });
    await expect(printer.print(receipt(2))).resolves.toEqual({ linesPrinted: 2, warnings: ['paper-near-end'] });
  });

  it.each<[Partial<PrinterStatus>, PrinterFaultCode]>([
    [{ paper: 'out' }, 'paper-out'],
    [{ coverOpen: true }, 'cover-open'],
    [{ jammed: true }, 'jam'],
    [{ overheated: true }, 'overheat'],
    [{ cutterError: true }, 'cutter-fault'],
    [{ online: false }, 'offline'],
    [{ unrecoverableError: true }, 'unrecoverable'],
  ])('refuses to print in status %o with %s', async (patch, code) => {
    printer.setStatus(patch);
    const fault = await expectFault(printer.print(receipt(1)), 'printer', code);
    expect(fault.detail).toMatchObject({ linesPrinted: 0 });
    expect(printer.printed).toEqual([]);
  });

  it('rejects offline when not open', async () => {
    await printer.close();
    await expectFault(printer.status(), 'printer', 'offline');
    await expectFault(printer.print(receipt(1)), 'printer', 'offline');
    await expectFault(printer.info(), 'printer', 'offline');
  });

  it('reports configured info', async () => {
    await expect(printer.info()).resolves.toEqual({ model: 'TM-MOCK', firmware: '2.0', columns: 48 });
  });

  it('emits status events only on change, with the previous status', async () => {
    const events: PrinterEvents['status'][] = [];
    const off = printer.on('status', (e) => events.push(e));
    printer.setStatus({ paper: 'near-end' });
    printer.setStatus({ paper: 'near-end' });
    printer.setStatus({ coverOpen: false });
    printer.setStatus({ coverOpen: true });
    expect(events).toHaveLength(2);
    expect(events[0]?.previous.paper).toBe('ok');
    expect(events[0]?.status.paper).toBe('near-end');
    expect(events[1]?.status).toMatchObject({ paper: 'near-end', coverOpen: true });

    printer.inject({ op: 'print-line', code: 'paper-out' });
    printer.setStatus({ coverOpen: false });
    await expectFault(printer.print(receipt(1)), 'printer', 'paper-out');
    expect(events.at(-1)?.status.paper).toBe('out');

    off();
    printer.setStatus({ paper: 'ok' });
    expect(events).toHaveLength(4);
  });

  it('ignores undefined fields in a status patch', async () => {
    printer.setStatus({ paper: undefined, jammed: true });
    expect(await printer.status()).toMatchObject({ paper: 'ok', jammed: true });
  });
});

describe('faultFromStatus', () => {
  const ok: PrinterStatus = { ...PRINTER_STATUS_OK };

  it('is undefined for a healthy printer and for paper near end', () => {
    expect(faultFromStatus(ok)).toBeUndefined();
    expect(faultFromStatus({ ...ok, paper: 'near-end' })).toBeUndefined();
  });

  it('follows the documented precedence', () => {
    const all: PrinterStatus = {
      online: false,
      paper: 'out',
      coverOpen: true,
      jammed: true,
      cutterError: true,
      overheated: true,
      unrecoverableError: true,
    };
    const order: PrinterFaultCode[] = [];
    let s = { ...all };
    for (;;) {
      const code = faultFromStatus(s);
      if (!code) break;
      order.push(code);
      s = { ...s, ...clearFor(code) };
    }
    expect(order).toEqual(['unrecoverable', 'jam', 'cover-open', 'paper-out', 'cutter-fault', 'overheat', 'offline']);
  });

  function clearFor(code: PrinterFaultCode): Partial<PrinterStatus> {
    switch (code) {
      case 'unrecoverable':
        return { unrecoverableError: false };
      case 'jam':
        return { jammed: false };
      case 'cover-open':
        return { coverOpen: false };
      case 'paper-out':
        return { paper: 'ok' };
      case 'cutter-fault':
        return { cutterError: false };
      case 'overheat':
        return { overheated: false };
      case 'offline':
        return { online: true };
      case 'timeout':
      case 'not-connected':
        throw new Error(`${code} is never derived from status`);
    }
  }
});

describe('MockPrinter health and drawer', () => {
  it('emits health on a change of the fault that stops printing, and counts drawer kicks', async () => {
    const { ManualClock } = await import('../../../hal/clock.js');
    const { MockPrinter } = await import('../../../hal/printer/mock.js');
    const printer = new MockPrinter(new ManualClock());
    await printer.open();
    const seen: string[] = [];
    printer.on('health', (e) => seen.push(`${e.previous.state}>${e.health.state}:${e.health.code ?? ''}`));
    printer.setStatus({ paper: 'near-end' });
    printer.setStatus({ paper: 'out' });
    printer.setStatus({ coverOpen: true });
    printer.setStatus({ paper: 'ok', coverOpen: false });
    expect(seen).toEqual(['ok>fault:paper-out', 'fault>fault:cover-open', 'fault>ok:']);
    await printer.kickDrawer();
    expect(printer.drawerKicks).toBe(1);
  });
});
