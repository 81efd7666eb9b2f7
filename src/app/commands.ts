/**
 * The command service: the one way a front end (the ECR API, the console, fleet commands over MQTT) asks the terminal
 * to do something. It answers a repeated request from the journal (never a second charge), checks supervisor rights
 * and turns every refusal into one typed failure. A front end only translates its wire format into a CommandRequest
 * and the CommandResult back.
 */
import type { Clock } from '../../hal/clock.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { anomalyByCode, anomalyByName, isAnomalyName } from '../anomaly/index.js';
import type { PosConfig } from '../config/index.js';
import { describeResponseCode, responseClass } from '../iso8583/index.js';
import type { Journal, TransactionRow } from '../journal/index.js';
import type { RiskControls } from '../risk/controls.js';
import type { SettlementService } from '../settlement/settle.js';
import { verifyPin } from '../security/pin.js';
import { DEFAULT_PREAUTH_SETTINGS, type PreauthSettings, type TransactionListener } from '../terminal/effects/index.js';
import type { RegisterOutput } from '../terminal/register-output.js';
import { checkHealth, type HealthCheckDeps } from '../selftest/health-levels.js';
import { TerminalError, type Terminal } from '../terminal/terminal.js';
import type { TransactionOutput } from '../transaction/types.js';
import type { TransactionKind, TransactionOutcome } from '../vocabulary/index.js';
import {
  type HospitalityCommand,
  hospitalityRequest,
  isHospitality,
  sameHospitalityRequest,
} from './preauth-commands.js';

/** How long a request id identifies the same transaction for a retrying register. */
const REPEAT_WINDOW_MS = 15 * 60_000;

export * from './command-types.js';
import type {
  CommandErrorCode,
  CommandFailure,
  CommandRequest,
  CommandResult,
  Rights,
  TransactionAnswer,
} from './command-types.js';

type TransactionCommand = Extract<CommandRequest, { kind: TransactionKind }>;
type AnyTransactionCommand = TransactionCommand | HospitalityCommand;

/** Who asks, and how a transaction it starts keeps it informed. */
export interface Caller {
  /** For the journal: an ECR client id, "console", the fleet. */
  client: string;
  /** Who wrong supervisor PINs are counted against (a register's token or address); default `client`. */
  principal?: string;
  /** The transaction was taken (journaled and running): a register acknowledges now, before any progress. */
  accepted?: () => void;
  /** Progress of the transaction: states, screens, a partial approval to decide. */
  progress?: TransactionListener;
}

export interface CommandServiceDeps {
  clock: Clock;
  terminal: Terminal;
  journal: Journal;
  anomalies: AnomalyRecorder;
  /** Counts wrong supervisor PINs; absent, the configured PIN hash is checked alone. */
  risk?: RiskControls;
  config: Pick<PosConfig, 'supervisor'>;
  /** The register's text and documents on the display and printer. */
  registerOutput: RegisterOutput;
  /** The register clients locked out (the ECR's lockouts, once it listens): a supervisor unlock lets them in again. */
  clientLockouts?: () => { list(): unknown[]; clear(): void } | undefined;
  /** The nexo endpoint when it listens: its port and the certificate fingerprint a client pins, shown in status. */
  nexo?: () => { port: number; fingerprint: string } | undefined;
  /** End of day; while it runs new transactions are refused 'busy'. */
  settlement?: Pick<SettlementService, 'settle' | 'running'> & Partial<Pick<SettlementService, 'awaitingAnswer'>>;
  /** External and interactive health checks (selftest with a level): the reader exercised, the operator's answers. */
  health?: Pick<HealthCheckDeps, 'reader' | 'confirmations' | 'terminalId' | 'answerTimeoutMs'>;
  /** Pre-authorization settings (completion tolerance); absent: the defaults. */
  preauth?: PreauthSettings;
}

/** How each refusal of the terminal reads to a front end. */
const TERMINAL_REFUSALS = {
  busy: 'busy',
  'no-transaction': 'no-transaction',
  'not-found': 'not-found',
  'printer-fault': 'device-fault',
  'display-fault': 'device-fault',
  locked: 'not-allowed',
  'not-ready': 'not-allowed',
} as const satisfies Record<TerminalError['code'], CommandErrorCode>;

export class CommandService {
  constructor(private readonly deps: CommandServiceDeps) {}

  /** The terminal's operation state now (ready, transacting, locked...). */
  state(): string {
    return this.deps.terminal.status().state;
  }

