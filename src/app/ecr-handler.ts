/**
 * Turns ECR requests into terminal commands and streams the terminal's progress back to the cash register.
 * Simulator commands (sim.*) drive the mock devices and the embedded host simulator.
 */
import { CARD_READER_FAULT_CODES } from '../../hal/card-reader/contract.js';
import { DISPLAY_FAULT_CODES } from '../../hal/display/contract.js';
import { PRINTER_FAULT_CODES } from '../../hal/printer/contract.js';
import type { Clock } from '../../hal/clock.js';
import type { EcrErrorReply, EcrHandler, EcrRequest, EcrSession } from '../ecr/index.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { anomalyByCode, anomalyByName, isAnomalyName } from '../anomaly/index.js';
import { describeResponseCode, responseClass } from '../iso8583/index.js';
import type { PosConfig } from '../config/index.js';
import type { AcquirerHostSimulator } from '../acquirer-sim/simulator.js';
import { MISBEHAVIOURS, type Misbehaviour } from '../acquirer-sim/rules.js';
import type { Journal } from '../journal/index.js';
import type { RiskControls } from '../risk/controls.js';
import { verifyPin } from '../security/pin.js';
import { testCard, testCardNames } from '../card/test-cards.js';
import { TerminalError, type Terminal } from '../terminal/terminal.js';
import type { TransactionStreamEvent } from '../terminal/effects.js';
import type { TransactionOutput } from '../transaction/types.js';
import type { Logger } from '../util/log.js';
import type { MockDevices } from './mock-devices.js';

/** How long a request id identifies the same transaction for a retrying register. */
const REPEAT_WINDOW_MS = 15 * 60_000;

export interface EcrHandlerDeps {
  clock: Clock;
  risk?: RiskControls;
  terminal: Terminal;
  journal: Journal;
  anomalies: AnomalyRecorder;
  log: Logger;
  mocks: MockDevices;
  hostSim: AcquirerHostSimulator | undefined;
  config: PosConfig;
  simulatorMode: boolean;
}

