/**
 * Health at UnifiedPOS's three levels (checkHealth): internal (the self-test: each device asked, no paper used),
 * external (the devices exercised: a test page on the printer, the card reader's identity asked of the device
 * itself) and interactive (external, then the operator confirms on the terminal what only a person can see: "did
 * the test page print?"). The operator's answer arrives through the command service (console, register, keypad);
 * no answer within the time limit counts as a fault, never as a yes.
 */
import type { CardReader } from '../../hal/card-reader/contract.js';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Screen } from '../../hal/display/contract.js';
import { isDeviceFault } from '../../hal/fault.js';
import type { PrintResult, ReceiptDocument } from '../../hal/printer/contract.js';
import type { CheckStatus, SelfTestReport } from './selftest.js';

export const HEALTH_LEVELS = ['internal', 'external', 'interactive'] as const;
export type HealthLevel = (typeof HEALTH_LEVELS)[number];

export interface ExternalCheck {
  component: 'printer' | 'card-reader' | 'operator';
  status: CheckStatus;
  /** 'ok', a device fault code, 'no', 'timeout' or 'busy'. */
  code: string;
  detail: string;
}

export interface HealthReport {
  level: HealthLevel;
  /** The worst status over the self-test and the checks of the level. */
  status: CheckStatus;
  internal: SelfTestReport;
  /** External and interactive checks, in the order they ran (empty at the internal level). */
  checks: ExternalCheck[];
}

export type OperatorAnswer = 'yes' | 'no';

export const TEST_PAGE_QUESTION = 'Did the test page print?';
export const DEFAULT_ANSWER_TIMEOUT_MS = 60_000;

export interface HealthCheckDeps {
  selfTest(): Promise<SelfTestReport>;
  /** The test page goes through the register's output (refused while a transaction holds the printer). */
  print(doc: ReceiptDocument): Promise<PrintResult>;
  reader: Pick<CardReader, 'info'>;
  show(screen: Screen): Promise<void>;
  confirmations: OperatorConfirmations;
  terminalId: string;
  clock: Clock;
  answerTimeoutMs?: number;
}

/** The one question waiting for the operator, answered by `answer` or timed out on the Clock. */
export class OperatorConfirmations {
  private pending:
    | { question: string; resolve: (a: OperatorAnswer | 'timeout') => void; timer: TimerHandle }
    | undefined;

  constructor(private readonly clock: Clock) {}

  /** The question waiting, if any. */
  get question(): string | undefined {
    return this.pending?.question;
  }

  ask(question: string, timeoutMs: number): Promise<OperatorAnswer | 'timeout'> {
    if (this.pending) return Promise.resolve('timeout');
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.settle('timeout'), timeoutMs);
      this.pending = { question, resolve, timer };
    });
  }

  /** The operator's answer; false when nothing was asked. */
  answer(answer: OperatorAnswer): boolean {
    if (!this.pending) return false;
    this.settle(answer);
    return true;
  }

  private settle(answer: OperatorAnswer | 'timeout'): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.timer.cancel();
    pending?.resolve(answer);
  }
}

const RANK: Record<CheckStatus, number> = { ok: 0, warn: 1, fault: 2 };
const worst = (statuses: CheckStatus[]): CheckStatus =>
  statuses.reduce<CheckStatus>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok');

function faultOf(component: ExternalCheck['component'], err: unknown): ExternalCheck {
  if (isDeviceFault(err)) return { component, status: 'fault', code: err.code, detail: err.message };
  const code = (err as { code?: unknown }).code;
  return {
    component,
    status: 'fault',
    code: typeof code === 'string' ? code : 'error',
    detail: (err as Error).message,
  };
}

function testPage(terminalId: string, at: number): ReceiptDocument {
  return {
    lines: [
      { text: 'TEST PAGE', align: 'center', bold: true },
      { text: `Terminal ${terminalId}` },
      { text: new Date(at).toISOString().replace('T', ' ').slice(0, 19) },
      { kind: 'rule' },
      { text: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789' },
      { text: 'Health check: external' },
    ],
    cut: true,
  };
}

async function printTestPage(deps: HealthCheckDeps): Promise<ExternalCheck> {
  try {
    const result = await deps.print(testPage(deps.terminalId, deps.clock.now()));
    return result.warnings.length
      ? {
          component: 'printer',
          status: 'warn',
          code: result.warnings[0]!,
          detail: `test page printed: ${result.warnings.join(', ')}`,
        }
      : { component: 'printer', status: 'ok', code: 'ok', detail: `test page printed (${result.linesPrinted} lines)` };
  } catch (err) {
    return faultOf('printer', err);
  }
}

async function readerEcho(deps: HealthCheckDeps): Promise<ExternalCheck> {
  try {
    const info = await deps.reader.info();
    return { component: 'card-reader', status: 'ok', code: 'ok', detail: `answered: ${info.model} ${info.firmware}` };
  } catch (err) {
    return faultOf('card-reader', err);
  }
}

async function askOperator(deps: HealthCheckDeps, printed: ExternalCheck): Promise<ExternalCheck> {
  if (printed.status === 'fault')
    return { component: 'operator', status: 'fault', code: 'not-asked', detail: 'no test page to confirm' };
  await deps.show({
    title: 'Health check',
    lines: [TEST_PAGE_QUESTION, 'Answer yes or no'],
    severity: 'info',
  });
  const answer = await deps.confirmations.ask(TEST_PAGE_QUESTION, deps.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS);
  if (answer === 'yes')
    return { component: 'operator', status: 'ok', code: 'ok', detail: 'operator saw the test page' };
  return answer === 'no'
    ? { component: 'operator', status: 'fault', code: 'no', detail: 'operator says the test page did not print' }
    : { component: 'operator', status: 'fault', code: 'timeout', detail: 'no answer from the operator' };
}

export async function checkHealth(level: HealthLevel, deps: HealthCheckDeps): Promise<HealthReport> {
  const internal = await deps.selfTest();
  const checks: ExternalCheck[] = [];
  if (level !== 'internal') {
    const [printed, reader] = await Promise.all([printTestPage(deps), readerEcho(deps)]);
    checks.push(printed, reader);
    if (level === 'interactive') checks.push(await askOperator(deps, printed));
  }
  const status = worst([...internal.results.map((r) => r.status), ...checks.map((c) => c.status)]);
  return { level, status, internal, checks };
}