  /** Runs one command; a refusal is a CommandFailure, anything else unexpected is thrown. */
  async run<R extends CommandRequest>(request: R, caller: Caller): Promise<CommandResult<R['kind']>> {
    try {
      return (await this.dispatch(request, caller)) as CommandResult<R['kind']>;
    } catch (err) {
      if (!(err instanceof TerminalError)) throw err;
      if (err.code === 'busy')
        this.deps.anomalies.raise('busy', { reason: `${request.kind} refused: ${err.message}` }, { show: false });
      return { ok: false, error: TERMINAL_REFUSALS[err.code], message: err.message };
    }
  }

  private async dispatch(request: CommandRequest, caller: Caller): Promise<CommandResult> {
    const { terminal } = this.deps;
    switch (request.kind) {
      case 'sale':
      case 'refund':
      case 'void':
      case 'preauth':
      case 'preauth.increment':
      case 'preauth.complete':
      case 'preauth.cancel':
      case 'tipAdjust':
        return this.transact(request, caller);
      case 'cancel':
        terminal.cancel('ecr');
        return done({});
      case 'confirm':
        terminal.confirm('ecr');
        return done({});
      case 'status': {
        const nexo = this.deps.nexo?.();
        return done({ ...terminal.status(), journal: this.deps.journal.counts(), ...(nexo ? { nexo } : {}) });
      }
      case 'reprint': {
        const row = await terminal.reprint(request.stan);
        return done({ stan: row.stan, receipt: row.receiptStatus });
      }
      case 'slip': {
        const row = await terminal.printAnomalySlip(request.code);
        return done({ code: row.code, anomalyId: row.id });
      }
      case 'drawer.open':
        await this.deps.registerOutput.openDrawer(caller.client);
        return done({});
      case 'unlock':
        return this.unlock(request.rights, caller);
      case 'selftest': {
        const level = request.level ?? 'internal';
        if (level === 'internal') {
          const report = await terminal.selfTest();
          return done({ ...report, state: terminal.status().state });
        }
        const { health, registerOutput, clock } = this.deps;
        if (!health) return refuse('not-allowed', 'external health checks are not available on this terminal');
        if (terminal.status().state === 'transacting') return refuse('busy', 'a transaction is in progress');
        const report = await checkHealth(level, {
          ...health,
          clock,
          selfTest: () => terminal.selfTest(),
          print: (doc) => registerOutput.print(doc),
          show: (screen) => registerOutput.show({ title: screen.title, lines: screen.lines }),
        });
        return done({
          ...report.internal,
          state: terminal.status().state,
          level,
          status: report.status,
          checks: report.checks,
        });
      }
      case 'selftest.answer': {
        if (!this.deps.health?.confirmations.answer(request.answer))
          return refuse('not-found', 'no health check is waiting for an answer');
        return done({});
      }
      case 'display': {
        const { kind: _, ...text } = request;
        await this.deps.registerOutput.show(text);
        return done({});
      }
      case 'print':
        return done(await this.deps.registerOutput.print(request.document));
      case 'settle': {
        if (!this.deps.settlement) return refuse('not-allowed', 'settlement is not available on this terminal');
        if (terminal.status().state === 'transacting') return refuse('busy', 'a transaction is in progress');
        const outcome = await this.deps.settlement.settle();
        return outcome.ok ? done(outcome.value) : refuse(outcome.error, outcome.message);
      }
    }
  }

