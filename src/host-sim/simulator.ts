/**
 * Acquirer host simulator: a TCP (optionally TLS) ISO 8583 host that approves and declines by the deterministic
 * rules in rules.ts, acknowledges reversals and advices, detects duplicates, and misbehaves on request. It uses
 * the codec and the link framing, nothing of the terminal, so it stands in for a real host in every test.
 */
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock } from '../../hal/clock.js';
import { encodeFrame, FrameDecoder } from '../../hal/host-link/framing.js';
import { buildResponse, MTI, pack, responseMtiFor, unpack, type IsoMessage } from '../iso8583/index.js';
import { maskPan } from '../util/pan.js';
import { decideFinancial, type Misbehaviour } from './rules.js';

export interface GlobalBehaviour {
  /** Applied to every request (startup flags); 'none' lets the per-request amount rules decide. */
  misbehaviour: Misbehaviour;
  delayMs: number;
  lateMs: number;
}

export interface HostSimOptions {
  host?: string;
  /** 0 picks a free port (tests); read it back from start(). */
  port?: number;
  clock?: Clock;
  /** Append one JSON line per message received and sent. */
  ledgerPath?: string;
  /** Keep the ledger in memory too (for in-process tests); off for long soaks. */
  keepLedger?: boolean;
  /** How many processed requests are remembered to answer repeats (default 250,000); a soak keeps it small. */
  maxRemembered?: number;
  behaviour?: Partial<GlobalBehaviour>;
  maxFrameBytes?: number;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean };
}

export interface LedgerEntry {
  at: string;
  dir: 'in' | 'out';
  mti?: string;
  stan?: string;
  terminalId?: string;
  amount?: number;
  currency?: string;
  pan?: string; // masked
  responseCode?: string;
  duplicate?: boolean;
  note?: string;
}

export interface HostTotals {
  /** Financial requests approved, net of reversals. */
  approvedCount: number;
  approvedAmount: number;
  reversedCount: number;
  adviceCount: number;
  adviceAmount: number;
  duplicates: number;
}

type MessageClass = 'financial' | 'advice' | 'reversal' | 'network';

interface Processed {
  response: IsoMessage;
  amount: number;
  approved: boolean;
  reversed: boolean;
}

const RECORD_LIMIT = 250_000;

function classOf(mti: string): MessageClass | undefined {
  switch (mti) {
    case MTI.authRequest:
    case MTI.financialRequest:
      return 'financial';
    case MTI.advice:
    case MTI.adviceRepeat:
      return 'advice';
    case MTI.reversal:
    case MTI.reversalRepeat:
    case '0420':
    case '0421':
      return 'reversal';
    case MTI.networkRequest:
      return 'network';
    default:
      return undefined;
  }
}

function text(msg: IsoMessage, field: number): string | undefined {
  const value = msg.fields[field];
  return typeof value === 'string' ? value : undefined;
}

export class AcquirerHostSimulator {
  private readonly clock: Clock;
  private server: net.Server | undefined;
  private boundPort: number | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly processed = new Map<string, Processed>();
  private behaviour: GlobalBehaviour;
  private approvalCounter = 0;
  readonly ledger: LedgerEntry[] = [];
  private readonly totalsState: HostTotals = { approvedCount: 0, approvedAmount: 0, reversedCount: 0, adviceCount: 0, adviceAmount: 0, duplicates: 0 };

  constructor(private readonly options: HostSimOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.behaviour = { misbehaviour: 'none', delayMs: 3_000, lateMs: 35_000, ...options.behaviour };
  }

