import { describe, expect, it } from 'vitest';
import { FaultScript } from '../../../hal/mock/fault-script.js';

type Op = 'a' | 'b';
type Code = 'x' | 'y';

describe('FaultScript', () => {
  it('returns nothing when no rule is due', () => {
    const s = new FaultScript<Op, Code>();
    expect(s.check('a')).toBeUndefined();
    s.inject({ op: 'b', code: 'x' });
    expect(s.check('a')).toBeUndefined();
  });

  it('consumes a rule once by default', () => {
    const s = new FaultScript<Op, Code>();
    s.inject({ op: 'a', code: 'x' });
    expect(s.check('a')).toBe('x');
    expect(s.check('a')).toBeUndefined();
    expect(s.pending()).toEqual([]);
  });

  it('fires `times` times, and forever with Infinity until cleared', () => {
    const s = new FaultScript<Op, Code>();
    s.inject({ op: 'a', code: 'x', times: 2 });
    expect([s.check('a'), s.check('a'), s.check('a')]).toEqual(['x', 'x', undefined]);

    s.inject({ op: 'b', code: 'y', times: Infinity });
    for (let i = 0; i < 50; i++) expect(s.check('b')).toBe('y');
    s.clear();
    expect(s.check('b')).toBeUndefined();
  });

  it('uses the step given by the caller', () => {
    const s = new FaultScript<Op, Code>();
    s.inject({ op: 'a', code: 'x', atStep: 3 });
    expect(s.check('a', 1)).toBeUndefined();
    expect(s.check('a', 2)).toBeUndefined();
    expect(s.check('a', 3)).toBe('x');
    expect(s.check('a', 4)).toBeUndefined();
  });

  it('counts calls since injection when no step is given', () => {
    const s = new FaultScript<Op, Code>();
    s.check('a');
    s.check('a');
    s.inject({ op: 'a', code: 'y', atStep: 2 });
    expect(s.check('a')).toBeUndefined();
    expect(s.check('a')).toBe('y');
    expect(s.check('a')).toBeUndefined();
  });

  it('lets the first injected due rule win, and keeps the other', () => {
    const s = new FaultScript<Op, Code>();
    s.inject({ op: 'a', code: 'x' });
    s.inject({ op: 'a', code: 'y' });
    expect(s.check('a')).toBe('x');
    expect(s.check('a')).toBe('y');
  });

  it('clears one op only', () => {
    const s = new FaultScript<Op, Code>();
    s.inject({ op: 'a', code: 'x' });
    s.inject({ op: 'b', code: 'y' });
    s.clear('a');
    expect(s.check('a')).toBeUndefined();
    expect(s.check('b')).toBe('y');
  });

  it('returns the rule message through match', () => {
    const s = new FaultScript<Op, Code>();
    s.inject({ op: 'a', code: 'x', message: 'custom' });
    expect(s.match('a')).toMatchObject({ code: 'x', message: 'custom' });
  });

  it('rejects malformed rules', () => {
    const s = new FaultScript<Op, Code>();
    expect(() => s.inject({ op: 'a', code: 'x', times: 0 })).toThrow(RangeError);
    expect(() => s.inject({ op: 'a', code: 'x', times: 1.5 })).toThrow(RangeError);
    expect(() => s.inject({ op: 'a', code: 'x', atStep: 0 })).toThrow(RangeError);
    expect(s.pending()).toEqual([]);
  });
});
