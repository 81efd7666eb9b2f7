/**
 * UnifiedPOS checkHealth levels: internal is the self-test alone; external adds a test page (its lines read back
 * from the mock printer) and the reader asked for its identity; interactive asks the operator on the screen and
 * waits for the answer on the simulated clock (no answer is a fault, never a yes).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import type { Screen } from '../../hal/display/contract.js';
import { DeviceFaultError } from '../../hal/fault.js';
import { MockCardReader } from '../../hal/card-reader/mock.js';
import { MockPrinter } from '../../hal/printer/mock.js';
import {
  checkHealth,
  type HealthCheckDeps,
  OperatorConfirmations,
  TEST_PAGE_QUESTION,
} from '../../src/selftest/health-levels.js';
import type { CheckStatus, SelfTestReport } from '../../src/selftest/selftest.js';

function setup(internalStatus: CheckStatus = 'ok') {
  const clock = new ManualClock();
  const printer = new MockPrinter(clock, { columns: 42 });
  const reader = new MockCardReader(clock);
  const screens: Screen[] = [];
  const confirmations = new OperatorConfirmations(clock);
  let selfTests = 0;
  const report: SelfTestReport = {
    at: clock.now(),
    durationMs: 3,
    results: [{ component: 'storage', status: internalStatus, code: 'ok', detail: '', durationMs: 1 }],
    limitations: [],
    lockReasons: [],
  };
  const deps: HealthCheckDeps = {
    selfTest: async () => {
      selfTests++;
      return report;
    },
    print: (doc) => printer.print(doc),
    reader,
    show: async (screen) => {
      screens.push(screen);
    },
    confirmations,
    terminalId: 'TERM0042',
    clock,
    answerTimeoutMs: 60_000,
  };
  return { clock, printer, reader, screens, confirmations, deps, selfTests: () => selfTests };
}

const printedText = (printer: MockPrinter) =>
  printer.printed.flatMap((d) => d.lines.map((l) => ('text' in l ? l.text : '---')));

describe('checkHealth', () => {
  it('internal: the self-test only, no paper used', async () => {
    const t = setup('warn');
    await t.printer.open();
    const report = await checkHealth('internal', t.deps);
    expect(report).toMatchObject({ level: 'internal', status: 'warn', checks: [] });
    expect(t.selfTests()).toBe(1);
    expect(t.printer.printed).toHaveLength(0);
  });

  it('external: a test page on the printer and the reader asked', async () => {
    const t = setup();
    await t.printer.open();
    await t.reader.open();
    const report = await checkHealth('external', t.deps);
    expect(report.status).toBe('ok');
    expect(report.checks.map((c) => [c.component, c.status])).toEqual([
      ['printer', 'ok'],
      ['card-reader', 'ok'],
    ]);
    const text = printedText(t.printer);
    expect(text[0]).toBe('TEST PAGE');
    expect(text).toContain('Terminal TERM0042');
    expect(t.screens).toHaveLength(0);
  });

  it('external: a printer out of paper and a reader that does not answer are faults with their codes', async () => {
    const t = setup();
    await t.printer.open();
    t.printer.inject({ op: 'print', code: 'paper-out' });
    t.deps.reader = {
      info: async () => {
        throw new DeviceFaultError('card-reader', 'timeout', 'no answer');
      },
    };
    const report = await checkHealth('external', t.deps);
    expect(report.status).toBe('fault');
    expect(report.checks.map((c) => [c.component, c.code])).toEqual([
      ['printer', 'paper-out'],
      ['card-reader', 'timeout'],
    ]);
  });

  it('interactive: the question on the screen, the operator says yes', async () => {
    const t = setup();
    await t.printer.open();
    await t.reader.open();
    const running = checkHealth('interactive', t.deps);
    await t.clock.advance(0);
    expect(t.confirmations.question).toBe(TEST_PAGE_QUESTION);
    expect(t.screens.at(-1)?.lines[0]).toBe(TEST_PAGE_QUESTION);
    expect(t.confirmations.answer('yes')).toBe(true);
    const report = await running;
    expect(report.checks.at(-1)).toMatchObject({ component: 'operator', status: 'ok' });
    expect(report.status).toBe('ok');
    // Nothing is waiting any more: a second answer is not taken.
    expect(t.confirmations.answer('no')).toBe(false);
  });

  it('interactive: "no" and no answer at all are faults', async () => {
    const t = setup();
    await t.printer.open();
    const refused = checkHealth('interactive', t.deps);
    await t.clock.advance(0);
    t.confirmations.answer('no');
    expect((await refused).checks.at(-1)).toMatchObject({ status: 'fault', code: 'no' });

    const unanswered = checkHealth('interactive', t.deps);
    await t.clock.advance(59_999);
    expect(t.confirmations.question).toBe(TEST_PAGE_QUESTION);
    await t.clock.advance(1);
    const report = await unanswered;
    expect(report.checks.at(-1)).toMatchObject({ status: 'fault', code: 'timeout' });
    expect(report.status).toBe('fault');
  });

  it('interactive: no test page, no question', async () => {
    const t = setup();
    await t.printer.open();
    t.printer.inject({ op: 'print', code: 'cover-open' });
    const report = await checkHealth('interactive', t.deps);
    expect(report.checks.at(-1)).toMatchObject({ component: 'operator', code: 'not-asked' });
    expect(t.screens).toHaveLength(0);
  });
});