  /** Change how the host behaves for all traffic from now on. */
  setBehaviour(behaviour: Partial<GlobalBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  totals(): HostTotals {
    return { ...this.totalsState };
  }

  async start(): Promise<{ host: string; port: number }> {
    const onConnection = (socket: net.Socket) => this.accept(socket);
    const t = this.options.tls;
    this.server = t
      ? tls.createServer({ cert: t.cert, key: t.key, ca: t.ca, requestCert: t.requestCert ?? false, rejectUnauthorized: t.requestCert ?? false }, onConnection)
      : net.createServer(onConnection);
    const server = this.server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A restart comes back on the port it had, as a host back from an outage would.
      server.listen(this.boundPort ?? this.options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A client that fails the TLS handshake must not bring the simulator down.
    server.on('tlsClientError', () => {});
    const address = server.address() as net.AddressInfo;
    this.boundPort = address.port;
    return { host, port: address.port };
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drop every open connection (a host restart or a network cut as the terminal sees it). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.options.maxFrameBytes ?? 8192);
    socket.on('data', (chunk: Buffer) => {
      const result = decoder.push(chunk);
      for (const frame of result.frames) this.onFrame(socket, frame);
      if (!result.ok) {
        this.record({ dir: 'in', note: `frame of ${result.error.announced} bytes over the limit; connection closed` });
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
  }

  private onFrame(socket: net.Socket, frame: Buffer): void {
    let request: IsoMessage;
    try {
      request = unpack(frame);
    } catch (err) {
      this.record({ dir: 'in', note: `undecodable request (${(err as Error).message})` });
      return; // a real host drops what it cannot parse; the terminal's timeout takes over
    }
    const cls = classOf(request.mti);
    const stan = text(request, 11);
    const terminalId = text(request, 41)?.trim();
    const amount = text(request, 4) !== undefined ? Number(text(request, 4)) : undefined;
    const entry: Omit<LedgerEntry, 'at' | 'dir'> = {
      mti: request.mti,
      ...(stan !== undefined ? { stan } : {}),
      ...(terminalId !== undefined ? { terminalId } : {}),
      ...(amount !== undefined ? { amount } : {}),
      ...(text(request, 49) !== undefined ? { currency: text(request, 49)! } : {}),
      ...(text(request, 2) !== undefined ? { pan: maskPan(text(request, 2))! } : {}),
    };
    if (!cls || !responseMtiFor(request.mti)) {
      this.record({ dir: 'in', ...entry, note: 'unsupported message type' });
      return;
    }
    const key = `${terminalId ?? ''}/${stan ?? ''}/${cls}`;
    const earlier = this.processed.get(key);
    if (earlier) {
      // A repeat of something already processed gets the same answer and moves no money again.
      this.totalsState.duplicates += 1;
      this.record({ dir: 'in', ...entry, duplicate: true });
      this.reply(socket, earlier.response, this.behaviour.misbehaviour, entry, true);
      return;
    }
    this.record({ dir: 'in', ...entry });

    let misbehaviour: Misbehaviour = this.behaviour.misbehaviour;
    let response: IsoMessage;
    let approved = false;
    switch (cls) {
      case 'network':
        response = buildResponse(request, { responseCode: '00', transmittedAt: new Date(this.clock.now()) });
        break;
      case 'financial':
      case 'advice': {
        const decision = decideFinancial(text(request, 2), amount);
        // Magic amounts misbehave only on the first financial request, never on the reversal or advice that follows.
        if (cls === 'financial' && misbehaviour === 'none') misbehaviour = decision.misbehaviour;
        approved = decision.responseCode === '00';
        response = buildResponse(request, {
          responseCode: decision.responseCode,
          ...(approved ? { approvalCode: this.nextApprovalCode(), rrn: this.nextRrn() } : {}),
        });
        if (approved && cls === 'financial') {
          this.totalsState.approvedCount += 1;
          this.totalsState.approvedAmount += amount ?? 0;
        }
        if (approved && cls === 'advice') {
          this.totalsState.adviceCount += 1;
          this.totalsState.adviceAmount += amount ?? 0;
        }
        break;
      }
      case 'reversal': {
        const originalStan = text(request, 90)?.slice(4, 10) ?? stan ?? '';
        const original = this.processed.get(`${terminalId ?? ''}/${originalStan}/financial`);
        if (original && original.approved && !original.reversed) {
          original.reversed = true;
          this.totalsState.approvedCount -= 1;
          this.totalsState.approvedAmount -= original.amount;
          this.totalsState.reversedCount += 1;
        }
        // Acknowledge even when the original never arrived: the terminal only needs to know the host has it.
        response = buildResponse(request, { responseCode: '00' });
        break;
      }
    }
    this.remember(key, { response, amount: amount ?? 0, approved, reversed: false });
    this.reply(socket, response, misbehaviour, entry, false);
  }

  private remember(key: string, processed: Processed): void {
    this.processed.set(key, processed);
    if (this.processed.size > (this.options.maxRemembered ?? RECORD_LIMIT)) this.processed.delete(this.processed.keys().next().value as string);
  }

  private reply(socket: net.Socket, response: IsoMessage, misbehaviour: Misbehaviour, entry: Omit<LedgerEntry, 'at' | 'dir'>, duplicate: boolean): void {
    const out: Omit<LedgerEntry, 'at'> = {
      dir: 'out',
      mti: response.mti,
      ...(entry.stan !== undefined ? { stan: entry.stan } : {}),
      ...(entry.terminalId !== undefined ? { terminalId: entry.terminalId } : {}),
      ...(entry.amount !== undefined ? { amount: entry.amount } : {}),
      ...(entry.currency !== undefined ? { currency: entry.currency } : {}),
      responseCode: text(response, 39) ?? '',
      ...(duplicate ? { duplicate: true } : {}),
    };
    const send = (message: IsoMessage, note?: string) => {
      if (socket.destroyed) {
        this.record({ ...out, note: `${note ? `${note}; ` : ''}not sent: connection gone` });
        return;
      }
      // Ledger first: a reader who has the answer must find it in the ledger already.
      this.record(note ? { ...out, note } : out);
      socket.write(encodeFrame(pack(message)));
    };
    switch (misbehaviour) {
      case 'none':
        send(response);
        break;
      case 'delay':
        this.clock.setTimeout(() => send(response, `delayed ${this.behaviour.delayMs} ms`), this.behaviour.delayMs);
        break;
      case 'late':
        this.clock.setTimeout(() => send(response, `late by ${this.behaviour.lateMs} ms`), this.behaviour.lateMs);
        break;
      case 'silent':
        this.record({ ...out, note: 'withheld (silent)' });
        break;
      case 'close':
        this.record({ ...out, note: 'withheld (connection closed)' });
        socket.destroy();
        break;
      case 'garbled': {
        // Starts like a response but the bitmap announces fields whose bytes are not there.
        const garbage = Buffer.concat([Buffer.from(response.mti, 'ascii'), Buffer.from([0xff, 0xff, 0x00, 0x13, 0x37, 0xc0, 0xde, 0x42]), Buffer.from('GARBLED')]);
        this.record({ ...out, note: 'garbled bytes sent' });
        if (!socket.destroyed) socket.write(encodeFrame(garbage));
        break;
      }
      case 'twice':
        send(response);
        send(response, 'second copy');
        break;
      case 'wrong-stan': {
        const stan = String(((Number(text(response, 11) ?? '0') % 999_999) + 1)).padStart(6, '0');
        send({ mti: response.mti, fields: { ...response.fields, 11: stan } }, `wrong STAN ${stan}`);
        break;
      }
      case 'wrong-amount': {
        const amount = String(Number(text(response, 4) ?? '0') + 1).padStart(12, '0');
        send({ mti: response.mti, fields: { ...response.fields, 4: amount } }, `wrong amount ${Number(amount)}`);
        break;
      }
    }
  }

  private nextApprovalCode(): string {
    this.approvalCounter += 1;
    return `A${String(this.approvalCounter % 100_000).padStart(5, '0')}`;
  }

  private nextRrn(): string {
    return String(this.approvalCounter).padStart(12, '0');
  }

  private record(entry: Omit<LedgerEntry, 'at'>): void {
    const full: LedgerEntry = { at: new Date(this.clock.now()).toISOString(), ...entry };
    if (this.options.keepLedger ?? true) this.ledger.push(full);
    if (this.options.ledgerPath) appendFileSync(this.options.ledgerPath, `${JSON.stringify(full)}\n`);
  }
}
