/** A raw NDJSON line client for the ECR limit tests: writes anything, collects every reply line, notes the close. */
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

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async request(value: Json): Promise<Json> {
    await this.write(`${JSON.stringify(value)}\n`);
    return this.next();
  }

  async next(): Promise<Json> {
    await until(() => this.replies.length > this.read || this.closed, 'a reply');
    const reply = this.replies[this.read];
    if (!reply) throw new Error('connection closed before a reply');
    this.read++;
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}
