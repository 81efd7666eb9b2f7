/**
 * The receipt printer (`hal.printer`): which transport (serial, the USB printer class device, raw TCP 9100), its
 * line settings, how a printer that went away is reopened, the idle status poll and the cash drawer on its connector.
 */
import { z } from 'zod';
import { PRINTER_MODEL_NAMES } from '../../hal/printer/model-profiles.js';
import { int, ms, obj, oneOf, str } from './schema-parts.js';

const printerSerial = obj({
  path: str('a serial device path like "/dev/ttyS1"'),
  baudRate: int(300, 4_000_000),
  /** As the printer's DIP or memory switches are set; most ship 8N1. */
  parity: oneOf(['none', 'even', 'odd', 'mark', 'space']).optional(),
  dataBits: z.union([z.literal(7), z.literal(8)], { error: '7 or 8' }).optional(),
  stopBits: z.union([z.literal(1), z.literal(2)], { error: '1 or 2' }).optional(),
  /** "rtscts" (DTR/DSR-style hardware busy on RTS/CTS) or "xonxoff" (the printer's XON/XOFF bytes). */
  flowControl: oneOf(['none', 'rtscts', 'xonxoff']).optional(),
});

export const printer = obj({
  driver: oneOf(['mock', 'escpos-serial', 'escpos-usb', 'escpos-tcp']),
  serial: printerSerial.optional(),
  /** The kernel's USB printer class device (usblp), or its udev symlink. */
  usb: obj({ path: str('a device path like "/dev/usb/lp0"') }).optional(),
  tcp: obj({ host: str('a host name or address'), port: int(1, 65535) }).optional(),
  statusTimeoutMs: ms(50),
  columns: int(16, 128),
  /** Status read this often while idle, so paper back or a cover closed clears "degraded" at once. */
  idlePollMs: ms(200).optional(),
  /** A printer that went away is reopened after a delay growing from initialDelayMs to maxDelayMs. */
  reconnect: obj({ initialDelayMs: ms(50), maxDelayMs: ms(50) })
    .refine((v) => v.maxDelayMs >= v.initialDelayMs, { error: 'maxDelayMs at least initialDelayMs' })
    .optional(),
  /** The cash drawer on the printer's drawer connector; null or absent: none. */
  drawer: obj({
    pin: z.union([z.literal(2), z.literal(5)], { error: '2 or 5 (the drawer connector pin)' }),
    pulseMs: int(2, 510),
    /** The level of connector pin 3 with the drawer open, per the drawer's switch. */
    openWhenPin3: oneOf(['high', 'low']),
    /** Open it after an approved sale's receipts. */
    kickOnSale: z.boolean({ error: 'true or false' }).optional(),
  })
    .nullable()
    .optional(),
  /** The model's code pages and Chinese mode (hal/printer/model-profiles.ts); default plain ASCII. */
  model: oneOf(PRINTER_MODEL_NAMES).optional(),
}).superRefine((v, ctx) => {
  const needs = { 'escpos-serial': 'serial', 'escpos-usb': 'usb', 'escpos-tcp': 'tcp' } as const;
  const key = v.driver === 'mock' ? undefined : needs[v.driver];
  if (key && v[key] === undefined) {
    const shape = { serial: '{ path, baudRate }', usb: '{ path }', tcp: '{ host, port }' }[key];
    ctx.addIssue({ code: 'custom', path: [key], message: `an object ${shape} when driver is "${v.driver}"` });
  }
});
