/** The receipt printer the configuration names: a mock, or the ESC/POS driver on its transport (loaded on demand). */
import type { Clock } from '../../hal/clock.js';
import type { Printer } from '../../hal/printer/contract.js';
import type { EscPosPrinterOptions } from '../../hal/printer/escpos-printer.js';
import { MockPrinter } from '../../hal/printer/mock.js';
import type { PosConfig } from '../config/index.js';

type PrinterConfig = PosConfig['hal']['printer'];

function common(c: PrinterConfig, clock: Clock): Omit<EscPosPrinterOptions, 'transport'> {
  return {
    clock,
    statusTimeoutMs: c.statusTimeoutMs,
    columns: c.columns,
    ...(c.idlePollMs !== undefined ? { idlePollMs: c.idlePollMs } : {}),
    ...(c.reconnect ? { reconnect: c.reconnect } : {}),
    ...(c.drawer ? { drawer: c.drawer } : {}),
  };
}

// The schema guarantees the driver's own section is present when that driver is chosen.
export async function buildPrinter(c: PrinterConfig, clock: Clock): Promise<Printer> {
  switch (c.driver) {
    case 'escpos-serial': {
      const { EscPosSerialPrinter } = await import('../../hal/printer/escpos-serial.js');
      const s = c.serial!;
      return new EscPosSerialPrinter({
        ...common(c, clock),
        path: s.path,
        baudRate: s.baudRate,
        serial: {
          ...(s.parity ? { parity: s.parity } : {}),
          ...(s.dataBits ? { dataBits: s.dataBits } : {}),
          ...(s.stopBits ? { stopBits: s.stopBits } : {}),
          rtscts: s.flowControl === 'rtscts',
          xonxoff: s.flowControl === 'xonxoff',
        },
      });
    }
    case 'escpos-usb': {
      const { EscPosUsbPrinter } = await import('../../hal/printer/escpos-usb.js');
      return new EscPosUsbPrinter({ ...common(c, clock), path: c.usb!.path });
    }
    case 'escpos-tcp': {
      const { EscPosTcpPrinter } = await import('../../hal/printer/escpos-tcp.js');
      return new EscPosTcpPrinter({ ...common(c, clock), host: c.tcp!.host, port: c.tcp!.port });
    }
    default:
      return new MockPrinter(clock, { columns: c.columns });
  }
}