function resultReply(id: string, output: TransactionOutput) {
  const anomaly = output.anomaly && isAnomalyName(output.anomaly.name) ? anomalyByName(output.anomaly.name) : undefined;
  return {
    id,
    type: 'result' as const,
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

export class EcrCommandHandler implements EcrHandler {
  constructor(private readonly deps: EcrHandlerDeps) {}

  /** Bad input from a cash register is journaled too, so support can see a misbehaving integration. */
  protocolError(clientId: string, error: EcrErrorReply): void {
    this.deps.anomalies.raise(
      'invalid-input',
      { reason: `ECR ${clientId}: ${error.code}: ${error.message}` },
      { show: false },
    );
  }

  async handle(request: EcrRequest, session: EcrSession): Promise<void> {
    const { terminal } = this.deps;
    const id = request.id;
    try {
      switch (request.cmd) {
        case 'sale':
        case 'refund':
        case 'void': {
          // A register that retries a request (same id) is answered from the journal: never a second charge.
          if (this.answerRepeat(request, session)) return;
          // A periodic self-test takes milliseconds: a sale arriving meanwhile waits for it rather than being refused.
          await terminal.settled();
          // Void and refund need supervisor rights: a wrong PIN is counted and, past the limit, locks them out for a while.
          const rights = request.cmd === 'sale' ? undefined : this.supervisorRights(request.cmd, request.supervisorPin);
          const supervisor = rights?.ok ?? false;
          // Progress events wait until the ack is out, so the register always sees ack first.
          const early: TransactionStreamEvent[] = [];
          let acked = false;
          const stream = (event: TransactionStreamEvent) =>
            session.send(
              event.type === 'state'
                ? { id, type: 'state', state: event.state }
                : event.type === 'screen'
                  ? { id, type: 'screen', screen: event.screen }
                  : // The register decides: confirm takes the approved amount (the rest is paid another way), cancel reverses.
                    {
                      id,
                      type: 'partial',
                      requestedAmount: event.requestedAmount,
                      approvedAmount: event.approvedAmount,
                      currency: event.currency,
                    },
            );
          const pending = terminal.startTransaction(
            {
              kind: request.cmd,
              ecrRequestId: id,
              supervisor,
              ...(rights && !rights.ok ? { supervisorNote: rights.note } : {}),
              ...(request.cmd === 'void'
                ? { originalStan: request.stan }
                : { amount: request.amount, ...(request.currency ? { currency: request.currency } : {}) }),
            },
            (event) => (acked ? stream(event) : early.push(event)),
          );
          session.send({ id, type: 'ack', cmd: request.cmd });
          acked = true;
          early.forEach(stream);
          session.send(resultReply(id, await pending));
          return;
        }
        case 'cancel':
          terminal.cancel('ecr');
          session.send({ id, type: 'done', cmd: 'cancel' });
          return;
        case 'confirm':
          terminal.confirm('ecr');
          session.send({ id, type: 'done', cmd: 'confirm' });
          return;
        case 'status':
          session.send({ id, type: 'status', ...terminal.status(), journal: this.deps.journal.counts() });
          return;
        case 'reprint': {
          const row = await terminal.reprint(request.stan);
          session.send({ id, type: 'done', cmd: 'reprint', stan: row.stan, receipt: row.receiptStatus });
          return;
        }
        case 'unlock': {
          if (!terminal.isLocked()) {
            session.send({ id, type: 'error', code: 'not-allowed', message: 'the terminal is not locked' });
            return;
          }
          const rights = this.supervisorRights('unlock', request.supervisorPin);
          if (!rights.ok) {
            // No transaction records this refusal, so it is journaled here.
            this.deps.anomalies.raise(
              'unauthorized-operation',
              { reason: `unlock by ${session.clientId}: ${rights.note}` },
              { show: false },
            );
            session.send({
              id,
              type: 'error',
              code: 'unauthorized',
              message: `unlock needs a valid supervisor PIN (${rights.note})`,
            });
            return;
          }
          terminal.unlock();
          await terminal.settled();
          session.send({ id, type: 'done', cmd: 'unlock', state: terminal.status().state });
          return;
        }
        case 'slip': {
          const row = await terminal.printAnomalySlip(request.code);
          session.send({ id, type: 'done', cmd: 'slip', code: row.code, anomalyId: row.id });
          return;
        }
        case 'selftest': {
          const summary = await terminal.selfTest();
          session.send({ id, type: 'done', cmd: 'selftest', ...summary, state: terminal.status().state });
          return;
        }
        case 'sim.card':
        case 'sim.fault':
        case 'sim.remove':
          this.simulate(request, session);
          return;
      }
    } catch (err) {
      if (err instanceof TerminalError) {
        const code = (
          {
            busy: 'busy',
            'no-transaction': 'no-transaction',
            'not-found': 'not-found',
            'printer-fault': 'device-fault',
            locked: 'not-allowed',
            'not-ready': 'not-allowed',
          } as const
        )[err.code];
        if (err.code === 'busy')
          this.deps.anomalies.raise('busy', { reason: `${request.cmd} refused: ${err.message}` }, { show: false });
        session.send({ id, type: 'error', code, message: err.message });
        return;
      }
      throw err;
    }
  }

  /** Checks a supervisor PIN through the guard, which counts wrong ones and locks them out for a while. */
  private supervisorRights(
    operation: 'refund' | 'void' | 'unlock',
    pin: string | undefined,
  ): { ok: true } | { ok: false; note: string } {
    const guard = this.deps.risk?.supervisor;
    if (!guard)
      return pin !== undefined && verifyPin(pin, this.deps.config.supervisor.pinHash)
        ? { ok: true }
        : { ok: false, note: 'no valid PIN' };
    const check = guard.verify(pin, operation);
    if (check.ok) return { ok: true };
    const note =
      check.reason === 'missing'
        ? 'no supervisor PIN'
        : check.reason === 'locked-out'
          ? `supervisor PIN locked out until ${new Date(check.lockedUntil ?? 0).toISOString()}`
          : `wrong supervisor PIN, ${check.attemptsLeft ?? 0} attempts left`;
    return { ok: false, note };
  }

  /** True when the request id was seen before for a transaction; the reply then comes from the journal. */
  private answerRepeat(
    request: Extract<EcrRequest, { cmd: 'sale' | 'refund' | 'void' }>,
    session: EcrSession,
  ): boolean {
    const earlier = this.deps.journal.findByEcrRequestId(request.id);
    // Registers retry within seconds or minutes; an id seen long ago is a counter that started over, not a retry.
    if (!earlier || this.deps.clock.now() - earlier.createdAt > REPEAT_WINDOW_MS) return false;
    const id = request.id;
    // An accepted partial approval journals the smaller amount it approved: the retry still asked for the full one.
    const partial =
      earlier.responseCode !== null &&
      responseClass(earlier.responseCode) === 'partially-approved' &&
      request.cmd !== 'void' &&
      earlier.amount < request.amount;
    const sameRequest =
      earlier.kind === request.cmd &&
      (request.cmd === 'void' ? earlier.originalStan === request.stan : earlier.amount === request.amount || partial);
    if (!sameRequest) {
      session.send({
        id,
        type: 'error',
        code: 'invalid-request',
        message: `request id ${id} was already used for another transaction (${earlier.kind} ${earlier.amount})`,
        field: 'id',
      });
      return true;
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
    if (earlier.outcome === null) {
      session.send({ id, type: 'error', code: 'busy', message: `request ${id} is still in progress` });
      return true;
    }
    const anomaly = earlier.anomalyCode ? anomalyByCode(earlier.anomalyCode) : undefined;
    session.send({
      id,
      type: 'result',
      replayed: true,
      outcome: earlier.outcome,
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
    });
    return true;
  }

  private simulate(request: Extract<EcrRequest, { cmd: `sim.${string}` }>, session: EcrSession): void {
    const { mocks, hostSim } = this.deps;
    const id = request.id;
    const refuse = (message: string, field?: string) =>
      session.send({ id, type: 'error', code: 'invalid-request', message, ...(field ? { field } : {}) });

    if (request.cmd === 'sim.card') {
      const card = testCard(request.name);
      if (!card)
        return refuse(
          `name: expected one of ${testCardNames().join(', ')}, found ${JSON.stringify(request.name)}`,
          'name',
        );
      if (!mocks.reader) return refuse('the card reader is not a mock');
      mocks.reader.present(card, { removeWhenAsked: request.stays !== true });
      session.send({ id, type: 'done', cmd: 'sim.card', card: request.name ?? 'visa' });
      return;
    }
    if (request.cmd === 'sim.remove') {
      mocks.reader?.remove();
      session.send({ id, type: 'done', cmd: 'sim.remove' });
      return;
    }
    const { device, code } = request;
    const known: Partial<Record<typeof device, readonly string[]>> = {
      printer: PRINTER_FAULT_CODES,
      'card-reader': CARD_READER_FAULT_CODES,
      display: DISPLAY_FAULT_CODES,
    };
    const codes = known[device];
    if (codes && code !== 'clear' && !codes.includes(code)) {
      return refuse(
        `code: expected one of ${[...codes, 'clear'].join(', ')} for the ${device}, found ${JSON.stringify(code)}`,
        'code',
      );
    }
    const times = request.times ?? 1;
    const rule = (op: string) => ({
      op,
      code,
      times,
      ...(request.atStep !== undefined ? { atStep: request.atStep } : {}),
    });
    try {
      switch (device) {
        case 'printer':
          if (!mocks.printer) return refuse('the printer is not a mock');
          if (code === 'clear') {
            mocks.printer.clearFaults();
            mocks.printer.setStatus({
              online: true,
              paper: 'ok',
              coverOpen: false,
              jammed: false,
              cutterError: false,
              overheated: false,
              unrecoverableError: false,
            });
          } else
            mocks.printer.inject(
              rule(request.atStep !== undefined ? 'print-line' : 'print') as Parameters<typeof mocks.printer.inject>[0],
            );
          break;
        case 'card-reader':
          if (!mocks.reader) return refuse('the card reader is not a mock');
          if (code === 'clear') {
            mocks.reader.clearFaults();
            mocks.reader.clearTamper();
          } else
            mocks.reader.inject(
              rule(code === 'timeout' ? 'wait' : 'read') as Parameters<typeof mocks.reader.inject>[0],
            );
          break;
        case 'display':
          if (!mocks.display) return refuse('the display is not a mock');
          if (code === 'clear') mocks.display.clearFaults();
          else mocks.display.inject(rule('show') as Parameters<typeof mocks.display.inject>[0]);
          break;
        case 'network':
          if (!mocks.network) return refuse('the network monitor is not a mock');
          if (code !== 'up' && code !== 'down') return refuse('code: expected "up" or "down" for the network', 'code');
          mocks.network.setState({ link: code });
          break;
        case 'host':
          if (!hostSim) return refuse('no embedded host simulator is running');
          if (code !== 'clear' && !MISBEHAVIOURS.includes(code as Misbehaviour)) {
            return refuse(`code: expected one of ${MISBEHAVIOURS.join(', ')} or "clear" for the host`, 'code');
          }
          hostSim.setBehaviour({ misbehaviour: code === 'clear' ? 'none' : (code as Misbehaviour) });
          break;
      }
    } catch (err) {
      return refuse(`code: ${(err as Error).message}`, 'code');
    }
    session.send({ id, type: 'done', cmd: 'sim.fault', device, code });
  }
}
