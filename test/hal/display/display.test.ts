import { describe, expect, it } from 'vitest';
import { DISPLAY_FAULT_CODES, type Screen } from '../../../hal/display/contract.js';
import { MockDisplay } from '../../../hal/display/mock.js';
import { expectFault } from '../expect-fault.js';

const welcome: Screen = { title: 'Welcome', lines: ['Present card'], severity: 'info' };
const paperOut: Screen = { title: 'Printer', lines: ['Load paper'], code: 'HW-PAPER', severity: 'error' };

describe('MockDisplay', () => {
  it('keeps history and the current screen, and clears', async () => {
    const d = new MockDisplay();
    expect(d.current).toBeUndefined();
    await d.show(welcome);
    await d.show(paperOut);
    expect(d.history).toEqual([welcome, paperOut]);
    expect(d.current).toEqual(paperOut);
    await d.clear();
    expect(d.current).toBeUndefined();
    expect(d.history).toHaveLength(2);
  });

  it('stores copies, not the caller objects', async () => {
    const d = new MockDisplay();
    const screen: Screen = { title: 'A', lines: ['1'], severity: 'info' };
    await d.show(screen);
    screen.lines.push('2');
    expect(d.current?.lines).toEqual(['1']);
  });

  it.each([...DISPLAY_FAULT_CODES])("rejects '%s' on show and keeps the previous screen", async (code) => {
    const d = new MockDisplay();
    await d.show(welcome);
    d.inject({ op: 'show', code });
    await expectFault(d.show(paperOut), 'display', code);
    expect(d.current).toEqual(welcome);
    expect(d.history).toEqual([welcome]);
    await d.show(paperOut);
    expect(d.current).toEqual(paperOut);
  });

  it('keeps a sticky offline until cleared, also on clear()', async () => {
    const d = new MockDisplay();
    d.inject({ op: 'show', code: 'offline', times: Infinity });
    d.inject({ op: 'clear', code: 'offline' });
    await expectFault(d.show(welcome), 'display', 'offline');
    await expectFault(d.show(welcome), 'display', 'offline');
    await expectFault(d.clear(), 'display', 'offline');
    d.clearFaults();
    await d.show(welcome);
    expect(d.current).toEqual(welcome);
  });
});
