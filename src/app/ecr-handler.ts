/**
 * The ECR API's front end: turns a validated ECR request into a command (or a simulator command), and the result into
 * the ECR reply. For sale, refund and void it also streams the terminal's progress to the cash register, after the ack.
 */
import type {
  EcrErrorCode,
  EcrErrorReply,
  EcrHandler,
  EcrReply,
  EcrRequest,
  EcrRequestOf,
  EcrSession,
} from '../ecr/index.js';
import { addressKey, type BadInputReport, type BadInputTally } from '../ecr/index.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { TransactionStreamEvent } from '../terminal/effects/index.js';
import type {
  Caller,
  CommandFailure,
  CommandRequest,
  CommandResult,
  CommandService,
  CommandValues,
} from './commands.js';
import type { SimCommands, SimRequest, SimResult } from './sim-commands.js';

const TRANSACTION_CMDS = [
  'sale',
  'refund',
  'void',
  'preauth',
  'preauth.increment',
  'preauth.complete',
  'preauth.cancel',
  'tipAdjust',
] as const;
type EcrTransactionRequest = EcrRequestOf<(typeof TRANSACTION_CMDS)[number]>;
type EcrSimRequest = EcrRequestOf<'sim.card' | 'sim.fault' | 'sim.remove' | 'sim.pin' | 'sim.tip'>;
type EcrCommandRequest = Exclude<EcrRequest, EcrSimRequest>;

export interface EcrHandlerDeps {
  commands: CommandService;
  simulator: SimCommands;
  anomalies: AnomalyRecorder;
  /** Aggregates bad lines into one anomaly per client per interval; absent, each bad line is one anomaly. */
  badInput?: BadInputTally;
  /** A request refused for want of rights (a wrong supervisor PIN): counted towards that client's lockout. */
  onRefused?(principal: string): void;
}

/** The command an ECR request asks for (the request id identifies a repeated transaction). */
export function commandOf(request: EcrCommandRequest): CommandRequest {
  switch (request.cmd) {
    case 'sale':
      return {
        kind: 'sale',
        amount: request.amount,
        currency: request.currency,
        ...(request.tip ? { tip: request.tip } : {}),
        requestId: request.id,
      };
    case 'preauth':
      return { kind: 'preauth', amount: request.amount, currency: request.currency, requestId: request.id };
    case 'preauth.increment':
    case 'preauth.cancel':
    case 'preauth.complete':
    case 'tipAdjust': {
      const { cmd, id, token: _token, ...fields } = request;
      return { kind: cmd, ...fields, requestId: id } as CommandRequest;
    }
    case 'refund':
      return {
        kind: 'refund',
        amount: request.amount,
        currency: request.currency,
        rights: { pin: request.supervisorPin },
        requestId: request.id,
      };
    case 'void':
      return { kind: 'void', stan: request.stan, rights: { pin: request.supervisorPin }, requestId: request.id };
    case 'unlock':
      return { kind: 'unlock', rights: { pin: request.supervisorPin } };
    case 'reprint':
      return { kind: 'reprint', stan: request.stan };
    case 'slip':
      return { kind: 'slip', code: request.code };
    case 'selftest':
      return { kind: 'selftest', level: request.level };
    case 'selftest.answer':
      return { kind: 'selftest.answer', answer: request.answer };
    case 'cancel':
    case 'confirm':
    case 'status':
    case 'settle':
    case 'drawer.open':
      return { kind: request.cmd };
  }
}

export function simRequestOf(request: EcrSimRequest): SimRequest {
  switch (request.cmd) {
    case 'sim.card':
      return { kind: 'card', name: request.name, stays: request.stays };
    case 'sim.remove':
      return { kind: 'remove' };
    case 'sim.pin':
      return request.cancel === true ? { kind: 'pin', cancel: true } : { kind: 'pin', pin: request.pin ?? '' };
    case 'sim.tip':
      return request.cancel === true ? { kind: 'tip', cancel: true } : { kind: 'tip', amount: request.amount ?? 0 };
    case 'sim.fault':
      return {
        kind: 'fault',
        device: request.device,
        code: request.code,
        atStep: request.atStep,
        times: request.times,
      };
  }
}

function isTransactionRequest(request: EcrRequest): request is EcrTransactionRequest {
  return (TRANSACTION_CMDS as readonly string[]).includes(request.cmd);
}

function isSimRequest(request: EcrRequest): request is EcrSimRequest {
  return request.cmd.startsWith('sim.');
}

function errorReply(id: string, failure: Pick<CommandFailure, 'error' | 'message' | 'field'>): EcrErrorReply {
  const code: EcrErrorCode = failure.error;
  // The service names its request's fields; on the ECR wire the request id is `id`.
  const field = failure.field === 'requestId' ? 'id' : failure.field;
  return { id, type: 'error', code, message: failure.message, ...(field ? { field } : {}) };
}

