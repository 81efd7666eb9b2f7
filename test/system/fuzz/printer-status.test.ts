/**
 * Fuzz: status bytes from the ESC/POS printer. The replies to DLE EOT 1..4 go through parseStatusReplies, which may
 * only return a PrinterStatus or throw EscPosStatusError; then byte streams go through the serial driver's status()
 * (a fake port answering each request, timeouts on the ManualClock), which may only resolve with the status the first
 * status byte of each reply says, or reject 'offline'. After garbage a clean printer must read as all clear.
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { DeviceFaultError } from '../../../hal/fault.js';
import { PRINTER_STATUS_OK, type PrinterStatus } from '../../../hal/printer/contract.js';
import { EscPosSerialPrinter, type SerialPortLike } from '../../../hal/printer/escpos-serial.js';
import {
  EscPosStatusError,
  isStatusByte,
  parseStatusReplies,
  type EscPosStatusErrorReason,
} from '../../../hal/printer/escpos-status.js';
import { CASES, fcParams, FuzzFailure, scaled, Tally, timeoutFor } from './budget.js';
import { applyByteMutations, biasedBytes, byteMutation, mutationList } from './mutate.js';

const SURFACE = 'printer-status';
const REASONS: readonly EscPosStatusErrorReason[] = ['not-a-status-byte', 'wrong-reply-count'];
const TIMEOUT_MS = 200;

/** A real-time status reply: fixed bits 0b0xx1xx10, the four meaningful bits (2, 3, 5, 6) random. */
const statusByte = fc.integer({ min: 0, max: 15 }).map((n) => 0x12 | ((n & 3) << 2) | ((n & 12) << 3));
const STATUS_BYTES = [0x12, 0x16, 0x1a, 0x1e, 0x32, 0x52, 0x72, 0x7e, 0x92, 0x13, 0x10, 0x00, 0xff];

function asBytes(values: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(Array.from(values, (v) => (Number.isInteger(v) && v >= 0 && v <= 255 ? v : 0)));
}

/** Replies as the driver collects them, damaged, random, or not even bytes (a caller's bug must still be typed). */
const replies: fc.Arbitrary<number[]> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.array(statusByte, { minLength: 4, maxLength: 4 }), mutationList(byteMutation, 2))
      .map(([v, m]) => Array.from(applyByteMutations(Uint8Array.from(v), m, STATUS_BYTES))),
  },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.oneof(
        statusByte,
        fc.integer(),
        fc.double(),
        fc.constantFrom(-1, 256, 0x12 + 0.5, Number.NaN, Infinity, -0x12, 0x112),
      ),
      { minLength: 3, maxLength: 5 },
    ),
  },
);

function checkStatus(s: PrinterStatus, input: Uint8Array): void {
  const flags = [s.online, s.coverOpen, s.jammed, s.cutterError, s.overheated, s.unrecoverableError];
  if (
    !flags.every((f) => typeof f === 'boolean') ||
    !['ok', 'near-end', 'out'].includes(s.paper) ||
    Object.keys(s).length !== 7
  ) {
    throw new FuzzFailure(SURFACE, `malformed status ${JSON.stringify(s)}`, input);
  }
}

describe('fuzz: ESC/POS status replies', () => {
  it(
    `${CASES} reply sets through parseStatusReplies: a status exactly when all four are status bytes, else EscPosStatusError`,
    () => {
      const tally = new Tally(SURFACE);
      fc.assert(
        fc.property(replies, (r) => {
          tally.begin();
          const input = asBytes(r);
          const valid = r.length === 4 && r.every((b) => isStatusByte(b));
          let status: PrinterStatus;
          try {
            status = parseStatusReplies(r);
          } catch (err) {
            if (!(err instanceof EscPosStatusError) || !REASONS.includes(err.reason))
              throw new FuzzFailure(SURFACE, 'untyped error', input, err);
            if (valid) throw new FuzzFailure(SURFACE, 'refused four status bytes', input, err);
            if ((err.reason === 'wrong-reply-count') !== (r.length !== 4))
              throw new FuzzFailure(SURFACE, `wrong reason ${err.reason}`, input);
            tally.add(`error:${err.reason}`);
            return;
          }
          if (!valid) throw new FuzzFailure(SURFACE, `accepted ${JSON.stringify(r)}`, input);
          checkStatus(status, input);
          tally.add('accepted');
        }),
        fcParams(SURFACE, CASES),
      );
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      for (const reason of REASONS) expect([...tally.counts.keys()]).toContain(`error:${reason}`);
    },
    timeoutFor(CASES, 1),
  );
});