  private async transact(request: AnyTransactionCommand, caller: Caller): Promise<CommandResult> {
    const { terminal } = this.deps;
    // A front end that retries a request (same id) is answered from the journal: never a second charge.
    const repeat = this.answerRepeat(request);
    if (repeat) return repeat;
    // The batch's totals are being sent: a new sale would join a batch whose totals are already on their way.
    if (this.deps.settlement?.running()) return refuse('busy', 'the batch is being settled; try again when it is done');
    // A 0500 without an answer may have closed the batch at the host: a sale now would join a batch already closed.
    if (this.deps.settlement?.awaitingAnswer?.())
      return refuse('busy', 'the last settlement request got no answer: settle again before a new transaction');
    // A periodic self-test takes milliseconds: a sale arriving meanwhile waits for it rather than being refused.
    await terminal.settled();
    if (isHospitality(request)) {
      // Checked against the journal before anything is journaled: bad references are typed refusals.
      const ids = request.requestId !== undefined ? { ecrRequestId: request.requestId } : {};
      const checked = hospitalityRequest(
        request,
        this.deps.journal,
        this.deps.preauth ?? DEFAULT_PREAUTH_SETTINGS,
        ids,
      );
      if ('refusal' in checked) return refuse(checked.refusal.error, checked.refusal.message, checked.refusal.field);
      const pending = terminal.startTransaction(checked.request, caller.progress);
      caller.accepted?.();
      return done(answerOf(await pending));
    }
    // Void and refund need supervisor rights: a wrong PIN is counted and, past the limit, locks them out for a while.
    const rights = request.kind === 'sale' ? undefined : this.supervisorRights(request.kind, request.rights, caller);
    const common = {
      supervisor: rights?.ok ?? false,
      ...(rights && !rights.ok ? { supervisorNote: rights.note } : {}),
      ...(request.requestId !== undefined ? { ecrRequestId: request.requestId } : {}),
    };
    const pending = terminal.startTransaction(
      request.kind === 'void'
        ? { kind: 'void', originalStan: request.stan, ...common }
        : {
            kind: request.kind,
            // A tip is charged with the sale and journaled apart.
            amount: request.amount + (request.kind === 'sale' ? (request.tip ?? 0) : 0),
            ...(request.currency ? { currency: request.currency } : {}),
            ...(request.kind === 'sale' && request.tip ? { tip: request.tip } : {}),
            ...common,
          },
      caller.progress,
    );
    caller.accepted?.();
    return done(answerOf(await pending));
  }

  private async unlock(rights: Rights, caller: Caller): Promise<CommandResult> {
    const { terminal } = this.deps;
    const lockouts = this.deps.clientLockouts?.();
    const lockedClients = lockouts?.list().length ?? 0;
    if (!terminal.isLocked() && lockedClients === 0)
      return refuse('not-allowed', 'neither the terminal nor any register client is locked');
    const check = this.supervisorRights('unlock', rights, caller);
    if (!check.ok) {
      // No transaction records this refusal, so it is journaled here.
      this.deps.anomalies.raise(
        'unauthorized-operation',
        { reason: `unlock by ${caller.client}: ${check.note}` },
        { show: false },
      );
      return refuse('unauthorized', `unlock needs a valid supervisor PIN (${check.note})`);
    }
    // A supervisor vouched at the terminal: registers locked out for refused requests are let in again too.
    if (lockedClients > 0) lockouts?.clear();
    if (!terminal.isLocked())
      return done({ settled: Promise.resolve(terminal.status().state), clientsCleared: lockedClients });
    terminal.unlock();
    return done({ settled: terminal.settled().then(() => terminal.status().state), clientsCleared: lockedClients });
  }

  /** Checks a supervisor PIN through the guard, which counts wrong ones and locks them out for a while. */
  private supervisorRights(
    operation: 'refund' | 'void' | 'unlock',
    rights: Rights,
    caller: Caller,
  ): { ok: true } | { ok: false; note: string } {
    if ('fleet' in rights) return { ok: true };
    const { pin } = rights;
    const guard = this.deps.risk?.supervisor;
    if (!guard)
      return pin !== undefined && verifyPin(pin, this.deps.config.supervisor.pinHash)
        ? { ok: true }
        : { ok: false, note: 'no valid PIN' };
    const check = guard.verify(pin, operation, caller.principal ?? caller.client);
    if (check.ok) return { ok: true };
    const note =
      check.reason === 'missing'
        ? 'no supervisor PIN'
        : check.reason === 'locked-out'
          ? `supervisor PIN locked out until ${new Date(check.lockedUntil ?? 0).toISOString()}`
          : `wrong supervisor PIN, ${check.attemptsLeft ?? 0} attempts left`;
    return { ok: false, note };
  }

  /** A result when the request id was seen before for a transaction (from the journal); undefined otherwise. */
  private answerRepeat(request: AnyTransactionCommand): CommandResult | undefined {
    const id = request.requestId;
    if (id === undefined) return undefined;
    const earlier = this.deps.journal.transactions.findByEcrRequestId(id);
    // Registers retry within seconds or minutes; an id seen long ago is a counter that started over, not a retry.
    if (!earlier || this.deps.clock.now() - earlier.createdAt > REPEAT_WINDOW_MS) return undefined;
    if (isHospitality(request))
      return this.replay(earlier, sameHospitalityRequest(earlier, request, this.deps.journal), id);
    // An accepted partial approval journals the smaller amount it approved: the retry still asked for the full one.
    const partial =
      earlier.responseCode !== null &&
      responseClass(earlier.responseCode) === 'partially-approved' &&
      request.kind !== 'void' &&
      earlier.amount < request.amount;
    const asked =
      request.kind === 'sale' ? request.amount + (request.tip ?? 0) : request.kind === 'void' ? 0 : request.amount;
    const sameRequest =
      earlier.kind === request.kind &&
      (request.kind === 'void' ? earlier.originalStan === request.stan : earlier.amount === asked || partial);
    return this.replay(earlier, sameRequest, id);
  }