/** The ECR reply to a command's result. */
export async function replyOf(request: EcrCommandRequest, result: CommandResult): Promise<EcrReply> {
  const id = request.id;
  if (!result.ok) return errorReply(id, result);
  // One cast per command: the result is the one of this request's command.
  switch (request.cmd) {
    case 'sale':
    case 'refund':
    case 'void':
    case 'preauth':
    case 'preauth.increment':
    case 'preauth.complete':
    case 'preauth.cancel':
    case 'tipAdjust':
      return { id, type: 'result', ...(result.value as CommandValues['sale']) };
    case 'status':
      return { id, type: 'status', ...(result.value as CommandValues['status']) };
    case 'reprint':
    case 'slip':
      return { id, type: 'done', cmd: request.cmd, ...(result.value as CommandValues['reprint' | 'slip']) };
    case 'unlock':
      return { id, type: 'done', cmd: 'unlock', ...(await unlockAnswer(result.value as CommandValues['unlock'])) };
    case 'selftest':
      return { id, type: 'done', cmd: 'selftest', ...(result.value as CommandValues['selftest']) };
    case 'selftest.answer':
      return { id, type: 'done', cmd: 'selftest.answer' };
    case 'settle':
      return { id, type: 'done', cmd: 'settle', ...(result.value as CommandValues['settle']) };
    case 'cancel':
    case 'confirm':
    case 'drawer.open':
      return { id, type: 'done', cmd: request.cmd };
  }
}

/** The ECR reply to a simulator command's result. */
export function simReplyOf(request: EcrSimRequest, result: SimResult): EcrReply {
  const id = request.id;
  if (!result.ok) return errorReply(id, result);
  switch (result.kind) {
    case 'card':
      return { id, type: 'done', cmd: 'sim.card', card: result.card };
    case 'remove':
      return { id, type: 'done', cmd: 'sim.remove' };
    case 'pin':
      return { id, type: 'done', cmd: 'sim.pin' };
    case 'tip':
      return { id, type: 'done', cmd: 'sim.tip' };
    case 'fault':
      return { id, type: 'done', cmd: 'sim.fault', device: result.device, code: result.code };
  }
}

/** Answers one request; for a transaction `caller` hears when it was taken and how it goes. */
export async function answer(
  deps: Pick<EcrHandlerDeps, 'commands' | 'simulator'>,
  request: EcrRequest,
  caller: Caller,
): Promise<EcrReply> {
  if (isSimRequest(request)) return simReplyOf(request, deps.simulator.run(simRequestOf(request)));
  return replyOf(request, await deps.commands.run(commandOf(request), caller));
}

/** A progress event as the register reads it. */
function progressReply(id: string, event: TransactionStreamEvent): EcrReply {
  if (event.type === 'state') return { id, type: 'state', state: event.state };
  if (event.type === 'screen') return { id, type: 'screen', screen: event.screen };
  // The register decides: confirm takes the approved amount (the rest is paid another way), cancel reverses.
  return {
    id,
    type: 'partial',
    requestedAmount: event.requestedAmount,
    approvedAmount: event.approvedAmount,
    currency: event.currency,
  };
}

export class EcrCommandHandler implements EcrHandler {
  constructor(private readonly deps: EcrHandlerDeps) {}

  /** Bad input from a cash register is journaled too, so support can see a misbehaving integration. */
  protocolError(clientId: string, error: EcrErrorReply): void {
    if (this.deps.badInput) {
      this.deps.badInput.note(addressKey(clientId), error.code, `${error.code}: ${error.message}`);
      return;
    }
    this.deps.anomalies.raise(
      'invalid-input',
      { reason: `ECR ${clientId}: ${error.code}: ${error.message}` },
      { show: false },
    );
  }

  async handle(request: EcrRequest, session: EcrSession): Promise<void> {
    const client = session.clientId;
    const principal = session.principal ?? addressKey(client);
    const reply = !isTransactionRequest(request)
      ? await answer(this.deps, request, { client, principal })
      : await this.transact(request, session, principal);
    session.send(reply);
    if (refusedForRights(reply)) this.deps.onRefused?.(principal);
  }

  /** Progress events wait until the ack is out, so the register always sees ack first. */
  private transact(request: EcrTransactionRequest, session: EcrSession, principal: string): Promise<EcrReply> {
    const { id, cmd } = request;
    const early: TransactionStreamEvent[] = [];
    let acked = false;
    const stream = (event: TransactionStreamEvent) => session.send(progressReply(id, event));
    return answer(this.deps, request, {
      client: session.clientId,
      principal,
      progress: (event) => (acked ? stream(event) : early.push(event)),
      accepted: () => {
        session.send({ id, type: 'ack', cmd });
        acked = true;
        early.forEach(stream);
      },
    });
  }
}

/** A reply that refuses the client's rights: an `unauthorized` error or a transaction failed on its supervisor PIN. */
function refusedForRights(reply: EcrReply): boolean {
  if (reply.type === 'error') return reply.code === 'unauthorized';
  const anomaly = (reply as { anomaly?: { name?: unknown } }).anomaly;
  return reply.type === 'result' && anomaly?.name === 'unauthorized-operation';
}

/** The anomaly text of one aggregated report: how many bad lines (or requests), of which kinds, and the first seen;
 * `api` names the front end. */
export function badInputReason(report: BadInputReport, api = 'ECR', unit = 'lines'): string {
  const kinds = Object.entries(report.byKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  if (report.total === 1) return `${api} ${report.clientId}: ${report.sample}`;
  const seconds = Math.round(report.intervalMs / 1000);
  return `${api} ${report.clientId} sent ${report.total} bad ${unit} in the last ${seconds} s (${kinds}); first: ${report.sample}`;
}

async function unlockAnswer(value: CommandValues['unlock']): Promise<{ state: string; clientsCleared?: number }> {
  const state = await value.settled;
  return value.clientsCleared > 0 ? { state, clientsCleared: value.clientsCleared } : { state };
}
