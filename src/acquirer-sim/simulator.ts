/**
 * Acquirer host simulator: a TCP (optionally TLS) ISO 8583 host that approves and declines by the deterministic
 * rules in rules.ts, acknowledges reversals and advices, detects duplicates, and misbehaves on request. It uses
 * the codec and the link framing, nothing of the terminal, so it stands in for a real host in every test.
 *
 * As hard as a real host: it can be told to answer any field 39 code to any message type, for all traffic
 * (setBehaviour({ responseCodes })) or once (answerOnce), and it honours field 3: a refund credits, a void cancels
 * its original and is refused for an unknown or already voided one. Money moves only on an approved-class answer
 * (the same classes as the terminal's table), and a reversal or advice refused by an override moves none.
 */
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock } from '../../hal/clock.js';
import { encodeFrame, FrameDecoder } from '../../hal/acquirer-link/framing.js';
import {
  buildResponse,
  isApprovedClass,
  MTI,
  pack,
  responseMtiFor,
  unpack,
  type IsoMessage,
} from '../iso8583/index.js';
import { maskPan } from '../util/pan.js';
import { decideFinancial, type Misbehaviour } from './rules.js';

export interface GlobalBehaviour {
  /** Applied to every request (startup flags); 'none' lets the per-request amount rules decide. */
  misbehaviour: Misbehaviour;
  delayMs: number;
  lateMs: number;
  /** Field 39 to answer, by response MTI (0210, 0230, 0410, 0810...), for all traffic; unset = the rules decide. */
  responseCodes: Readonly<Record<string, string>>;
}

/** One answer to give once: to the next request answered with `mti` (and with that STAN, when given). */
export interface ResponseOverride {
  /** The response MTI (0210, 0230, 0410, 0810); a request MTI (0200, 0401...) names its response. */
  mti: string;
  responseCode: string;
  stan?: number;
  /** For a partial approval (10): the amount approved; default half the amount asked. */
  approvedAmount?: number;
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
  /** Field 3 of the request (answers carry it too). */
  processingCode?: string;
  /** On an answer: the amount that moved at the host because of it (0 when nothing moved). */
  movedAmount?: number;
  duplicate?: boolean;
  note?: string;
}

/** What the host approved (and took back) of one kind: count and amount in minor units. */
export interface KindTotal {
  count: number;
  amount: number;
}

export interface HostTotals {
  /** Financial requests approved, net of reversals. */
  approvedCount: number;
  approvedAmount: number;
  reversedCount: number;
  adviceCount: number;
  adviceAmount: number;
  duplicates: number;
  /** Approved sales (amount as approved: a partial counts what it approved). */
  sales: KindTotal;
  /** Approved refunds: money credited to the cardholder. */
  refunds: KindTotal;
  /** Approved voids, with the amount of the originals they cancelled. */
  voids: KindTotal;
  /** Acknowledged reversals that took money back, with that amount. */
  reversals: KindTotal;
  /** Approved advices (offline sales captured). */
  advices: KindTotal;
  /** Money owed to the merchant: sales + advices - refunds - voided - reversed. */
  netAmount: number;
}

/** What a processing code (field 3, first two digits) asks for. */
type FinancialKind = 'sale' | 'refund' | 'void';

function kindOf(processingCode: string | undefined): FinancialKind {
  const type = processingCode?.slice(0, 2);
  return type === '20' ? 'refund' : type === '02' ? 'void' : 'sale';
}

type MessageClass = 'financial' | 'advice' | 'reversal' | 'network';

