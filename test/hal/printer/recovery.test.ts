/**
 * Recovery after a fault mid-receipt, against an emulated printer that, like a real one, keeps unprinted data in its
 * buffer while offline and prints it once the fault is fixed unless told otherwise (DLE DC4 fn=8 clears it, DLE ENQ 2
 * recovers with the buffers cleared), and keeps a cutter error until DLE ENQ. Over a real socat pty pair.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import type { PrinterHealth, ReceiptDocument } from '../../../hal/printer/contract.js';
import { EscPosSerialPrinter } from '../../../hal/printer/escpos-serial.js';
import { EscPosEmulator } from '../../support/escpos-emulator.js';
import { openSerialPair, type SerialPair } from '../../support/pty.js';
import { until } from '../../support/wait.js';
import { expectFault } from '../expect-fault.js';

const receipt = (prefix: string, n: number): ReceiptDocument => ({
  lines: Array.from({ length: n }, (_, i) => ({ text: `${prefix} ${i + 1}` })),
  cut: true,
});

interface Rig {
  pair: SerialPair;
  emu: EscPosEmulator;
  printer: EscPosSerialPrinter;
  clock: ManualClock;
}
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.printer.close();
    await r.emu.close();
    await r.pair.close();
  }
});

async function rig(idlePollMs?: number): Promise<Rig> {
  const pair = await openSerialPair();
  const emu = await EscPosEmulator.open({
    path: pair.b,
    openPort: pair.openPort,
    holdWhileOffline: true,
    errorsNeedRecovery: true,
  });
  const clock = new ManualClock();
  const printer = new EscPosSerialPrinter({
    path: pair.a,
    baudRate: 115_200,
    openPort: pair.openPort,
    clock,
    statusTimeoutMs: 300,
    columns: 32,
    chunkLines: 1,
    ...(idlePollMs ? { idlePollMs } : {}),
  });
  await printer.open();
  const r = { pair, emu, printer, clock };
  rigs.push(r);
  return r;
}

describe('recovery after a fault mid-receipt', () => {
  it('clears the buffers at the fault, so the rest never prints by itself, and recovers before the reprint', async () => {
    const r = await rig();
    r.emu.runOutOfPaper(2);
    const fault = await expectFault(r.printer.print(receipt('first', 6)), 'printer', 'paper-out');
    expect(fault.detail).toMatchObject({ buffersCleared: true });
    expect(r.emu.bufferClears).toBe(1);
    expect(r.emu.heldBytes).toBe(0);
    const before = [...r.emu.texts];
    expect(before).toEqual(['first 1', 'first 2']);

    // Paper back: a printer still holding the rest would print it now, out of any receipt.
    r.emu.set('paper-out', false);
    await r.printer.status();
    expect(r.emu.texts).toEqual(before);

    const log = r.emu.realtimeLog.length;
    await expect(r.printer.print(receipt('again', 6))).resolves.toMatchObject({ linesPrinted: 6 });
    await until(() => r.emu.cuts === 1, 'the reprint to be cut');
    expect(r.emu.realtimeLog.slice(log)).toEqual(['DLE ENQ 2']);
    expect(r.emu.recoveryRequests).toEqual([2]);
    expect(r.emu.texts).toEqual([...before, 'again 1', 'again 2', 'again 3', 'again 4', 'again 5', 'again 6']);
  });

  it('sends no recovery before a print when nothing stopped', async () => {
    const r = await rig();
    await r.printer.print(receipt('plain', 2));
    await until(() => r.emu.cuts === 1, 'the cut');
    expect(r.emu.realtimeLog).toEqual([]);
  });

  it('leaves a cutter error whose cause is gone with DLE ENQ 2, then prints', async () => {
    const r = await rig();
    r.emu.failNextCut();
    await expectFault(r.printer.print(receipt('cut', 2)), 'printer', 'cutter-fault');
    // The blade is freed, but the printer stays in the error until it is told to recover.
    r.emu.set('cutter', false);
    await expect(r.printer.status()).resolves.toMatchObject({ cutterError: true });
    await expect(r.printer.print(receipt('after', 1))).resolves.toMatchObject({ linesPrinted: 1 });
    await until(() => r.emu.cuts === 1, 'the cut');
    expect(r.emu.recoveryRequests[0]).toBe(2);
    expect(r.emu.texts.at(-1)).toBe('after 1');
  });
});

describe('status while idle', () => {
  it('polls while idle and reports health back to ok as soon as paper is back', async () => {
    const r = await rig(500);
    const health: PrinterHealth[] = [];
    r.printer.on('health', (e) => health.push(e.health));
    const passTime = async (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        await r.clock.advance(50);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const polled = async (count: number) => {
      for (let i = 0; i < 40 && health.length < count; i++) await passTime(100);
    };
    r.emu.set('paper-out');
    await polled(1);
    expect(health.at(-1)).toEqual({ state: 'fault', code: 'paper-out', reason: 'printer reports paper-out' });
    r.emu.set('cover-open');
    await polled(2);
    expect(health.at(-1)).toMatchObject({ state: 'fault', code: 'cover-open' });
    r.emu.set('cover-open', false);
    r.emu.set('paper-out', false);
    await polled(3);
    expect(health.at(-1)).toEqual({ state: 'ok' });
    expect(health.map((h) => h.state)).toEqual(['fault', 'fault', 'ok']);
  });
});
