/**
 * The far ends a printer driver meets, each able to go away and come back: a socat pty pair at fixed paths (the
 * serial printer's port, or the USB printer's character device: a pty slave is a character device too, read and
 * written with plain fs calls as /dev/usb/lp0 is), and a loopback TCP server standing for a network printer on 9100.
 * The ESC/POS emulator runs on the far end in the test's own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { SerialPortLike } from '../../hal/printer/escpos-serial.js';
import { EscPosEmulator, type EscPosEmulatorOptions } from './escpos-emulator.js';
export type { EscPosEmulator };
import { requireTool } from './tools.js';
import { until } from './wait.js';

type EmulatorSettings = Omit<EscPosEmulatorOptions, 'path' | 'openPort'>;

/** A pty pair whose socat can be killed (the device unplugged) and started again on the same paths (replugged). */
export class RestartablePty {
  readonly dir = mkdtempSync(join(tmpdir(), 'pos-hotplug-'));
  /** The driver's side: the serial port, or the USB device node. */
  readonly device = join(this.dir, 'device');
  private readonly far = join(this.dir, 'far');
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  emulator: EscPosEmulator | undefined;

  constructor(private readonly settings: EmulatorSettings = {}) {
    requireTool('socat');
  }

  /** Starts socat and the emulator on its far end. */
  async start(): Promise<EscPosEmulator> {
    const child = spawn('socat', [`pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.far}`], {
      stdio: 'ignore',
    });
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await until(() => existsSync(this.device) && existsSync(this.far), 'socat to create the pty pair', 5_000);
    this.emulator = await EscPosEmulator.open({
      path: this.far,
      openPort: (path, baudRate) => new SerialPort({ path, baudRate, autoOpen: false }),
      ...this.settings,
    });
    return this.emulator;
  }

  /** Kills socat (the far end goes away at once, as an unplugged cable); the emulator's port closes. */
  async unplug(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    // SIGTERM: socat exits at once and removes its links, as the device node goes when a printer is unplugged.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await this.exited;
    rmSync(this.device, { force: true });
    rmSync(this.far, { force: true });
    await this.emulator?.close().catch(() => undefined);
    this.emulator = undefined;
  }

  async dispose(): Promise<void> {
    await this.unplug();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A net.Socket seen as the serial port the emulator expects. */
function socketPort(socket: Socket): SerialPortLike {
  let open = true;
  socket.on('close', () => {
    open = false;
  });
  const port = {
    get isOpen() {
      return open;
    },
    open: (cb: (err: Error | null) => void) => cb(null),
    close: (cb: (err: Error | null) => void) => {
      socket.destroy();
      cb(null);
    },
    write: (data: Buffer, cb: (err: Error | null | undefined) => void) => socket.write(data, cb),
    drain: (cb: (err: Error | null) => void) => cb(null),
    // biome-ignore lint/suspicious/noExplicitAny: the adapter forwards the emulator's few events untouched
    on: (event: string, listener: (...args: any[]) => void) => socket.on(event, listener),
    // biome-ignore lint/suspicious/noExplicitAny: as above
    removeListener: (event: string, listener: (...args: any[]) => void) => socket.removeListener(event, listener),
  };
  return port as unknown as SerialPortLike;
}

/** A network printer on loopback: one connection at a time, as printers on 9100 take; stop() and start() again. */
export class LoopbackPrinterServer {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;
  emulator: EscPosEmulator | undefined;
  /** Connections accepted in all. */
  connections = 0;

  constructor(private readonly settings: EmulatorSettings = {}) {}

  async start(): Promise<void> {
    const server = createServer((socket) => {
      this.connections++;
      for (const old of this.sockets) old.destroy();
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      this.emulator = EscPosEmulator.attach(socketPort(socket), this.settings);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The printer goes away: the listener closes and open connections are reset. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.emulator = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