interface Processed {
  response: IsoMessage;
  amount: number;
  approved: boolean;
  reversed: boolean;
  kind?: FinancialKind;
  /** What it added to the net (negative for a refund or a void); a reversal takes exactly this back. */
  net: number;
  moved: number;
  rrn?: string;
  voided?: boolean;
  /** A void: the key of the original it cancelled. */
  voidOf?: string;
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
  private readonly totalsState: HostTotals = {
    approvedCount: 0,
    approvedAmount: 0,
    reversedCount: 0,
    adviceCount: 0,
    adviceAmount: 0,
    duplicates: 0,
    sales: { count: 0, amount: 0 },
    refunds: { count: 0, amount: 0 },
    voids: { count: 0, amount: 0 },
    reversals: { count: 0, amount: 0 },
    advices: { count: 0, amount: 0 },
    netAmount: 0,
  };
  private readonly overrides: ResponseOverride[] = [];
  /** terminal id/RRN → key of the financial request that got it, so a void can name its original by RRN. */
  private readonly byRrn = new Map<string, string>();

  constructor(private readonly options: HostSimOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.behaviour = { misbehaviour: 'none', delayMs: 3_000, lateMs: 35_000, responseCodes: {}, ...options.behaviour };
  }

  /** Change how the host behaves for all traffic from now on. */
  setBehaviour(behaviour: Partial<GlobalBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  /** Answer the next request of that MTI (and STAN) with this code, once; overrides queue in order. */
  answerOnce(override: ResponseOverride): void {
    this.overrides.push({ ...override, mti: responseMtiFor(override.mti) ?? override.mti });
  }

  /** Drops every override not yet used. */
  clearOverrides(): void {
    this.overrides.length = 0;
  }

  totals(): HostTotals {
    const t = this.totalsState;
    return {
      ...t,
      sales: { ...t.sales },
      refunds: { ...t.refunds },
      voids: { ...t.voids },
      reversals: { ...t.reversals },
      advices: { ...t.advices },
    };
  }

  /** The code told for this answer, if any: a once-override first (consumed), then the all-traffic one. */
  private toldCode(responseMti: string, stan: string | undefined): ResponseOverride | undefined {
    const at = this.overrides.findIndex(
      (o) => o.mti === responseMti && (o.stan === undefined || Number(stan) === o.stan),
    );
    if (at >= 0) return this.overrides.splice(at, 1)[0];
    const code = this.behaviour.responseCodes[responseMti];
    return code === undefined ? undefined : { mti: responseMti, responseCode: code };
  }

  async start(): Promise<{ host: string; port: number }> {
    const onConnection = (socket: net.Socket) => this.accept(socket);
    const t = this.options.tls;
    this.server = t
      ? tls.createServer(
          {
            cert: t.cert,
            key: t.key,
            ca: t.ca,
            requestCert: t.requestCert ?? false,
            rejectUnauthorized: t.requestCert ?? false,
          },
          onConnection,
        )
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
      ...(text(request, 3) !== undefined ? { processingCode: text(request, 3)! } : {}),
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
    const told = this.toldCode(responseMtiFor(request.mti)!, stan);
    let processed: Processed;
    switch (cls) {
      case 'network': {
        const response = buildResponse(request, {
          responseCode: told?.responseCode ?? '00',
          transmittedAt: new Date(this.clock.now()),
        });
        // An echo (301), sign-on or key change is named in field 70: the answer says which one it answers.
        if (text(request, 70) !== undefined) response.fields[70] = text(request, 70)!;
        processed = { response, amount: 0, approved: false, reversed: false, net: 0, moved: 0 };
        break;
      }
      case 'financial':
      case 'advice': {
        const decision = decideFinancial(text(request, 2), amount);
        // Magic amounts misbehave only on the first financial request, never on the reversal or advice that follows.
        if (cls === 'financial' && misbehaviour === 'none') misbehaviour = decision.misbehaviour;
        processed =
          cls === 'financial'
            ? this.financial(
                request,
                terminalId ?? '',
                amount ?? 0,
                told ?? { mti: '', responseCode: decision.responseCode },
              )
            : this.advice(request, terminalId ?? '', amount ?? 0, told?.responseCode ?? decision.responseCode);
        break;
      }
      case 'reversal':
        processed = this.reversal(request, terminalId ?? '', stan, told?.responseCode ?? '00');
        break;
    }
    // A reversal or advice the host refused was not taken: its repeat is processed anew, as a real host would.
    if (cls === 'financial' || cls === 'network' || isApprovedClass(text(processed.response, 39) ?? ''))
      this.remember(key, processed);
    this.reply(socket, processed.response, misbehaviour, entry, false, processed.moved);
  }

  /** A 0200/0100 by field 3: a sale or refund moves its (approved) amount, a void cancels its original. */
  private financial(request: IsoMessage, terminalId: string, amount: number, told: ResponseOverride): Processed {
    const kind = kindOf(text(request, 3));
    let responseCode = told.responseCode;
    let original: Processed | undefined;
    let originalKey: string | undefined;
    if (kind === 'void') {
      originalKey = this.originalOf(request, terminalId);
      original = originalKey !== undefined ? this.processed.get(originalKey) : undefined;
      // Unknown original: 25 (no record); one already voided or reversed: 12 (invalid transaction). Never twice.
      if (!original?.approved || original.kind === 'void') responseCode = '25';
      else if (original.voided || original.reversed) responseCode = '12';
    }
    const approved = isApprovedClass(responseCode);
    const partial = approved && responseCode === '10' && kind !== 'void';
    const moved = !approved
      ? 0
      : kind === 'void'
        ? original!.moved
        : partial
          ? Math.min(amount, told.approvedAmount ?? Math.max(1, Math.floor(amount / 2)))
          : amount;
    const approvalCode = approved ? this.nextApprovalCode() : undefined;
    const rrn = approved ? this.nextRrn() : undefined;
    const response = buildResponse(request, {
      responseCode,
      ...(approved ? { approvalCode: approvalCode!, rrn: rrn! } : {}),
    });
    // A partial approval says what it approved in field 4.
    if (partial) response.fields[4] = String(moved).padStart(12, '0');
    const net = !approved ? 0 : kind === 'sale' ? moved : -moved;
    if (approved) {
      this.totalsState.approvedCount += 1;
      this.totalsState.approvedAmount += moved;
      const bucket =
        kind === 'sale'
          ? this.totalsState.sales
          : kind === 'refund'
            ? this.totalsState.refunds
            : this.totalsState.voids;
      bucket.count += 1;
      bucket.amount += moved;
      this.totalsState.netAmount += net;
      if (original) original.voided = true;
      this.byRrn.set(`${terminalId}/${rrn}`, `${terminalId}/${text(request, 11) ?? ''}/financial`);
    }
    return {
      response,
      amount,
      approved,
      reversed: false,
      kind,
      net,
      moved,
      ...(rrn ? { rrn } : {}),
      ...(original && approved ? { voidOf: originalKey! } : {}),
    };
  }

  /**
   * The original a void names: by STAN in private field 62, by RRN in field 37, or by field 90's STAN. An offline
   * sale reached the host as an advice (0220), so its advice is the original then.
   */
  private originalOf(request: IsoMessage, terminalId: string): string | undefined {
    const byStan = (text(request, 62) ?? text(request, 90)?.slice(4, 10))?.padStart(6, '0');
    for (const cls of ['financial', 'advice'] as const) {
      if (byStan !== undefined && this.processed.has(`${terminalId}/${byStan}/${cls}`))
        return `${terminalId}/${byStan}/${cls}`;
    }
    const rrn = text(request, 37)?.trim();
    return rrn
      ? (this.byRrn.get(`${terminalId}/${rrn.padStart(12, '0')}`) ?? this.byRrn.get(`${terminalId}/${rrn}`))
      : undefined;
  }

  private advice(request: IsoMessage, terminalId: string, amount: number, responseCode: string): Processed {
    const approved = isApprovedClass(responseCode);
    const approvalCode = approved ? this.nextApprovalCode() : undefined;
    const rrn = approved ? this.nextRrn() : undefined;
    const response = buildResponse(request, {
      responseCode,
      ...(approved ? { approvalCode: approvalCode!, rrn: rrn! } : {}),
    });
    if (approved) {
      this.byRrn.set(`${terminalId}/${rrn}`, `${terminalId}/${text(request, 11) ?? ''}/advice`);
      this.totalsState.adviceCount += 1;
      this.totalsState.adviceAmount += amount;
      this.totalsState.advices.count += 1;
      this.totalsState.advices.amount += amount;
      this.totalsState.netAmount += amount;
    }
    return {
      response,
      amount,
      approved,
      reversed: false,
      kind: kindOf(text(request, 3)),
      net: approved ? amount : 0,
      moved: approved ? amount : 0,
      ...(rrn ? { rrn } : {}),
    };
  }

  /** Takes back what the original moved, once, and only when the answer is a success. */
  private reversal(request: IsoMessage, terminalId: string, stan: string | undefined, responseCode: string): Processed {
    const originalStan = text(request, 90)?.slice(4, 10) ?? stan ?? '';
    const original = this.processed.get(`${terminalId}/${originalStan}/financial`);
    const acknowledged = isApprovedClass(responseCode);
    let moved = 0;
    if (acknowledged && original?.approved && !original.reversed) {
      original.reversed = true;
      moved = original.moved;
      this.totalsState.approvedCount -= 1;
      this.totalsState.approvedAmount -= original.moved;
      this.totalsState.reversedCount += 1;
      this.totalsState.reversals.count += 1;
      this.totalsState.reversals.amount += original.moved;
      this.totalsState.netAmount -= original.net;
      // A reversed void gives its original back.
      if (original.voidOf) {
        const voided = this.processed.get(original.voidOf);
        if (voided) voided.voided = false;
      }
    }
    // Acknowledged even when the original never arrived: the terminal only needs to know the host has it.
    return {
      response: buildResponse(request, { responseCode }),
      amount: 0,
      approved: acknowledged,
      reversed: false,
      net: 0,
      moved,
    };
  }

  private remember(key: string, processed: Processed): void {
    this.processed.set(key, processed);
    if (this.processed.size > (this.options.maxRemembered ?? RECORD_LIMIT))
      this.processed.delete(this.processed.keys().next().value as string);
  }

  private reply(
    socket: net.Socket,
    response: IsoMessage,
    misbehaviour: Misbehaviour,
    entry: Omit<LedgerEntry, 'at' | 'dir'>,
    duplicate: boolean,
    movedAmount = 0,
  ): void {
    const out: Omit<LedgerEntry, 'at'> = {
      dir: 'out',
      mti: response.mti,
      ...(entry.stan !== undefined ? { stan: entry.stan } : {}),
      ...(entry.terminalId !== undefined ? { terminalId: entry.terminalId } : {}),
      ...(entry.amount !== undefined ? { amount: entry.amount } : {}),
      ...(entry.currency !== undefined ? { currency: entry.currency } : {}),
      responseCode: text(response, 39) ?? '',
      ...(entry.processingCode !== undefined ? { processingCode: entry.processingCode } : {}),
      ...(entry.mti !== MTI.networkRequest ? { movedAmount: duplicate ? 0 : movedAmount } : {}),
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
        const garbage = Buffer.concat([
          Buffer.from(response.mti, 'ascii'),
          Buffer.from([0xff, 0xff, 0x00, 0x13, 0x37, 0xc0, 0xde, 0x42]),
          Buffer.from('GARBLED'),
        ]);
        this.record({ ...out, note: 'garbled bytes sent' });
        if (!socket.destroyed) socket.write(encodeFrame(garbage));
        break;
      }
      case 'twice':
        send(response);
        send(response, 'second copy');
        break;
      case 'wrong-stan': {
        const stan = String((Number(text(response, 11) ?? '0') % 999_999) + 1).padStart(6, '0');
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
