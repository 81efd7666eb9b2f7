/**
 * Acquirer host simulator: a TCP (optionally TLS) ISO 8583 host that approves and declines by the deterministic
 * rules in rules.ts, acknowledges reversals and advices, detects duplicates, and misbehaves on request. It uses
 * the codec and the link framing, nothing of the terminal, so it stands in for a real host in every test.
 *
 * As hard as a real host: it can be told to answer any field 39 code to any message type, for all traffic
 * (setBehaviour({ responseCodes })) or once (answerOnce), and it honours field 3: a refund credits, a void cancels
 * its original and is refused for an unknown or already voided one. Money moves only on an approved-class answer
 * (the same classes as the terminal's table), and a reversal or advice refused by an override moves none.
 *
 * Here: the server, its connections and the dispatch of each request; the money is kept in books.ts, the
 * ledger in ledger.ts, and how an answer leaves (or misbehaves) in answering.ts.
 */
import net from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock } from '../../hal/clock.js';
import { FrameDecoder } from '../../hal/acquirer-link/framing.js';
import {
  buildResponse,
  isApprovedClass,
  isSignOn,
  KEY_BLOCK_FIELD,
  responseMtiFor,
  unpack,
  type IsoMessage,
} from '../iso8583/index.js';
import { sendAnswer } from './answering.js';
import { HostBatchBooks, type SettlementBehaviour, type SettlementRecord } from './batch-books.js';
import { HostBooks, type Processed } from './books.js';
import { HostHolds, holdMessageOf } from './holds.js';
import { HostKeys, isMacedClass, type MacFault } from './host-keys.js';
import { type Verdict, verifyRequest } from './issuer-checks.js';
import { answerEntry, HostLedger, type LedgerFacts, requestFacts } from './ledger.js';
import { classOf, text } from './messages.js';
import { PinBooks } from './pin-check.js';
import { decideFinancial, type Misbehaviour } from './rules.js';
import type { HoldTotals } from './holds.js';
import type {
  GlobalBehaviour,
  HostSimOptions,
  HostTotals,
  LedgerEntry,
  MacFaultOnce,
  ResponseOverride,
} from './types.js';

export type { HoldTotals } from './holds.js';
export type {
  GlobalBehaviour,
  HostSimOptions,
  HostTotals,
  KindTotal,
  LedgerEntry,
  MacFaultOnce,
  ResponseOverride,
} from './types.js';
export { MAC_FAULTS, type MacFault } from './host-keys.js';
export type { SettlementBehaviour, SettlementRecord } from './batch-books.js';
export { DEFAULT_TEST_PIN, PIN_TRY_LIMIT, TEST_BDK_HEX } from './pin-check.js';

/** Field 39 to a request whose MAC fails, and to a sign-on from a terminal without a master key. */
const SECURITY_VIOLATION = '63';

export class AcquirerHostSimulator {
  private readonly clock: Clock;
  private server: net.Server | undefined;
  private boundPort: number | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly books: HostBooks;
  /** The batch per terminal, its settlement and upload (batch-books.ts). */
  private readonly batches = new HostBatchBooks();
  private readonly ledgerBook: HostLedger;
  private behaviour: GlobalBehaviour;
  readonly ledger: LedgerEntry[];
  private readonly overrides: ResponseOverride[] = [];
  private readonly macFaults: MacFaultOnce[] = [];
  private readonly keys: HostKeys;
  private readonly pins: PinBooks;
  private readonly holds = new HostHolds();

  constructor(private readonly options: HostSimOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.behaviour = {
      misbehaviour: 'none',
      delayMs: 3_000,
      lateMs: 35_000,
      responseCodes: {},
      macFault: 'none',
      ...options.behaviour,
    };
    this.keys = new HostKeys(options.masterKeys);
    this.pins = new PinBooks(options.bdk, options.pins);
    this.books = new HostBooks(options.maxRemembered);
    this.ledgerBook = new HostLedger(this.clock, options);
    this.ledger = this.ledgerBook.entries;
  }

