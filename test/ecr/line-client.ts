/** A raw NDJSON line client for the ECR server tests: writes anything, collects every reply line, notes the close. */
import net from 'node:net';
import { until } from '../support/wait.js';

export type Json = Record<string, unknown>;

export class LineClient {
  readonly replies: Json[] = [];
  private buffered = '';
  private read = 0;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffered += text;
      for (let nl = this.buffered.indexOf('\n'); nl !== -1; nl = this.buffered.indexOf('\n')) {
        this.replies.push(JSON.parse(this.buffered.slice(0, nl)) as Json);
        this.buffered = this.buffered.slice(nl + 1);
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  /** A TCP port on loopback, or any socket address (a Unix socket path). */
  static connect(target: number | net.NetConnectOpts): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(typeof target === 'number' ? { host: '127.0.0.1', port: target } : target);
      socket.once('connect', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async request(value: Json): Promise<Json> {
    await this.write(`${JSON.stringify(value)}\n`);
    return this.next();
  }

  /** The next reply not yet returned. */
  async next(): Promise<Json> {
    await until(() => this.replies.length > this.read || this.closed, 'a reply');
    const reply = this.replies[this.read];
    if (!reply) throw new Error('connection closed before a reply');
    this.read++;
    return reply;
  }

  /** Replies until (and including) the one of type `type`. */
  async until(type: string): Promise<Json[]> {
    const got: Json[] = [];
    for (;;) {
      const r = await this.next();
      got.push(r);
      if (r['type'] === type) return got;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
