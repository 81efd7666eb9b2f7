/**
 * Watching a terminal from outside, for the crash tests: the host ledger read as it grows, waits re-checked on every
 * sign, the kernel's view of the terminal's journal I/O (/proc), and the relay between the terminal and the host that
 * can hold a request back, drop an answer, or kill the instant an answer reaches the terminal's socket. Nothing here
 * asks the code under test anything: each sign comes from the host, the kernel or the wire.
 */
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../../../hal/acquirer-link/framing.js';
import { unpack } from '../../../src/iso8583/index.js';
import type { LedgerLine } from '../../support/reconcile.js';

export type LedgerEntry = LedgerLine & { stan?: string };

/** The host ledger, read as it grows (the host appends one line per message received or sent). */
export class LedgerTail {
  readonly entries: LedgerEntry[] = [];
  private offset = 0;
  private rest = '';
  private readonly buffer = Buffer.alloc(1 << 16);

  constructor(private readonly path: string) {}

  poll(): LedgerEntry[] {
    const fd = openSync(this.path, 'r');
    try {
      for (;;) {
        const n = readSync(fd, this.buffer, 0, this.buffer.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        this.rest += this.buffer.toString('utf8', 0, n);
      }
    } finally {
      closeSync(fd);
    }
    const lines = this.rest.split('\n');
    this.rest = lines.pop()!;
    for (const line of lines) if (line.trim()) this.entries.push(JSON.parse(line) as LedgerEntry);
    return this.entries;
  }
}

const waiters = new Set<() => void>();
/** Re-check every pending wait now (ledger grew, an ECR message or terminal output arrived). */
export const nudge = () => {
  for (const check of [...waiters]) check();
};

/** Resolves with the first value check() returns, re-checked on every nudge and every 2 ms; undefined on time-out. */
export function waitFor<T>(check: () => T | undefined, limitMs: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const started = Date.now();
    let finished = false;
    const finish = (value: T | undefined) => {
      finished = true;
      clearInterval(timer);
      waiters.delete(tick);
      resolve(value);
    };
    const tick = () => {
      if (finished) return;
      const value = check();
      if (value !== undefined) finish(value);
      else if (Date.now() - started > limitMs) finish(undefined);
    };
    const timer = setInterval(tick, 2);
    waiters.add(tick);
    tick();
  });
}

/** Syscalls that write or sync a file (kernel syscall tables): write, pwrite64, writev, fsync, fdatasync, pwritev(2). */
const FILE_WRITE_SYSCALLS: Partial<Record<NodeJS.Architecture, number[]>> = {
  x64: [1, 18, 20, 74, 75, 296, 328],
  arm64: [64, 66, 68, 70, 82, 83, 287],
};
const fileWrites = new Set(FILE_WRITE_SYSCALLS[process.arch] ?? []);
export const procShowsSyscalls = fileWrites.size > 0 && existsSync('/proc/self/syscall');

/**
 * True when the terminal's main thread (where SQLite runs) is inside a write or sync of a journal file right now,
 * read from /proc/<pid>/syscall (the syscall number, then its first argument: the descriptor). False where /proc
 * does not tell.
 */
export function inJournalIo(pid: number | undefined): boolean {
  if (pid === undefined || fileWrites.size === 0) return false;
  try {
    const [nr, fd] = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ');
    if (!fileWrites.has(Number(nr)) || fd === undefined) return false;
    return readlinkSync(`/proc/${pid}/fd/${Number.parseInt(fd, 16)}`).includes('journal.sqlite');
  } catch {
    return false;
  }
}

/**
 * Spin (the commit takes milliseconds, a timer tick would miss it) until the terminal enters its `nth` distinct
 * journal write or sync, counting from 0; false when that did not happen within limitMs.
 */