  /** Change how the host behaves for all traffic from now on. */
  setBehaviour(behaviour: Partial<GlobalBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  /** Answer the next request of that MTI (and STAN) with this code, once; overrides queue in order. */
  answerOnce(override: ResponseOverride): void {
    this.overrides.push({ ...override, mti: responseMtiFor(override.mti) ?? override.mti });
  }

  /** Get the MAC wrong once: on the next answer of that MTI (a request MTI names its answer) and STAN. */
  macFaultOnce(told: MacFaultOnce): void {
    this.macFaults.push({ ...told, mti: responseMtiFor(told.mti) ?? told.mti });
  }

  /** Loads (or replaces) a terminal's master key; its session key is gone until it signs on again. */
  setMasterKey(terminalId: string, key: Uint8Array): void {
    this.keys.setMasterKey(terminalId, key);
  }

  /** Sets a card's PIN in the books (4 to 12 digits); its wrong-PIN count starts again. */
  setPin(pan: string, pin: string): void {
    this.pins.setPin(pan, pin);
  }

  /** Unblocks a card whose PIN tries are exhausted (answered 75 until then). */
  resetPinTries(pan: string): void {
    this.pins.resetTries(pan);
  }

  /** Drops every override not yet used. */
  clearOverrides(): void {
    this.overrides.length = 0;
    this.macFaults.length = 0;
  }

  /** The MAC fault for this answer: a once-fault first (consumed), then the all-traffic one. */
  private toldMacFault(responseMti: string, stan: string | undefined): MacFault {
    const at = this.macFaults.findIndex(
      (o) => o.mti === responseMti && (o.stan === undefined || Number(stan) === o.stan),
    );
    if (at >= 0) return this.macFaults.splice(at, 1)[0]!.fault;
    return this.behaviour.macFault;
  }

  totals(): HostTotals {
    return this.books.totals();
  }

  /** How the host settles: `disagree` once (an upload then resolves it) or always (it never agrees). */
  setSettlementBehaviour(behaviour: Partial<SettlementBehaviour>): void {
    this.batches.setBehaviour(behaviour);
  }

  /** Forget the next `count` approved sales from the batch totals; a batch upload restores them. */
  loseNextApproved(count = 1): void {
    this.batches.loseNextApproved(count);
  }

  /** Forget one approved STAN of a terminal's batch from its totals; false when it is not in the batch. */
  loseApproved(terminalId: string, stan: number): boolean {
    return this.batches.lose(terminalId, stan);
  }

  /** The host's own totals of a terminal's open batch, per currency (fields 74-77, 86-89). */
  batchTotals(terminalId: string): Map<string, import('../iso8583/index.js').ReconciliationTotals> {
    return this.batches.totals(terminalId);
  }

  /** The terminals the host keeps a batch for, and how many approved STANs of a batch it forgot (told to lose). */
  batchTerminals(): string[] {
    return this.batches.terminalIds();
  }

  batchLost(terminalId: string): number {
    return this.batches.lostCount(terminalId);
  }

  /** Each settlement request answered, in order. */
  get settlements(): readonly SettlementRecord[] {
    return this.batches.settlements;
  }

  /** Batch upload messages taken (not answered from memory) for a terminal since its last settlement. */
  batchUploads(terminalId: string): number {
    return this.batches.uploads(terminalId);
  }

  /** The holds of pre-authorizations: open, captured, released, and tip adjustments. */
  holdTotals(): HoldTotals {
    return this.holds.totals();
  }

  /** What the 0100 of this terminal and STAN holds now (0 once captured or released). */
  heldOf(terminalId: string, stan: number): number {
    return this.holds.heldOf(terminalId, stan);
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
    const entry = requestFacts(request);
    const { stan, terminalId, amount } = entry;
    if (!cls || !responseMtiFor(request.mti)) {
      this.record({ dir: 'in', ...entry, note: 'unsupported message type' });
      return;
    }
    const tid = terminalId ?? '';
    const keyed = this.keys.knows(tid);
    const macRelevant = keyed && (isMacedClass(cls) || isSignOn(request));
    const macFault = macRelevant ? this.toldMacFault(responseMtiFor(request.mti)!, stan) : 'none';
    const seal = keyed && isMacedClass(cls) ? (m: IsoMessage) => this.keys.macAnswer(tid, m, macFault) : undefined;
    if (keyed && isMacedClass(cls)) {
      const why = this.keys.verify(tid, request);
      if (why !== undefined) {
        // Not taken: nothing is booked, nothing remembered; the answer says the MAC was refused.
        this.record({ dir: 'in', ...entry, note: `MAC refused: ${why}` });
        const refused = buildResponse(request, {
          responseCode: SECURITY_VIOLATION,
          transmittedAt: new Date(this.clock.now()),
        });
        this.reply(socket, refused, 'none', entry, false, 0, seal);
        return;
      }
    }
    const key = `${tid}/${stan ?? ''}/${cls}`;
    const earlier = cls === 'network' && isSignOn(request) ? undefined : this.books.earlier(key);
    if (earlier) {
      // A repeat of something already processed gets the same answer and moves no money again.
      this.books.countDuplicate();
      this.record({ dir: 'in', ...entry, duplicate: true });
      this.reply(socket, earlier.response, this.behaviour.misbehaviour, entry, true, 0, seal);
      return;
    }
    this.record({ dir: 'in', ...entry });

    let misbehaviour: Misbehaviour = this.behaviour.misbehaviour;
    const told = this.toldCode(responseMtiFor(request.mti)!, stan);
    let processed: Processed;
    let verdict: Verdict | undefined;
    const hospitality = holdMessageOf(request);
    let held: number | undefined;
    if (hospitality) {
      // A hold is decided as a sale is (the card's checks, then the rules); the rest by what they name.
      const decision = decideFinancial(text(request, 2), amount);
      if (hospitality === 'hold') {
        if (misbehaviour === 'none') misbehaviour = decision.misbehaviour;
        verdict = verifyRequest(request, 'financial', this.pins);
      }
      const decided =
        verdict?.declineCode ?? told?.responseCode ?? (hospitality === 'hold' ? decision.responseCode : '00');
      const answer = this.holds.answer(hospitality, request, tid, amount ?? 0, decided, (k) => this.books.earlier(k), {
        approvalCode: () => this.books.nextApprovalCode(),
        rrn: () => this.books.nextRrn(),
      });
      if (answer.moved > 0) this.books.moveCaptured(answer.moved);
      verdict?.complete(answer.response);
      held = answer.held;
      processed = answer;
    } else
      switch (cls) {
        case 'network':
          processed = this.books.network(request, told?.responseCode ?? '00', new Date(this.clock.now()));
          if (isSignOn(request)) this.answerSignOn(tid, processed.response, macFault);
          break;
        case 'financial':
        case 'advice': {
          const decision = decideFinancial(text(request, 2), amount);
          // Magic amounts misbehave only on the first financial request, never on the reversal or advice that follows.
          if (cls === 'financial' && misbehaviour === 'none') misbehaviour = decision.misbehaviour;
          // The card's cryptogram and the PIN are checked first: what they decline no rule or told code approves.
          verdict = verifyRequest(request, cls, this.pins);
          const base = told ?? { mti: '', responseCode: decision.responseCode };
          processed =
            cls === 'financial'
              ? this.books.financial(
                  request,
                  terminalId ?? '',
                  amount ?? 0,
                  verdict.declineCode !== undefined ? { mti: base.mti, responseCode: verdict.declineCode } : base,
                )
              : this.books.advice(request, terminalId ?? '', amount ?? 0, told?.responseCode ?? decision.responseCode);
          verdict.complete(processed.response);
          break;
        }
        case 'reversal':
          processed = this.books.reversal(request, terminalId ?? '', stan, told?.responseCode ?? '00');
          if (processed.moved > 0) {
            const originalStan = text(request, 90)?.slice(4, 10) ?? stan ?? '';
            this.batches.reversed(tid, originalStan);
            this.holds.reopenCompleted(tid, originalStan);
          }
          break;
        case 'settlement':
        case 'upload': {
          const answer = cls === 'settlement' ? this.batches.settle(tid, request) : this.batches.upload(tid, request);
          if (told) answer.fields[39] = told.responseCode;
          processed = { response: answer, amount: 0, approved: false, reversed: false, net: 0, moved: 0 };
          break;
        }
      }
    if (
      !hospitality &&
      (cls === 'financial' || cls === 'advice') &&
      isApprovedClass(text(processed.response, 39) ?? '')
    ) {
      const voided = processed.voidOf !== undefined ? this.books.earlier(processed.voidOf) : undefined;
      this.batches.approved(tid, request, processed, voided);
    }
    // A completion or a tip adjust captured money: it joins the batch as a sale does; a hold moves nothing.
    if (hospitality && processed.moved > 0)
      this.batches.approved(tid, request, { ...processed, kind: 'sale' }, undefined);
    // A reversal or advice the host refused was not taken: its repeat is processed anew, as a real host would.
    // A sign-on is never answered from memory: each one hands out a fresh key.
    // A settlement request is answered anew each time (the batch may have changed); an upload is remembered.
    const remembered =
      cls !== 'settlement' &&
      (cls === 'financial' || cls === 'network' || isApprovedClass(text(processed.response, 39) ?? ''));
    if (remembered && !isSignOn(request)) this.books.remember(key, processed);
    const facts = {
      ...(verdict ? { ...entry, ...verdict.facts } : entry),
      ...(held !== undefined ? { heldAmount: held } : {}),
    };
    this.reply(socket, processed.response, misbehaviour, facts, false, processed.moved, seal);
  }

  /** A sign-on: a fresh session key under the terminal's master key in field 48, or 63 without a master key. */
  private answerSignOn(terminalId: string, response: IsoMessage, fault: MacFault): void {
    if (!isApprovedClass(text(response, 39) ?? '')) return;
    const block = this.keys.signOn(terminalId, fault);
    if (block === undefined) response.fields[39] = SECURITY_VIOLATION;
    else response.fields[KEY_BLOCK_FIELD] = block;
  }

  private reply(
    socket: net.Socket,
    response: IsoMessage,
    misbehaviour: Misbehaviour,
    entry: LedgerFacts,
    duplicate: boolean,
    movedAmount = 0,
    seal?: (message: IsoMessage) => IsoMessage,
  ): void {
    sendAnswer(
      {
        socket,
        clock: this.clock,
        behaviour: () => this.behaviour,
        record: (e) => this.record(e),
        ...(seal ? { seal } : {}),
      },
      response,
      misbehaviour,
      answerEntry(response, entry, duplicate, movedAmount),
    );
  }

  private record(entry: Omit<LedgerEntry, 'at'>): void {
    this.ledgerBook.record(entry);
  }
}
