/**
 * ESC/POS printer on the Linux USB printer class (usblp): the character device /dev/usb/lp*, opened read-write and
 * non-blocking, so status replies (DLE EOT) come back by read(2) on the same descriptor. No libusb and no detaching
 * of the kernel driver: the device stays usable by the OS tools (`echo -e '\x10\x04\x01' > /dev/usb/lp0`).
 *
 * - Reads are polled every readIntervalMs (a non-blocking read that finds nothing answers EAGAIN); that pacing is I/O
 *   scheduling on real timers, not a timeout: every bound the terminal acts on stays on the protocol layer's Clock.
 * - Unplugging makes usblp answer ENODEV and removes the node: any read or write error but EAGAIN/EINTR, or an end
 *   of file with the node gone (a hung-up pty standing in for the device), is the device gone, reported once.
 * - A write the printer does not take (EAGAIN: busy, buffer full) is tried again at the read pacing; the protocol
 *   layer bounds the whole write.
 */
import { constants, existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { EscPosPrinter, type EscPosPrinterOptions } from './escpos-printer.js';
import { errorText, type PrinterTransport, type TransportHandlers, type TransportSession } from './transport.js';

export interface UsbLpTransportOptions {
  /** The usblp device, e.g. /dev/usb/lp0 (or the udev symlink). */
  path: string;
  /** Read pacing. Default 10 ms. */
  readIntervalMs?: number;
}

const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export class UsbLpTransport implements PrinterTransport {
  readonly description: string;
  private readonly interval: number;

  constructor(private readonly options: UsbLpTransportOptions) {
    this.description = `usb ${options.path}`;
    this.interval = options.readIntervalMs ?? 10;
    if (!(this.interval > 0)) throw new RangeError(`readIntervalMs must be positive, got ${this.interval}`);
  }

  async open(handlers: TransportHandlers): Promise<TransportSession> {
    // O_NOCTTY: a tty standing in for the device in tests must never become the process's controlling terminal.
    const flags = constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY;
    const handle: FileHandle = await open(this.options.path, flags);
    const buffer = Buffer.alloc(512);
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      if (timer) clearTimeout(timer);
      void handle.close().catch(() => undefined);
      handlers.lost(reason);
    };
    const later = (fn: () => void) => {
      timer = setTimeout(fn, this.interval);
      timer.unref();
    };
    const readLoop = async (): Promise<void> => {
      if (ended) return;
      try {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (ended) return;
        if (bytesRead > 0) {
          handlers.data(Buffer.from(buffer.subarray(0, bytesRead)));
          setImmediate(() => void readLoop());
          return;
        }
        // End of file: a hung-up tty, or usblp after a zero-length packet. Gone only if the node went too.
        if (!existsSync(this.options.path)) return end('device gone: the device node was removed');
      } catch (error) {
        if (ended) return;
        if (!RETRY_CODES.has(errorCode(error) ?? '')) return end(`device gone: ${errorText(error)}`);
      }
      later(() => void readLoop());
    };
    void readLoop();
    return {
      write: async (bytes) => {
        let offset = 0;
        while (offset < bytes.length) {
          if (ended) throw new Error('device closed');
          try {
            const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
            offset += bytesWritten;
          } catch (error) {
            if (!RETRY_CODES.has(errorCode(error) ?? '')) {
              end(`device gone: ${errorText(error)}`);
              throw error;
            }
            await new Promise<void>((resolve) => later(resolve));
          }
        }
      },
      close: async () => {
        if (ended) return;
        ended = true;
        if (timer) clearTimeout(timer);
        await handle.close().catch(() => undefined);
      },
    };
  }
}

export interface EscPosUsbPrinterOptions extends Omit<EscPosPrinterOptions, 'transport'>, UsbLpTransportOptions {}

export class EscPosUsbPrinter extends EscPosPrinter {
  constructor(options: EscPosUsbPrinterOptions) {
    const { path, readIntervalMs, ...rest } = options;
    super({ ...rest, transport: new UsbLpTransport({ path, ...(readIntervalMs ? { readIntervalMs } : {}) }) });
  }
}
