/**
 * A small ECR client: what a cash register does. Sends one JSON request per line and collects every reply with
 * the same id until the final one. Used by the demo, the interactive console, benchmarks and end-to-end tests.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export type EcrMessage = { id: string | null; type: string; [key: string]: unknown };

const FINAL_TYPES = new Set(['result', 'status', 'done', 'error']);

export class EcrClient {
  private buffer = '';
  private counter = 0;
  private readonly idPrefix = randomBytes(4).toString('hex');
  private readonly waiters = new Map<
    string,
    { messages: EcrMessage[]; resolve: (m: EcrMessage[]) => void; onMessage?: (m: EcrMessage) => void }
  >();
  /** Replies that matched no request in flight (protocol errors with a null id, late events). */
  readonly stray: EcrMessage[] = [];

  private constructor(
    private readonly socket: net.Socket,
    private readonly token?: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const [id, waiter] of this.waiters) {
        waiter.resolve([...waiter.messages, { id, type: 'error', code: 'disconnected', message: 'connection closed' }]);
      }
      this.waiters.clear();
    });
  }

  static connect(target: { port: number; host?: string } | { path: string }, token?: string): Promise<EcrClient> {
    return new Promise((resolve, reject) => {
      const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host ?? '127.0.0.1');
      socket.once('connect', () => resolve(new EcrClient(socket, token)));
      socket.once('error', reject);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let newline = this.buffer.indexOf('\n'); newline >= 0; newline = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (!line.trim()) continue;
      let message: EcrMessage;
      try {
        message = JSON.parse(line) as EcrMessage;
      } catch {
        continue;
      }
      const waiter = message.id !== null && message.id !== undefined ? this.waiters.get(String(message.id)) : undefined;
      if (!waiter) {
        this.stray.push(message);
        continue;
      }
      waiter.messages.push(message);
      waiter.onMessage?.(message);
      if (FINAL_TYPES.has(message.type)) {
        this.waiters.delete(String(message.id));
        waiter.resolve(waiter.messages);
      }
    }
  }

  /** Send a command and resolve with every reply to it, the final one last. */
  request(command: Record<string, unknown>, onMessage?: (m: EcrMessage) => void): Promise<EcrMessage[]> {
    // Ids must not repeat across connections: the terminal answers a repeated id from its journal.
    const id = typeof command['id'] === 'string' ? command['id'] : `${this.idPrefix}-${++this.counter}`;
    if (this.socket.destroyed || !this.socket.writable) {
      return Promise.resolve([{ id, type: 'error', code: 'disconnected', message: 'connection closed' }]);
    }
    return new Promise((resolve) => {
      this.waiters.set(id, { messages: [], resolve, ...(onMessage ? { onMessage } : {}) });
      this.socket.write(`${JSON.stringify({ id, ...(this.token ? { token: this.token } : {}), ...command })}\n`);
    });
  }

  /** Send a raw line (tests of bad input). */
  sendRaw(line: string): void {
    this.socket.write(line);
  }

  /** The final reply of a command. */
  async call(command: Record<string, unknown>, onMessage?: (m: EcrMessage) => void): Promise<EcrMessage> {
    const messages = await this.request(command, onMessage);
    return messages[messages.length - 1]!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}
