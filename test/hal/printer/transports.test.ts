/**
 * The one ESC/POS protocol layer on its three transports, each against the emulated printer on a real far end: a
 * socat pty for the serial port, the same kind of pty as the USB printer's character device (a pty slave is a
 * character device, read and written with plain fs calls as /dev/usb/lp0 is), and a loopback TCP server for 9100.
 * Every status bit of DLE EOT 1..4 is answered alone, and the driver's reading is checked against the ESC/POS table;
 * then the far end goes away and comes back, and the driver must be ready again by itself, without a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import {
  PRINTER_STATUS_OK,
  type PrinterHealth,
  type PrinterStatus,
  type ReceiptDocument,
} from '../../../hal/printer/contract.js';
import type { EscPosPrinter, EscPosPrinterOptions } from '../../../hal/printer/escpos-printer.js';
import { EscPosSerialPrinter } from '../../../hal/printer/escpos-serial.js';
import { EscPosTcpPrinter } from '../../../hal/printer/escpos-tcp.js';
import { EscPosUsbPrinter } from '../../../hal/printer/escpos-usb.js';
import { LoopbackPrinterServer, RestartablePty, type EscPosEmulator } from '../../support/printer-links.js';
import { until } from '../../support/wait.js';
import { expectFault } from '../expect-fault.js';

const RECONNECT = { initialDelayMs: 100, maxDelayMs: 800, random: () => 0 };

interface Link {
  printer: EscPosPrinter;
  emulator(): EscPosEmulator;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  dispose(): Promise<void>;
}

type Common = Omit<EscPosPrinterOptions, 'transport'>;

const TRANSPORTS: Record<string, (common: Common) => Promise<Link>> = {
  serial: async (common) => {
    const pty = new RestartablePty();
    await pty.start();
    const printer = new EscPosSerialPrinter({ ...common, path: pty.device, baudRate: 115_200 });
    return ptyLink(pty, printer);
  },
  'usb (usblp character device, pty stand-in)': async (common) => {
    const pty = new RestartablePty();
    await pty.start();
    return ptyLink(pty, new EscPosUsbPrinter({ ...common, path: pty.device }));
  },
  'tcp 9100 (loopback)': async (common) => {
    const server = new LoopbackPrinterServer();
    await server.start();
    const printer = new EscPosTcpPrinter({ ...common, host: '127.0.0.1', port: server.port });
    return {
      printer,
      emulator: () => {
        if (!server.emulator) throw new Error('no connection to the printer server');
        return server.emulator;
      },
      unplug: () => server.stop(),
      replug: () => server.start(),
      dispose: () => server.stop(),
    };
  },
};

function ptyLink(pty: RestartablePty, printer: EscPosPrinter): Link {
  return {
    printer,
    emulator: () => {
      if (!pty.emulator) throw new Error('the pty is unplugged');
      return pty.emulator;
    },
    unplug: () => pty.unplug(),
    replug: async () => {
      await pty.start();
    },
    dispose: () => pty.dispose(),
  };
}

/** [query, bit, what the ESC/POS table says the bit means for the contract's status]. */
const STATUS_TABLE: [1 | 2 | 3 | 4, number, string, Partial<PrinterStatus>][] = [
  [1, 2, 'drawer connector pin 3 high', { drawerOpen: true }],
  [1, 3, 'offline', { online: false }],
  [1, 5, 'waiting for online recovery (stops nothing)', {}],
  [1, 6, 'feed button pressed (stops nothing)', {}],
  [2, 2, 'cover open', { coverOpen: true }],
  [2, 3, 'paper being fed by the button (stops nothing)', {}],
  [2, 5, 'printing stopped by paper end', { paper: 'out' }],
  [2, 6, 'error with no cause in n=3', { online: false }],
  [3, 2, 'recoverable (mechanical) error', { jammed: true }],
  [3, 3, 'auto-cutter error', { cutterError: true }],
  [3, 5, 'unrecoverable error', { unrecoverableError: true }],
  [3, 6, 'auto-recoverable error (head overheat)', { overheated: true }],
  [4, 2, 'paper near end (bit 2)', { paper: 'near-end' }],
  [4, 3, 'paper near end (bit 3)', { paper: 'near-end' }],
  [4, 5, 'paper end (bit 5)', { paper: 'out' }],
  [4, 6, 'paper end (bit 6)', { paper: 'out' }],
];

