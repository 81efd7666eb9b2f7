/** The serial port as the framed serial drivers use it, and how one is opened and closed. */

/** What the driver uses of a serialport `SerialPort` (autoOpen: false); tests may pass a SerialPortMock. */
export interface SerialPortLike {
  open(callback: (error: Error | null) => void): void;
  write(data: Buffer, callback?: (error: Error | null | undefined) => void): boolean;
  close(callback?: (error: Error | null) => void): void;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** Same shape as the printer driver's port factory, so one test pair serves both. */
export type OpenSerialPort = (path: string, baudRate: number) => SerialPortLike | Promise<SerialPortLike>;

export function closePort(port: SerialPortLike): Promise<void> {
  return new Promise((resolve) => {
    try {
      port.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** Loaded on first open only, so the module loads where the native serial binding is absent. */
export async function openSerialPort(path: string, baudRate: number): Promise<SerialPortLike> {
  const { SerialPort } = await import('serialport');
  return new SerialPort({ path, baudRate, autoOpen: false });
}
