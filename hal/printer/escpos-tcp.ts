/**
 * ESC/POS printer on the network: raw TCP, port 9100 by default (Epson TM-i/UB-E interfaces, Star in ESC/POS mode,
 * most Ethernet thermal printers). Status replies come back on the same connection. Such printers take one
 * connection at a time and many close one left idle, which the reconnect loop of the protocol layer turns into a
 * reopen; TCP keep-alive makes a printer that lost power (no FIN) count as gone instead of hanging forever.
 */
import { connect, type Socket } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { EscPosPrinter, type EscPosPrinterOptions } from './escpos-printer.js';
import type { PrinterTransport, TransportHandlers, TransportSession } from './transport.js';

export interface TcpTransportOptions {
  host: string;
  /** Default 9100. */
  port?: number;
  /** Bound on the TCP handshake. Default 3000 ms. */
  connectTimeoutMs?: number;
  /** Idle time before TCP keep-alive probes start. Default 5000 ms. */
  keepAliveMs?: number;
  clock?: Clock;
}

export class TcpTransport implements PrinterTransport {
  readonly description: string;
  private readonly port: number;

  constructor(private readonly options: TcpTransportOptions) {
    this.port = options.port ?? 9100;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new RangeError(`port must be an integer from 1 to 65535, got ${this.port}`);
    }
    this.description = `tcp ${options.host}:${this.port}`;
  }

  open(handlers: TransportHandlers): Promise<TransportSession> {
    const clock = this.options.clock ?? systemClock;
    const ms = this.options.connectTimeoutMs ?? 3000;
    return new Promise<TransportSession>((resolve, reject) => {
      const socket: Socket = connect({ host: this.options.host, port: this.port });
      let connected = false;
      let ended = false;
      const timer = clock.setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection in ${ms} ms`));
      }, ms);
      const end = (reason: string) => {
        if (ended) return;
        ended = true;
        socket.destroy();
        if (connected) handlers.lost(reason);
      };
      socket.once('error', (err) => {
        if (!connected) {
          timer.cancel();
          ended = true;
          reject(err);
        } else end(`connection error: ${err.message}`);
      });
      socket.on('close', () => end('connection closed'));
      socket.on('end', () => end('connection closed by the printer'));
      socket.on('data', (chunk: Buffer) => {
        if (!ended) handlers.data(chunk);
      });
      socket.once('connect', () => {
        timer.cancel();
        connected = true;
        socket.setNoDelay(true);
        socket.setKeepAlive(true, this.options.keepAliveMs ?? 5000);
        resolve({
          write: (bytes) =>
            new Promise<void>((res, rej) => {
              if (ended) return rej(new Error('connection closed'));
              socket.write(bytes, (err) => (err ? rej(err) : res()));
            }),
          close: async () => {
            ended = true;
            socket.destroy();
          },
        });
      });
    });
  }
}

export interface EscPosTcpPrinterOptions
  extends Omit<EscPosPrinterOptions, 'transport'>,
    Omit<TcpTransportOptions, 'clock'> {}

export class EscPosTcpPrinter extends EscPosPrinter {
  constructor(options: EscPosTcpPrinterOptions) {
    const { host, port, connectTimeoutMs, keepAliveMs, ...rest } = options;
    const transport = new TcpTransport({
      host,
      ...(port !== undefined ? { port } : {}),
      ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
      ...(keepAliveMs !== undefined ? { keepAliveMs } : {}),
      ...(rest.clock ? { clock: rest.clock } : {}),
    });
    super({ ...rest, transport });
  }
}