const links: Link[] = [];
afterEach(async () => {
  for (const link of links.splice(0)) {
    await link.printer.close();
    await link.dispose();
  }
});

async function open(kind: string, clock: ManualClock, extra: Partial<Common> = {}): Promise<Link> {
  const make = TRANSPORTS[kind]!;
  const link = await make({
    clock,
    statusTimeoutMs: 300,
    columns: 32,
    reconnect: RECONNECT,
    drawer: { pin: 2, pulseMs: 100, openWhenPin3: 'high' },
    ...extra,
  });
  links.push(link);
  await link.printer.open();
  return link;
}

const receipt = (n: number): ReceiptDocument => ({
  lines: Array.from({ length: n }, (_, i) => ({ text: `line ${i + 1}` })),
  cut: true,
});

describe.each(Object.keys(TRANSPORTS))('ESC/POS over %s', (kind) => {
  it('reads every bit of DLE EOT 1..4 as the ESC/POS status table says', async () => {
    const link = await open(kind, new ManualClock());
    await until(() => {
      try {
        return link.emulator() !== undefined;
      } catch {
        return false;
      }
    }, 'the far end to see the connection');
    const clean = { ...PRINTER_STATUS_OK, drawerOpen: false };
    await expect(link.printer.status()).resolves.toEqual(clean);
    for (const [query, bit, meaning, expected] of STATUS_TABLE) {
      const bytes: [number, number, number, number] = [0x12, 0x12, 0x12, 0x12];
      bytes[query - 1] = (bytes[query - 1] as number) | (1 << bit);
      link.emulator().answerStatus(bytes);
      const status = await link.printer.status();
      expect({ query, bit, meaning, status }).toEqual({ query, bit, meaning, status: { ...clean, ...expected } });
    }
  });

  it('kicks the drawer with ESC p 0 t1 t2 and reports its sensor', async () => {
    const link = await open(kind, new ManualClock());
    await link.printer.status();
    await link.printer.kickDrawer();
    await until(() => link.emulator().drawerKicks.length === 1, 'the drawer kick to arrive');
    expect(link.emulator().drawerKicks).toEqual([{ pin: 2, onMs: 100, offMs: 100 }]);
    link.emulator().drawerPin3High = true;
    await expect(link.printer.status()).resolves.toMatchObject({ drawerOpen: true });
    link.emulator().drawerPin3High = false;
    await expect(link.printer.status()).resolves.toMatchObject({ drawerOpen: false });
  });

  it('reports not-connected when the far end goes away and is ready again by itself when it returns', {
    timeout: 30_000,
  }, async () => {
    const clock = new ManualClock();
    // Polled while idle: a serial line has no other way to find its far end gone between receipts.
    const link = await open(kind, clock, { idlePollMs: 200 });
    /** Small steps with real pauses, so a status read's reply (real I/O) lands before its simulated timeout. */
    const passTime = async (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        await clock.advance(50);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const health: PrinterHealth['state'][] = [];
    link.printer.on('health', (e) => health.push(e.health.state));
    await expect(link.printer.status()).resolves.toMatchObject({ online: true });

    await link.unplug();
    for (let i = 0; i < 100 && !health.includes('not-connected'); i++) await passTime(100);
    expect(health).toContain('not-connected');
    // A call while it is away tries one reopen at once and says why it failed.
    await expectFault(link.printer.status(), 'printer', 'not-connected');

    // Away for a while: the reconnect loop keeps trying on the clock, with growing delays.
    await passTime(4 * RECONNECT.maxDelayMs);
    expect(link.printer.health.state).toBe('not-connected');
    expect(link.printer.opened).toBe(false);

    await link.replug();
    for (let i = 0; i < 40 && link.printer.health.state !== 'ok'; i++) await passTime(100);
    expect(link.printer.health.state).toBe('ok');
    expect(health.at(-1)).toBe('ok');
    await until(() => {
      try {
        return link.emulator() !== undefined;
      } catch {
        return false;
      }
    }, 'the far end to be back');
    await expect(link.printer.print(receipt(3))).resolves.toMatchObject({ linesPrinted: 3 });
    await until(() => link.emulator().cuts === 1, 'the receipt to be cut');
    expect(link.emulator().texts).toEqual(['line 1', 'line 2', 'line 3']);
  });
});
