/**
 * The ESC/POS serial driver against an emulated printer over a real socat pty pair (the mock binding's linked pair
 * when socat is missing). Timeouts run on a ManualClock: the test waits until the driver's timer is armed, then
 * moves time. One test uses the system clock to show a real stall ends within its bound.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../../hal/clock.js';
import {
  PRINTER_STATUS_OK,
  faultFromStatus,
  type PrinterEvents,
  type PrinterStatus,
  type ReceiptDocument,
} from '../../../hal/printer/contract.js';
import { EscPosSerialPrinter, type EscPosSerialPrinterOptions } from '../../../hal/printer/escpos-serial.js';
import { EscPosEmulator, type EmulatorCondition } from '../../support/escpos-emulator.js';
import { openSerialPair, type SerialPair } from '../../support/pty.js';
import { until } from '../../support/wait.js';
import { expectFault, track } from '../expect-fault.js';

const TIMEOUT_MS = 200;

function receipt(n: number, cut = true): ReceiptDocument {
  return { lines: Array.from({ length: n }, (_, i) => ({ text: `line ${i + 1}` })), cut };
}

interface Rig {
  pair: SerialPair;
  emu: EscPosEmulator;
  printer: EscPosSerialPrinter;
  clock: ManualClock;
}

const rigs: Rig[] = [];

async function rig(
  options: { forceMock?: boolean; clock?: Clock } & Partial<EscPosSerialPrinterOptions> = {},
): Promise<Rig> {
  const pair = await openSerialPair({ forceMock: options.forceMock ?? false });
  const emu = await EscPosEmulator.open({ path: pair.b, openPort: pair.openPort });
  const clock = new ManualClock();
  const printer = new EscPosSerialPrinter({
    path: pair.a,
    baudRate: 115_200,
    statusTimeoutMs: TIMEOUT_MS,
    columns: 32,
    openPort: pair.openPort,
    ...options,
    clock: options.clock ?? clock,
  });
  await printer.open();
  const r = { pair, emu, printer, clock };
  rigs.push(r);
  return r;
}

/** Let armed timers run out on the manual clock, one status bound at a time, until the call settles. */
async function expireTimers<T>(r: Rig, promise: Promise<T>): Promise<T> {
  const call = track(promise);
  for (let step = 0; step < 20 && !call.settled; step++) {
    await until(() => call.settled || r.clock.pending() > 0, 'the driver to arm a timer');
    if (!call.settled) await r.clock.advance(TIMEOUT_MS);
  }
  return promise;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.printer.close();
    await r.emu.close();
    await r.pair.close();
  }
});

