/** The deadline index against a plain map of deadlines, over random schedules, removals and takes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineIndex } from '../../src/fleet/deadlines.js';

type Op = { op: 'schedule'; key: number; at: number } | { op: 'remove'; key: number } | { op: 'take'; at: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('schedule' as const), key: fc.nat(20), at: fc.nat(1_000) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), key: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('take' as const), at: fc.nat(1_000) }) },
);

describe('DeadlineIndex', () => {
  it('takes exactly the keys whose earliest deadline has passed, earliest first, each once', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const index = new DeadlineIndex();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.op === 'schedule') {
            index.schedule(`k${o.key}`, o.at);
            const current = model.get(`k${o.key}`);
            if (current === undefined || o.at < current) model.set(`k${o.key}`, o.at);
          } else if (o.op === 'remove') {
            index.remove(`k${o.key}`);
            model.delete(`k${o.key}`);
          } else {
            const expected = [...model].filter(([, at]) => at <= o.at).sort((a, b) => a[1] - b[1]);
            const taken = index.takeDue(o.at);
            expect(new Set(taken)).toEqual(new Set(expected.map(([k]) => k)));
            expect(taken.map((k) => model.get(k))).toEqual(expected.map(([, at]) => at));
            for (const k of taken) model.delete(k);
          }
          expect(index.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('ignores Infinity and keeps an earlier deadline when a later one is asked for', () => {
    const index = new DeadlineIndex();
    index.schedule('a', Number.POSITIVE_INFINITY);
    expect(index.size).toBe(0);
    index.schedule('a', 10);
    index.schedule('a', 50);
    expect(index.deadline('a')).toBe(10);
    expect(index.takeDue(9)).toEqual([]);
    expect(index.takeDue(10)).toEqual(['a']);
    expect(index.takeDue(100)).toEqual([]);
  });
});
