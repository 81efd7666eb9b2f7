/**
 * `detect` in the fleet consumer's config: anomaly detection across the fleet (docs/anomaly-detection.md). Each
 * closed hour, every terminal's rates (declines, timeouts, reversals, read failures, offline sales, fallback
 * swipes per transaction) are compared with its own history and with its peers in the same hour.
 */
import { z } from 'zod';
import { int } from './config-fields.js';

const num = (min: number, max: number, what: string) => {
  const expected = `${what} from ${min} to ${max}`;
  return z.number({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
};
const keys = (what: string) =>
  z
    .array(z.string({ error: what }).min(1, { error: what }).max(64, { error: what }), { error: `a list of ${what}s` })
    .min(1, { error: `a list of at least one ${what}` })
    .max(100);

export const detectSchema = z.strictObject(
  {
    enabled: z.boolean({ error: 'true or false' }),
    /** An hour is judged this long after it ends, so Health sent late in it has arrived. */
    graceMinutes: num(0, 59, 'a number of minutes'),
    /** Below this many transactions in the hour a terminal's rates are not judged (too few to mean anything). */
    minTransactions: int(1, 1_000_000),
    /** And an alert needs at least this many of the counted things in the hour. */
    minCount: int(1, 1_000_000),
    /** Robust z-score against the peers in the same hour, and z-score against the terminal's own history. */
    peerZ: num(1, 100, 'a z-score'),
    historyZ: num(1, 100, 'a z-score'),
    /** One baseline alone (no history yet, too few peers, or peers that see the same) raises only at this z-score. */
    aloneZ: num(1, 100, 'a z-score'),
    /** Weight of the newest hour in the history's moving mean and variance (EWMA). */
    ewmaAlpha: num(0.001, 1, 'a weight'),
    /** Hours of history a terminal needs before its own baseline is used. */
    minHistoryHours: int(1, 10_000),
    /** Who a terminal's peers are: every terminal seen ("all"), or those of its own fleet ("fleet"). */
    peerGroup: z.enum(['all', 'fleet'], { error: '"all" or "fleet"' }),
    /** Fewer judged peers than this in the hour: no peer comparison. */
    minPeers: int(3, 1_000_000),
    /** A raised anomaly clears after this many judged hours without it. */
    clearAfterNormalHours: int(1, 1_000),
    /** The smallest rate the spread is computed at: keeps a terminal from alarming on a rate near zero. */
    rateFloor: num(0, 0.5, 'a fraction'),
    /** What is counted, by Health counter key: outcomes for declines and offline sales, anomaly codes for the rest. */
    counters: z.strictObject(
      {
        declines: keys('outcome'),
        offlineSales: keys('outcome'),
        timeouts: keys('anomaly code'),
        reversals: keys('anomaly code'),
        readFailures: keys('anomaly code'),
        fallbackSwipes: keys('anomaly code'),
      },
      { error: 'an object' },
    ),
  },
  { error: 'an object' },
);

export type DetectConfig = z.infer<typeof detectSchema>;

export const DETECT_DEFAULTS = {
  enabled: false,
  graceMinutes: 5,
  minTransactions: 20,
  minCount: 3,
  peerZ: 3.5,
  historyZ: 3.5,
  aloneZ: 4.5,
  ewmaAlpha: 0.05,
  minHistoryHours: 12,
  peerGroup: 'all',
  minPeers: 10,
  clearAfterNormalHours: 2,
  rateFloor: 0.005,
  counters: {
    declines: ['declined'],
    offlineSales: ['offline-approved'],
    timeouts: ['E101'],
    reversals: ['E104'],
    readFailures: ['E311', 'E313'],
    fallbackSwipes: ['E522'],
  },
};