  /** A repeated request id answered from the journal, or refused when it named another transaction. */
  private replay(earlier: TransactionRow, sameRequest: boolean, id: string): CommandResult {
    if (!sameRequest) {
      return refuse(
        'invalid-request',
        `request id ${id} was already used for another transaction (${earlier.kind} ${earlier.amount})`,
        'requestId',
      );
    }
    this.deps.anomalies.raise(
      'duplicate-transaction',
      {
        txnRef: earlier.txnRef,
        reason: `ECR request ${id} repeated; answered from the journal`,
        amount: earlier.amount,
        currency: earlier.currency,
        ...(earlier.stan !== null ? { stan: earlier.stan } : {}),
      },
      { show: false },
    );
    if (earlier.outcome === null) return refuse('busy', `request ${id} is still in progress`);
    return done(replayedAnswer(earlier, earlier.outcome));
  }
}

function done<V>(value: V): { ok: true; value: V } {
  return { ok: true, value };
}

function refuse(error: CommandErrorCode, message: string, field?: string): CommandFailure {
  return field === undefined ? { ok: false, error, message } : { ok: false, error, message, field };
}

/** A finished transaction as the front ends report it. */
function answerOf(output: TransactionOutput): TransactionAnswer {
  const anomaly = output.anomaly && isAnomalyName(output.anomaly.name) ? anomalyByName(output.anomaly.name) : undefined;
  return {
    outcome: output.outcome,
    txnRef: output.txnRef,
    kind: output.kind,
    amount: output.amount,
    currency: output.currency,
    receipt: output.receipt,
    ...(output.stan !== undefined ? { stan: output.stan } : {}),
    ...(output.responseCode !== undefined
      ? { responseCode: output.responseCode, responseText: output.responseText }
      : {}),
    ...(output.approvalCode !== undefined ? { approvalCode: output.approvalCode } : {}),
    ...(output.requestedAmount !== undefined
      ? { requestedAmount: output.requestedAmount, approvedAmount: output.approvedAmount }
      : {}),
    ...(output.maskedPan !== undefined ? { maskedPan: output.maskedPan } : {}),
    ...(output.entryMode !== undefined ? { entryMode: output.entryMode } : {}),
    ...(output.tip ? { tip: output.tip } : {}),
    ...(output.preauthId ? { preauthId: output.preauthId } : {}),
    ...(anomaly
      ? {
          anomaly: {
            code: anomaly.code,
            name: anomaly.name,
            message: output.anomaly?.reason ? `${anomaly.message}: ${output.anomaly.reason}` : anomaly.message,
          },
        }
      : {}),
  };
}

/** A journaled transaction answered again, for a repeated request. */
function replayedAnswer(earlier: TransactionRow, outcome: TransactionOutcome): TransactionAnswer {
  const anomaly = earlier.anomalyCode ? anomalyByCode(earlier.anomalyCode) : undefined;
  return {
    replayed: true,
    outcome,
    txnRef: earlier.txnRef,
    kind: earlier.kind,
    amount: earlier.amount,
    currency: earlier.currency,
    receipt: earlier.receiptStatus,
    ...(earlier.stan !== null ? { stan: earlier.stan } : {}),
    ...(earlier.responseCode !== null
      ? {
          responseCode: earlier.responseCode,
          responseText: describeResponseCode(earlier.responseCode)?.meaning ?? '',
        }
      : {}),
    ...(earlier.approvalCode !== null ? { approvalCode: earlier.approvalCode } : {}),
    ...(earlier.maskedPan !== null ? { maskedPan: earlier.maskedPan } : {}),
    ...(anomaly ? { anomaly: { code: anomaly.code, name: anomaly.name, message: anomaly.message } } : {}),
    ...(earlier.tipAmount > 0 ? { tip: earlier.tipAmount } : {}),
    ...(earlier.kind === 'preauth' && outcome === 'approved' ? { preauthId: earlier.txnRef } : {}),
  };
}
