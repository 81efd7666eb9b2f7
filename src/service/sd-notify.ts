/**
 * The sd_notify protocol (sd_notify(3)): newline-separated VAR=value lines in one datagram to the unix socket named
 * by $NOTIFY_SOCKET. Node has no unix datagram sockets, so the datagram goes through the `unix-dgram` native module
 * (an optional dependency, built at install); where it could not be built, or the socket is in the abstract
 * namespace (which unix-dgram cannot address), each message is sent by `systemd-notify`, a child process, which
 * needs NotifyAccess=all in the unit (the shipped unit has it).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export interface NotifyChannel {
  /** How messages leave: in-process datagrams or the systemd-notify program. */
  readonly kind: 'datagram' | 'systemd-notify';
  /** Sends the VAR=value lines as one message; rejects when it could not be sent. */
  send(lines: string[]): Promise<void>;
  close(): void;
}

export class NotifyError extends Error {
  override readonly name = 'NotifyError';
}

type UnixDgram = typeof import('unix-dgram');

function loadUnixDgram(): UnixDgram | undefined {
  try {
    return createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  } catch {
    return undefined;
  }
}

function datagramChannel(dgram: UnixDgram, path: string): NotifyChannel {
  const socket = dgram.createSocket('unix_dgram');
  // Errors reach the callback of the send they belong to; an unhandled 'error' event would end the process.
  socket.on('error', () => {});
  return {
    kind: 'datagram',
    send: (lines) =>
      new Promise<void>((resolve, reject) => {
        const message = Buffer.from(lines.join('\n'));
        socket.send(message, 0, message.length, path, (err) =>
          err ? reject(new NotifyError(`sd_notify to ${path}: ${err.message}`)) : resolve(),
        );
      }),
    close: () => socket.close(),
  };
}

function commandChannel(socketPath: string, pid: number, program: string): NotifyChannel {
  return {
    kind: 'systemd-notify',
    send: (lines) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(program, [`--pid=${pid}`, ...lines], {
          env: { ...process.env, NOTIFY_SOCKET: socketPath },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.once('error', (err) => reject(new NotifyError(`${program}: ${err.message}`)));
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new NotifyError(`${program} exited ${code}: ${stderr.trim()}`)),
        );
      }),
    close: () => {},
  };
}

export interface NotifyChannelOptions {
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** Force the systemd-notify path (tests, or a terminal without the native module). */
  forceCommand?: boolean;
  /** The program of the fallback; default systemd-notify from PATH. */
  notifyProgram?: string;
}

/** The channel to the service manager, or undefined when not started by one with notify support. */
export function openNotifyChannel(options: NotifyChannelOptions = {}): NotifyChannel | undefined {
  const env = options.env ?? process.env;
  const socketPath = env['NOTIFY_SOCKET'];
  if (!socketPath) return undefined;
  const pid = options.pid ?? process.pid;
  const abstract = socketPath.startsWith('@');
  const dgram = options.forceCommand || abstract ? undefined : loadUnixDgram();
  return dgram
    ? datagramChannel(dgram, socketPath)
    : commandChannel(socketPath, pid, options.notifyProgram ?? 'systemd-notify');
}