// ---- through the serial driver ----

/** A port that answers each write with the next scripted reply, at once, as one data event. */
class ScriptedPort extends EventEmitter implements SerialPortLike {
  isOpen = false;
  script: Uint8Array[] = [];
  open(callback: (err: Error | null) => void): void {
    this.isOpen = true;
    callback(null);
  }
  close(callback: (err: Error | null) => void): void {
    this.isOpen = false;
    callback(null);
  }
  write(_data: Buffer, callback: (err: Error | null | undefined) => void): boolean {
    callback(null);
    const reply = this.script.shift();
    if (reply !== undefined && reply.length > 0) this.emit('data', Buffer.from(reply));
    return true;
  }
  drain(callback: (err: Error | null) => void): void {
    callback(null);
  }
}

/** One reply per status request: a clean byte, noise around it, noise alone, or nothing. */
const replyStream = fc.oneof(
  { weight: 3, arbitrary: statusByte.map((b) => Uint8Array.of(b)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(biasedBytes(STATUS_BYTES, 6), statusByte, biasedBytes(STATUS_BYTES, 4))
      .map(([a, b, c]) => Uint8Array.from([...a, b, ...c])),
  },
  { weight: 1, arbitrary: biasedBytes(STATUS_BYTES, 8) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
);

async function settle<T>(
  promise: Promise<T>,
  clock: ManualClock,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then(
    (value) => (result = { ok: true, value }),
    (error: unknown) => (result = { ok: false, error }),
  );
  // Each request waits at most TIMEOUT_MS; a failed one ends the read, so a few rounds are always enough.
  for (let i = 0; i < 6 && result === undefined; i++) await clock.advance(TIMEOUT_MS);
  if (result === undefined) throw new Error('status() did not settle');
  return result;
}

describe('fuzz: ESC/POS status over the serial driver', () => {
  const cases = scaled(1 / 4, 500, 250_000);

  it(
    `${cases} reply streams through EscPosSerialPrinter.status(): the first status byte of each reply, or 'offline'`,
    async () => {
      const tally = new Tally(`${SURFACE}-driver`);
      await fc.assert(
        fc.asyncProperty(fc.array(replyStream, { minLength: 4, maxLength: 4 }), async (script) => {
          tally.begin();
          const input = Buffer.concat(script);
          const clock = new ManualClock();
          const port = new ScriptedPort();
          const printer = new EscPosSerialPrinter({
            path: '/dev/fuzz',
            baudRate: 115_200,
            clock,
            statusTimeoutMs: TIMEOUT_MS,
            openPort: () => port,
          });
          await printer.open();
          port.script = script.map((r) => Uint8Array.from(r));

          const firsts = script.map((r) => Array.from(r).find((b) => isStatusByte(b)));
          const failing = firsts.indexOf(undefined);
          const result = await settle(printer.status(), clock);
          if (result.ok) {
            if (failing !== -1)
              throw new FuzzFailure(SURFACE, `status read although reply ${failing + 1} has no status byte`, input);
            const expected = parseStatusReplies(firsts as number[]);
            if (JSON.stringify(result.value) !== JSON.stringify(expected))
              throw new FuzzFailure(SURFACE, 'status differs from its bytes', input);
            tally.add('accepted');
          } else {
            const err = result.error;
            if (!(err instanceof DeviceFaultError) || err.device !== 'printer' || err.code !== 'offline') {
              throw new FuzzFailure(SURFACE, 'status() rejected with an untyped error', input, err);
            }
            if (failing === -1 || err.detail?.query !== failing + 1)
              throw new FuzzFailure(SURFACE, `offline blamed on the wrong request`, input);
            tally.add(err.detail?.garbled === true ? 'error:offline-garbled' : 'error:offline-silent');
          }

          // Clean state: a printer that now answers all clear reads as all clear.
          port.script = [[0x12], [0x12], [0x12], [0x12]].map((r) => Uint8Array.from(r));
          const after = await settle(printer.status(), clock);
          if (!after.ok || JSON.stringify(after.value) !== JSON.stringify(PRINTER_STATUS_OK)) {
            throw new FuzzFailure(
              SURFACE,
              'a clean printer after this input did not read all clear',
              input,
              after.ok ? undefined : after.error,
            );
          }
          await printer.close();
        }),
        fcParams(`${SURFACE}-driver`, cases),
      );
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
    },
    timeoutFor(cases, 3),
  );
});
