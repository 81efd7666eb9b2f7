/** The register's text and documents on the terminal's display and printer, with the clock simulated. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { MockDisplay } from '../../hal/display/mock.js';
import { MockPrinter } from '../../hal/printer/mock.js';
import type { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import { DISPLAY_LIMITS, PRINT_LIMITS, RegisterOutput } from '../../src/terminal/register-output.js';
import { TerminalError, type TerminalStatus } from '../../src/terminal/types.js';
import { createLogger } from '../../src/util/log.js';

function rig(state = 'ready') {
  const clock = new ManualClock();
  const display = new MockDisplay();
  const printer = new MockPrinter(clock);
  const raised: Array<{ name: string; reason?: string }> = [];
  const anomalies = {
    raise: (name: string, context: { reason?: string }) => {
      raised.push({ name, ...(context.reason ? { reason: context.reason } : {}) });
    },
  } as unknown as AnomalyRecorder;
  const status: TerminalStatus = {
    state,
    pendingReversals: 0,
    offlineQueue: { count: 0, total: 0, oldestAgeMs: null },
    connectivity: 'online',
    limitations: [],
    lockReasons: state === 'locked' ? ['tamper'] : [],
    hostUp: true,
  };
  const output = new RegisterOutput({
    display,
    printer,
    anomalies,
    clock,
    log: createLogger('silent'),
    status: () => status,
  });
  return { clock, display, printer, raised, status, output, open: () => printer.open() };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TerminalError);
  return (err as TerminalError).code;
}

describe('RegisterOutput', () => {
  it('brings the idle screen back after the minimum display time, and not before', async () => {
    const { clock, display, output } = rig();
    await output.show({ lines: ['Hello'], minimumDisplayMs: 5000 });
    expect(display.current?.lines).toEqual(['Hello']);
    await clock.advance(4999);
    expect(display.current?.lines).toEqual(['Hello']);
    await clock.advance(1);
    expect(display.current?.title).toBe('READY');
  });

  it('keeps the text until the next screen when no minimum time is given; a newer text cancels the restore', async () => {
    const { clock, display, output } = rig();
    await output.show({ lines: ['First'], minimumDisplayMs: 1000 });
    await output.show({ lines: ['Second'] });
    await clock.advance(60_000);
    expect(display.current?.lines).toEqual(['Second']);
  });

  it('bounds lines and columns and removes control characters', async () => {
    const { display, printer, output, open } = rig();
    await open();
    await output.show({ lines: Array.from({ length: 20 }, () => `\u001b${'x'.repeat(100)}`) });
    expect(display.current?.lines).toHaveLength(DISPLAY_LIMITS.lines);
    expect(display.current?.lines[0]).toBe(` ${'x'.repeat(DISPLAY_LIMITS.columns - 1)}`);
    await output.print({ lines: Array.from({ length: 1000 }, (_, i) => ({ text: `line ${i}\u001bi` })), cut: true });
    expect(printer.printed.at(-1)?.lines).toHaveLength(PRINT_LIMITS.lines);
  });

  it('refuses while a transaction runs, while locked and while starting, touching no device', async () => {
    for (const [state, code] of [
      ['transacting', 'busy'],
      ['locked', 'locked'],
      ['selfTesting', 'not-ready'],
    ] as const) {
      const { display, printer, output } = rig(state);
      expect(await refusal(output.show({ lines: ['x'] }))).toBe(code);
      expect(await refusal(output.print({ lines: [{ text: 'x' }], cut: true }))).toBe(code);
      expect(display.history).toHaveLength(0);
      expect(printer.printed).toHaveLength(0);
    }
  });

  it('journals a device fault as its anomaly and refuses with the device named', async () => {
    const { display, printer, raised, output, open } = rig();
    await open();
    display.inject({ op: 'show', code: 'offline' });
    expect(await refusal(output.show({ lines: ['x'] }))).toBe('display-fault');
    printer.inject({ op: 'print', code: 'cover-open' });
    expect(await refusal(output.print({ lines: [{ text: 'x' }], cut: true }))).toBe('printer-fault');
    expect(raised.map((r) => r.name)).toEqual(['display-fault', 'printer-cover-open']);
  });
});
