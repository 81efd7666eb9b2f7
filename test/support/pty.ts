/**
 * A connected pair of serial ports for driver tests: a socat pseudo-terminal pair (the real serialport binding on
 * real ttys), or, when asked for (`forceMock`, or POS_SERIAL_MOCK=1), two linked ports of serialport's mock binding,
 * announced with console.warn. A missing socat fails the test with its install line: a run that did not exercise
 * real ttys must not look as if it had.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort, SerialPortMock } from 'serialport';
import type { SerialPortLike } from '../../hal/printer/escpos-serial.js';
import { requireTool } from './tools.js';

export interface SerialPair {
  /** One end (the driver's side by convention). */
  a: string;
  /** The other end (the emulated device's side). */
  b: string;
  kind: 'socat' | 'mock';
  /** Opens either end with the binding this pair needs; pass it to the driver and the emulator. */
  openPort(path: string, baudRate: number): SerialPortLike;
  /** Ends the pair (kills socat); both ends then see their port close. Safe to call twice. */
  close(): Promise<void>;
  /**
   * The cable pulled: socat is killed (SIGKILL, as a device that loses power), both ttys vanish. Socat pairs only;
   * replug() brings the same paths back, on new ttys.
   */
  unplug?(): Promise<void>;
  replug?(): Promise<void>;
}

export function socatAvailable(): boolean {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return !probe.error;
}

export async function openSerialPair(options: { forceMock?: boolean } = {}): Promise<SerialPair> {
  if (options.forceMock || process.env['POS_SERIAL_MOCK'] === '1') {
    console.warn('serial pair: using the @serialport/binding-mock linked pair (requested)');
    return openMockPair();
  }
  if (!socatAvailable()) {
    requireTool('socat');
    // On PATH but not runnable.
    throw new Error('socat -V failed; POS_SERIAL_MOCK=1 runs these tests on the mock binding instead');
  }
  return openSocatPair();
}

interface SocatProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Starts socat linking two new ptys at `a` and `b`; resolves once both links exist. */
async function startSocat(a: string, b: string): Promise<SocatProcess> {
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const started = Date.now();
  while (!(existsSync(a) && existsSync(b))) {
    if (gone || Date.now() - started > 5_000) {
      await stop(child, exited);
      throw new Error(`socat did not create the pty pair: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { child, exited };
}

async function openSocatPair(): Promise<SerialPair> {
  const dir = mkdtempSync(join(tmpdir(), 'pos-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  let socat: SocatProcess;
  try {
    socat = await startSocat(a, b);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let plugged = true;
  let closed = false;
  const pull = async (signal: NodeJS.Signals) => {
    if (!plugged) return;
    plugged = false;
    if (signal === 'SIGKILL' && socat.child.exitCode === null) {
      socat.child.kill('SIGKILL');
      await socat.exited;
    } else await stop(socat.child, socat.exited);
    // A killed socat leaves its links behind, pointing at ttys that no longer exist.
    rmSync(a, { force: true });
    rmSync(b, { force: true });
  };
  return {
    a,
    b,
    kind: 'socat',
    openPort: (path, baudRate) => new SerialPort({ path, baudRate, autoOpen: false }),
    async close() {
      if (closed) return;
      closed = true;
      await pull('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    unplug: () => pull('SIGKILL'),
    async replug() {
      if (plugged || closed) return;
      socat = await startSocat(a, b);
      plugged = true;
    },
  };
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(killer);
}

let mockPairs = 0;

/** Two mock-binding ports whose writes arrive at each other, the way a null-modem cable would carry them. */
function openMockPair(): SerialPair {
  const id = `${process.pid}-${++mockPairs}`;
  const a = `/dev/mock-pair-${id}-a`;
  const b = `/dev/mock-pair-${id}-b`;
  const binding = SerialPortMock.binding;
  binding.createPort(a, { echo: false, record: false });
  binding.createPort(b, { echo: false, record: false });
  const ends = new Map<string, SerialPortMock>();
  const peerOf = (path: string) => ends.get(path === a ? b : a);

  return {
    a,
    b,
    kind: 'mock',
    openPort(path, baudRate) {
      const port = new SerialPortMock({ path, baudRate, autoOpen: false });
      // 'open' is emitted before the open callback, so the link is in place before anyone can write.
      port.on('open', () => {
        const inner = port.port;
        if (!inner) return;
        ends.set(path, port);
        const write = inner.write.bind(inner);
        inner.write = async (data: Buffer) => {
          await write(data);
          const peer = peerOf(path)?.port;
          // Bytes sent to a closed end are lost, as on a cable.
          if (peer?.isOpen) peer.emitData(Buffer.from(data));
        };
      });
      port.on('close', () => ends.delete(path));
      return port;
    },
    async close() {
      const open = [...ends.values()].filter((p) => p.isOpen);
      await Promise.all(open.map((p) => new Promise<void>((resolve) => p.close(() => resolve()))));
    },
  };
}
