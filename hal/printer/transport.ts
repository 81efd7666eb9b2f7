/**
 * The byte pipe under the ESC/POS protocol layer (escpos-printer.ts). Three transports implement it: a serial port
 * (escpos-serial.ts), the kernel's USB printer class character device /dev/usb/lp* (escpos-usb.ts) and raw TCP on
 * port 9100 (escpos-tcp.ts). Each open() gives a fresh session, so events of a session that was lost can never be
 * mistaken for the next one's.
 */
export interface TransportHandlers {
  /** Bytes from the printer (status replies, GS I answers). */
  data(chunk: Buffer): void;
  /** The device went away under the session (unplugged, port closed, connection reset). Called at most once. */
  lost(reason: string): void;
}

export interface TransportSession {
  /** Resolves once the bytes are handed to the OS (drained); rejects when the device is gone. */
  write(bytes: Buffer): Promise<void>;
  /** Never fails; no handler is called after it. */
  close(): Promise<void>;
}

export interface PrinterTransport {
  /** Says where the printer is, for messages: "serial /dev/ttyS1", "usb /dev/usb/lp0", "tcp 10.0.0.9:9100". */
  readonly description: string;
  /** Rejects with an Error whose message says why the device cannot be opened (absent, busy, refused). */
  open(handlers: TransportHandlers): Promise<TransportSession>;
  /** Bits per second on the wire, to bound a write; undefined when the link is fast enough not to matter. */
  readonly bitsPerSecond?: number;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
