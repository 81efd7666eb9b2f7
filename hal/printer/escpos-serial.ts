/**
 * ESC/POS receipt printer on a serial port (RS-232, USB-serial, or a pty in tests): the serial transport under the
 * shared protocol layer (escpos-printer.ts). Line settings (parity, data and stop bits) and flow control (RTS/CTS,
 * XON/XOFF) are the printer's DIP-switch or memory-switch settings and must match them. With XON/XOFF the printer's
 * flow bytes (0x11, 0x13) are taken by the OS driver, so they never reach the status parser.
 *
 * A serial line has no "device gone" signal while idle (a far end that went away just stops answering; a hung-up
 * pty fails writes): a failed write, a port error that closes it or the port closing counts as the device lost, and
 * the protocol layer's idle poll is what finds it between receipts.
 */
import { EscPosPrinter, type EscPosPrinterOptions } from './escpos-printer.js';
import type { PrinterTransport, TransportHandlers, TransportSession } from './transport.js';

/** The part of serialport's SerialPort (a Duplex stream) the driver uses; tests pass other bindings through it. */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback: (err: Error | null) => void): void;
  write(data: Buffer, callback: (err: Error | null | undefined) => void): boolean;
  drain(callback: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

/** The line and flow-control settings, as serialport names them. */
export interface SerialLineSettings {
  parity: SerialParity;
  dataBits: 7 | 8;
  stopBits: 1 | 2;
  /** Hardware flow control: the printer holds CTS while its buffer is full. */
  rtscts: boolean;
  /** Software flow control: the printer sends XOFF (0x13) when busy and XON (0x11) when it can take data. */
  xonxoff: boolean;
}

export const DEFAULT_SERIAL_SETTINGS: Readonly<SerialLineSettings> = Object.freeze({
  parity: 'none',
  dataBits: 8,
  stopBits: 1,
  rtscts: false,
  xonxoff: false,
});

export type SerialPortFactory = (path: string, baudRate: number, settings: SerialLineSettings) => SerialPortLike;

export interface SerialTransportOptions {
  path: string;
  baudRate: number;
  settings?: Partial<SerialLineSettings>;
  /** Port factory; default serialport's SerialPort with autoOpen false (loaded on first open). */
  openPort?: SerialPortFactory;
}

export class SerialTransport implements PrinterTransport {
  readonly description: string;
  readonly bitsPerSecond: number;
  private readonly settings: SerialLineSettings;

  constructor(private readonly options: SerialTransportOptions) {
    if (!(options.baudRate > 0)) throw new RangeError(`baudRate must be positive, got ${options.baudRate}`);
    this.settings = { ...DEFAULT_SERIAL_SETTINGS, ...options.settings };
    this.description = `serial ${options.path}`;
    this.bitsPerSecond = options.baudRate;
  }

  async open(handlers: TransportHandlers): Promise<TransportSession> {
    const { path, baudRate } = this.options;
    const port = this.options.openPort
      ? this.options.openPort(path, baudRate, this.settings)
      : await defaultOpenPort(path, baudRate, this.settings);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      detach();
      handlers.lost(reason);
    };
    const onData = (data: Buffer) => {
      if (!ended) handlers.data(data);
    };
    const onError = (err: Error) => {
      if (!port.isOpen) end(`port error: ${err.message}`);
    };
    const onClose = (err?: Error | null) => end(err ? `port closed: ${err.message}` : 'port closed');
    // Stays after detach: a stream error after the session ended (a failed write's echo) must not be unhandled.
    port.on('error', () => undefined);
    port.on('data', onData);
    port.on('error', onError);
    port.on('close', onClose);
    const detach = () => {
      port.removeListener('data', onData);
      port.removeListener('error', onError);
      port.removeListener('close', onClose);
    };
    return {
      write: (bytes) =>
        new Promise<void>((resolve, reject) => {
          if (ended) return reject(new Error('port closed'));
          // A port that fails a write is gone (a hung-up pty, a vanished adapter): idle, serialport may not notice.
          const failed = (err: Error) => {
            end(`port write failed: ${err.message}`);
            reject(err);
          };
          port.write(bytes, (err) => {
            if (err) return failed(err);
            port.drain((drainErr) => (drainErr ? failed(drainErr) : resolve()));
          });
        }),
      close: async () => {
        if (!ended) {
          ended = true;
          detach();
        }
        if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
      },
    };
  }
}

/** Loaded on first open so importing the driver never loads serialport's native binding. */
async function defaultOpenPort(path: string, baudRate: number, s: SerialLineSettings): Promise<SerialPortLike> {
  const { SerialPort } = await import('serialport');
  return new SerialPort({
    path,
    baudRate,
    autoOpen: false,
    parity: s.parity,
    dataBits: s.dataBits,
    stopBits: s.stopBits,
    rtscts: s.rtscts,
    xon: s.xonxoff,
    xoff: s.xonxoff,
  });
}

export interface EscPosSerialPrinterOptions extends Omit<EscPosPrinterOptions, 'transport'> {
  path: string;
  baudRate: number;
  serial?: Partial<SerialLineSettings>;
  openPort?: SerialPortFactory;
}

export class EscPosSerialPrinter extends EscPosPrinter {
  constructor(options: EscPosSerialPrinterOptions) {
    const { path, baudRate, serial, openPort, ...rest } = options;
    const transport = new SerialTransport({
      path,
      baudRate,
      ...(serial ? { settings: serial } : {}),
      ...(openPort ? { openPort } : {}),
    });
    super({ ...rest, transport });
  }
}