export function awaitJournalIo(pid: number | undefined, nth: number, limitMs: number): boolean {
  const end = performance.now() + limitMs;
  let seen = 0;
  let inside = false;
  while (performance.now() < end) {
    const now = inJournalIo(pid);
    if (now && !inside && seen++ === nth) return true;
    inside = now;
  }
  return false;
}

/**
 * What the relay does to one message on its way (one-shot, on the `nth` such message from now, counting from 0):
 * hold a request back, drop an answer, or kill right after an answer.
 */
export type InterceptSpec =
  /** The terminal's request of this MTI is not passed on: it left the terminal, the host never sees it. */
  (
    | { hold: string }
    /** The host's answer of this MTI is not passed on: the host has processed the request, the terminal never hears. */
    | { drop: string }
    /** The host's answer of this MTI is passed on, and `onMatch` runs at once (it kills the terminal before its commit). */
    | { after: string }
  ) & { nth?: number };
export type Intercept = InterceptSpec & { onMatch: (stan: string) => void };

/** MTI and STAN of a frame, read as the host would (undefined when it does not decode). */
function peek(frame: Buffer): { mti: string; stan: string } | undefined {
  try {
    const message = unpack(frame);
    return { mti: message.mti, stan: String(message.fields[11] ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * The terminal reaches the host through this relay, so a round can cut the link (new connections refused, open ones
 * dropped). The mock network's "down" only makes sales go offline: the forwarder would still reach the host and send
 * each advice at once, so no queue would build up. The relay reads the frames it passes, so a round can also stop a
 * request between the terminal and the host, or kill the terminal the instant an answer reaches its socket.
 */
export class Relay {
  port = 0;
  intercept: Intercept | undefined;
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();

  constructor(private readonly hostPort: number) {}

  async up(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((inbound) => {
      const outbound = net.connect(this.hostPort, '127.0.0.1');
      for (const socket of [inbound, outbound]) {
        this.open.add(socket);
        socket.setNoDelay(true);
        socket.on('error', () => {});
        socket.on('close', () => {
          this.open.delete(socket);
          inbound.destroy();
          outbound.destroy();
        });
      }
      const fromTerminal = new FrameDecoder();
      const fromHost = new FrameDecoder();
      inbound.on('data', (chunk: Buffer) => {
        for (const frame of fromTerminal.push(chunk).frames)
          if (!this.matches('hold', frame)) outbound.write(encodeFrame(frame));
      });
      outbound.on('data', (chunk: Buffer) => {
        for (const frame of fromHost.push(chunk).frames) {
          if (this.matches('drop', frame)) continue;
          inbound.write(encodeFrame(frame));
          this.matches('after', frame);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** True when the intercept of this kind takes this frame (it is then used up and its onMatch has run). */
  private matches(kind: 'hold' | 'drop' | 'after', frame: Buffer): boolean {
    const intercept = this.intercept;
    if (!intercept || !(kind in intercept)) return false;
    const seen = peek(frame);
    if (seen?.mti !== (intercept as unknown as Record<typeof kind, string>)[kind]) return false;
    if ((intercept.nth ?? 0) > 0) {
      intercept.nth = (intercept.nth ?? 0) - 1;
      return false;
    }
    this.intercept = undefined;
    intercept.onMatch(seen.stan);
    return true;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.open) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A terminal run as a child process (test/support/cli.ts's RunningCli, as far as a kill needs it). */
export interface KillableChild {
  child: { pid?: number | undefined; kill(signal: NodeJS.Signals): boolean };
  exited: Promise<unknown>;
}

/** SIGKILL now; true when the main thread was inside a journal write or sync at that instant. */
export function killNow(terminal: KillableChild): boolean {
  const io = inJournalIo(terminal.child.pid);
  terminal.child.kill('SIGKILL');
  return io;
}

/**
 * One kill on the relay's sign: the intercept is set, `drive` makes the terminal work (a sale, a settlement), and
 * the kill comes the instant the relay takes the message (`atMatch` may spin first, e.g. into the next journal
 * write, and tells whether the kill was in journal I/O). Without the sign within limitMs the kill comes anyway
 * and `stan` is undefined. Resolves once the terminal is gone and `drive` has ended.
 */
export async function killOnRelay(
  relay: Relay,
  terminal: KillableChild,
  intercept: InterceptSpec,
  drive: () => Promise<unknown>,
  opts: { atMatch?: (stan: string) => boolean; limitMs?: number } = {},
): Promise<{ stan: string | undefined; journalIo: boolean }> {
  let stan: string | undefined;
  let journalIo = false;
  relay.intercept = {
    ...intercept,
    onMatch: (matched: string) => {
      stan = matched;
      journalIo = opts.atMatch?.(matched) ?? false;
      killNow(terminal);
    },
  };
  const pending = drive();
  await waitFor(() => stan, opts.limitMs ?? 5_000);
  relay.intercept = undefined;
  if (stan === undefined) journalIo = killNow(terminal);
  await pending;
  await terminal.exited;
  return { stan, journalIo };
}

/**
 * One kill on the host ledger's sign: `drive` makes the terminal send, and once the host has received a request of
 * this MTI (after `mark`, the ledger's length before) the kill comes, `holdMs` later. `answered`: the host had sent
 * its answer by then (an answer it withheld does not count).
 */
export async function killAtHost(
  ledger: LedgerTail,
  terminal: KillableChild,
  mti: string,
  drive: () => Promise<unknown>,
  holdMs = 0,
): Promise<{ request: LedgerEntry | undefined; answered: boolean; journalIo: boolean }> {
  const mark = ledger.poll().length;
  const pending = drive();
  const since = () => ledger.poll().slice(mark);
  const request = await waitFor(() => since().find((e) => e.dir === 'in' && e.mti === mti), 5_000);
  if (request && holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
  const answered =
    request !== undefined &&
    since().some((e) => e.dir === 'out' && e.stan === request.stan && !e.note?.startsWith('withheld'));
  const journalIo = killNow(terminal);
  await pending;
  return { request, answered, journalIo };
}

/**
 * The host simulator's control lines (pos-host-sim --control, src/acquirer-sim/control.ts): each line written to its
 * standard input is answered by one JSON line on its standard output, which is the host's own word on its books.
 */
export class HostControl {
  /** JSON lines of the host's output already read (the first is its `listening` line). */
  private read = 1;

  constructor(private readonly host: { child: { stdin: NodeJS.WritableStream }; stdout: () => string }) {}

  private lines(): string[] {
    return this.host
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'));
  }

  async say(line: string): Promise<Record<string, unknown>> {
    this.host.child.stdin.write(`${line}\n`);
    const answer = await waitFor(() => this.lines()[this.read], 5_000);
    if (answer === undefined) throw new Error(`the host simulator did not answer ${JSON.stringify(line)}`);
    this.read += 1;
    const parsed = JSON.parse(answer) as Record<string, unknown>;
    if (parsed['ok'] !== true) throw new Error(`the host simulator refused ${JSON.stringify(line)}: ${answer}`);
    return parsed;
  }

  /** The host's open batch of one terminal: totals per currency (empty when settled), uploads taken, STANs lost. */
  async batch(terminalId: string): Promise<{ totals: Record<string, unknown>; uploads: number; lost: number }> {
    const answer = await this.say('batch');
    const terminals = answer['terminals'] as Array<{
      terminalId: string;
      totals: Record<string, unknown>;
      uploads: number;
      lost: number;
    }>;
    return terminals.find((t) => t.terminalId === terminalId) ?? { totals: {}, uploads: 0, lost: 0 };
  }

  /** Every settlement request the host answered, in order. */
  async settlements(): Promise<
    Array<{ batchNumber?: number; currency: string; responseCode: string; afterUpload: boolean; hostTotals: unknown }>
  > {
    return (await this.say('settlements'))['records'] as never;
  }
}