describe('EscPosSerialPrinter status over a pty', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });

  it('reads a clean printer as all clear, asking DLE EOT 1..4 in turn', async () => {
    await expect(r.printer.status()).resolves.toEqual(PRINTER_STATUS_OK);
    expect(r.emu.statusRequests).toEqual([1, 2, 3, 4]);
  });

  it.each<[EmulatorCondition, Partial<PrinterStatus>, string | undefined]>([
    ['paper-out', { online: false, paper: 'out' }, 'paper-out'],
    ['near-end', { paper: 'near-end' }, undefined],
    ['cover-open', { online: false, coverOpen: true }, 'cover-open'],
    ['jam', { online: false, jammed: true }, 'jam'],
    ['overheat', { online: false, overheated: true }, 'overheat'],
    ['cutter', { online: false, cutterError: true }, 'cutter-fault'],
    ['unrecoverable', { online: false, unrecoverableError: true }, 'unrecoverable'],
    ['offline', { online: false }, 'offline'],
  ])('maps an emulated %s', async (condition, expected, fault) => {
    r.emu.set(condition);
    const status = await r.printer.status();
    expect(status).toEqual({ ...PRINTER_STATUS_OK, ...expected });
    expect(faultFromStatus(status)).toBe(fault);
    if (fault) {
      const error = await expectFault(r.printer.print(receipt(2)), 'printer', fault);
      expect(error.detail).toMatchObject({ linesPrinted: 0 });
      expect(r.emu.printed).toEqual([]);
    }
  });

  it('sends the reference out-of-paper bytes 0x1A 0x32 0x12 0x7E', () => {
    r.emu.set('paper-out');
    expect(r.emu.statusBytes()).toEqual([0x1a, 0x32, 0x12, 0x7e]);
  });

  it('emits status events on change only, with the previous status', async () => {
    const events: PrinterEvents['status'][] = [];
    r.printer.on('status', (e) => events.push(e));
    await r.printer.status();
    r.emu.set('cover-open');
    await r.printer.status();
    await r.printer.status();
    r.emu.set('cover-open', false);
    await r.printer.status();
    expect(events.map((e) => [e.previous.coverOpen, e.status.coverOpen])).toEqual([
      [false, true],
      [true, false],
    ]);
  });

  it("rejects 'offline' when the printer stalls, at the timeout and not before", async () => {
    r.emu.stall();
    const pending = track(r.printer.status());
    await until(() => r.clock.pending() > 0, 'the status timer');
    await r.clock.advance(TIMEOUT_MS - 1);
    expect(pending.settled).toBe(false);
    await r.clock.advance(1);
    const fault = await expectFault(pending.promise, 'printer', 'offline');
    expect(fault.message).toBe(`printer did not answer a status request in ${TIMEOUT_MS} ms`);
    expect(fault.detail).toMatchObject({ query: 1, timeoutMs: TIMEOUT_MS, garbledBytes: 0 });

    r.emu.stall(false);
    await expect(r.printer.status()).resolves.toEqual(PRINTER_STATUS_OK);
  });

  it("rejects a garbled reply as 'offline' with the garbled bytes counted", async () => {
    r.emu.garble();
    const pending = track(r.printer.status()).promise;
    await until(() => r.printer.discardedBytes > 0, 'the garbled reply to arrive');
    await r.clock.advance(TIMEOUT_MS);
    const fault = await expectFault(pending, 'printer', 'offline');
    expect(fault.detail).toMatchObject({ query: 1, garbled: true, garbledBytes: 1 });
    expect(fault.message).toMatch(/unrecognised byte/);
  });

  it('discards noise around replies and still reads the status', async () => {
    r.emu.sendRaw([0x00, 0xff, 0x41, 0x0d, 0x80]);
    await until(() => r.printer.discardedBytes === 5, 'the noise to arrive');
    await expect(r.printer.status()).resolves.toEqual(PRINTER_STATUS_OK);
  });

  it('times out, not hangs, when the request bytes are dropped on the way in', async () => {
    r.emu.dropIncoming(3);
    const pending = track(r.printer.status()).promise;
    await until(() => r.emu.droppedIncoming === 3, 'the request to be dropped');
    await r.clock.advance(TIMEOUT_MS);
    await expectFault(pending, 'printer', 'offline');
    expect(r.emu.statusRequests).toEqual([]);
    await expect(r.printer.status()).resolves.toEqual(PRINTER_STATUS_OK);
  });

  it('times out, not hangs, when a reply is dropped on the way out', async () => {
    r.emu.dropOutgoing(1);
    const pending = track(r.printer.status()).promise;
    await until(() => r.emu.statusRequests.length === 1, 'the request to arrive');
    await r.clock.advance(TIMEOUT_MS);
    await expectFault(pending, 'printer', 'offline');
  });
});

describe('EscPosSerialPrinter printing over a pty', () => {
  it('prints a receipt: lines in order with their style, a QR code and a cut', async () => {
    const r = await rig();
    const doc: ReceiptDocument = {
      lines: [
        { text: 'CAFE DU COIN', align: 'center', bold: true, doubleHeight: true },
        { kind: 'rule' },
        { text: 'Espresso        2.50' },
        { text: 'Croissant       1.80' },
        { text: 'TOTAL           4.30', bold: true },
        { text: 'Merci, à bientôt', align: 'right' },
      ],
      barcode: { kind: 'qr', data: 'https://example.test/r/42' },
      cut: true,
    };
    await expect(r.printer.print(doc)).resolves.toEqual({ linesPrinted: 6, warnings: [] });
    expect(r.emu.texts).toEqual([
      'CAFE DU COIN',
      '-'.repeat(32),
      'Espresso        2.50',
      'Croissant       1.80',
      'TOTAL           4.30',
      'Merci, a bientot',
      // The line feed after the code leaves a blank row before the cut.
      '',
    ]);
    expect(r.emu.printed[0]).toMatchObject({ align: 'center', bold: true, doubleHeight: true, doubleWidth: false });
    expect(r.emu.printed[4]).toMatchObject({ bold: true, align: 'left' });
    expect(r.emu.printed[5]).toMatchObject({ bold: false, align: 'right' });
    expect(r.emu.barcodes).toEqual([{ kind: 'qr', data: 'https://example.test/r/42' }]);
    expect(r.emu.cuts).toBe(1);
  });

  it('prints a CODE128 barcode', async () => {
    const r = await rig();
    await r.printer.print({ lines: [{ text: 'ref' }], barcode: { kind: 'code128', data: 'TX-{42}' }, cut: false });
    expect(r.emu.barcodes).toEqual([{ kind: 'code128', data: 'TX-{42}' }]);
    expect(r.emu.cuts).toBe(0);
  });

  it('warns, and still prints, when paper is near its end', async () => {
    const r = await rig();
    r.emu.set('near-end');
    await expect(r.printer.print(receipt(3))).resolves.toEqual({ linesPrinted: 3, warnings: ['paper-near-end'] });
    expect(r.emu.texts).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('warns when paper reaches near end during the receipt', async () => {
    const r = await rig();
    r.emu.after(5, 'near-end');
    await expect(r.printer.print(receipt(8))).resolves.toEqual({ linesPrinted: 8, warnings: ['paper-near-end'] });
  });

  it('locates paper running out mid-receipt: linesPrinted is the lines confirmed before it', async () => {
    const r = await rig();
    r.emu.runOutOfPaper(6);
    const fault = await expectFault(r.printer.print(receipt(10)), 'printer', 'paper-out');
    // Chunks of 4: lines 1-4 confirmed clean; 5 and 6 reached paper in the chunk that ran out.
    expect(fault.detail).toMatchObject({ linesPrinted: 4 });
    expect(r.emu.texts).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
    expect(r.emu.cuts).toBe(0);
    expect((await r.printer.status()).paper).toBe('out');
  });

  it('locates the fault to the line with a status read after every line', async () => {
    const r = await rig({ chunkLines: 1 });
    r.emu.runOutOfPaper(6);
    const fault = await expectFault(r.printer.print(receipt(10)), 'printer', 'paper-out');
    expect(fault.detail).toMatchObject({ linesPrinted: 6 });
    expect(r.emu.texts).toHaveLength(6);
  });

  it('reports a jam mid-receipt', async () => {
    const r = await rig();
    r.emu.after(2, 'jam');
    const fault = await expectFault(r.printer.print(receipt(6)), 'printer', 'jam');
    expect(fault.detail).toMatchObject({ linesPrinted: 0 });
    expect(r.emu.texts).toEqual(['line 1', 'line 2']);
  });

  it('reports a cutter fault after every line printed', async () => {
    const r = await rig();
    r.emu.failNextCut();
    const fault = await expectFault(r.printer.print(receipt(5)), 'printer', 'cutter-fault');
    expect(fault.detail).toMatchObject({ linesPrinted: 5 });
    expect(r.emu.texts).toHaveLength(5);
    expect(r.emu.cuts).toBe(0);
  });

  it("rejects 'offline' with the confirmed lines when the printer stalls mid-receipt", async () => {
    const r = await rig();
    r.emu.after(5, 'stall');
    const pending = track(r.printer.print(receipt(10))).promise;
    await until(() => r.emu.droppedIncoming > 0, 'the stall');
    const fault = await expectFault(expireTimers(r, pending), 'printer', 'offline');
    expect(fault.detail).toMatchObject({ linesPrinted: 4 });
    expect(r.emu.texts).toHaveLength(5);
  });

  it('runs calls one at a time so replies are never crossed', async () => {
    const r = await rig();
    const [a, b, c] = await Promise.all([r.printer.status(), r.printer.print(receipt(5)), r.printer.status()]);
    expect(a).toEqual(PRINTER_STATUS_OK);
    expect(b.linesPrinted).toBe(5);
    expect(c).toEqual(PRINTER_STATUS_OK);
  });
});

describe('EscPosSerialPrinter info and port life', () => {
  it('reads model, firmware and serial with GS I 67, 65, 68', async () => {
    const r = await rig();
    await expect(r.printer.info()).resolves.toEqual({
      model: 'EMU-TM80',
      firmware: '1.05 EMU',
      serial: 'EMU0001234',
      columns: 32,
    });
    expect(r.emu.idRequests).toEqual([67, 65, 68]);
  });

  it("falls back to 'unknown' when the printer does not answer GS I", async () => {
    const r = await rig();
    r.emu.stall();
    await expect(expireTimers(r, r.printer.info())).resolves.toEqual({
      model: 'unknown',
      firmware: 'unknown',
      columns: 32,
    });
  });

  // The kernel reports the vanished pty to the serial binding on its own schedule; on a loaded machine that has once
  // not happened within the test's time, so this one test gets another try before it counts as failed. (Without the
  // close event the call still ends 'offline' at statusTimeoutMs; this test is about ending it at once.)
  it("rejects 'not-connected' at once when the port goes away under a waiting call", {
    retry: 2,
    timeout: 15_000,
  }, async () => {
    const r = await rig();
    r.emu.stall();
    const pending = track(r.printer.status()).promise;
    await until(() => r.clock.pending() > 0, 'the status timer');
    await r.pair.close();
    const fault = await expectFault(pending, 'printer', 'not-connected');
    expect(fault.message).toMatch(/port/);
    // A call while it is away tries one reopen at once; the pty is gone, so it is still not connected.
    await expectFault(r.printer.status(), 'printer', 'not-connected');
  });

  it("rejects 'not-connected' when the port cannot be opened, 'offline' before open or after close", async () => {
    const r = await rig();
    const missing = new EscPosSerialPrinter({ path: `${r.pair.a}-missing`, baudRate: 9600, openPort: r.pair.openPort });
    await expectFault(missing.status(), 'printer', 'offline');
    await expectFault(missing.open(), 'printer', 'not-connected');
    await expectFault(missing.status(), 'printer', 'not-connected');
    await r.printer.close();
    await expectFault(r.printer.status(), 'printer', 'offline');
    await expectFault(r.printer.print(receipt(1)), 'printer', 'offline');
    await expectFault(r.printer.info(), 'printer', 'offline');
    await r.printer.close();
    await r.printer.open();
    await expect(r.printer.status()).resolves.toEqual(PRINTER_STATUS_OK);
  });

  it('bounds a real stall by statusTimeoutMs on the system clock', async () => {
    const r = await rig({ clock: systemClock });
    r.emu.stall();
    const started = Date.now();
    await expectFault(r.printer.status(), 'printer', 'offline');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 500);
  });
});

describe('EscPosSerialPrinter over the mock binding pair', () => {
  it('reads status, prints and locates a fault the same way', async () => {
    const r = await rig({ forceMock: true });
    expect(r.pair.kind).toBe('mock');
    await expect(r.printer.status()).resolves.toEqual(PRINTER_STATUS_OK);
    await expect(r.printer.print(receipt(3))).resolves.toEqual({ linesPrinted: 3, warnings: [] });
    expect(r.emu.texts).toEqual(['line 1', 'line 2', 'line 3']);
    r.emu.runOutOfPaper(5);
    const fault = await expectFault(r.printer.print(receipt(8)), 'printer', 'paper-out');
    expect(fault.detail).toMatchObject({ linesPrinted: 4 });
  });
});

describe('EscPosSerialPrinter settings', () => {
  it('refuses settings it cannot work with at construction', () => {
    const base = { path: '/dev/null', baudRate: 9600 };
    expect(() => new EscPosSerialPrinter({ ...base, columns: 0 })).toThrow(RangeError);
    expect(() => new EscPosSerialPrinter({ ...base, statusTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new EscPosSerialPrinter({ ...base, baudRate: 0 })).toThrow(RangeError);
    expect(() => new EscPosSerialPrinter(base)).not.toThrow();
  });
});
