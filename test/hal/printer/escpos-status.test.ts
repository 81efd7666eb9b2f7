import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PRINTER_STATUS_OK, faultFromStatus, type PrinterStatus } from '../../../hal/printer/contract.js';
import {
  EscPosStatusError,
  decodeErrorCauseByte,
  decodeOfflineCauseByte,
  decodePaperSensorByte,
  decodePrinterStatusByte,
  decodeRealtimeStatus,
  isStatusByte,
  parseStatusReplies,
  statusRequest,
} from '../../../hal/printer/escpos-status.js';

const CLEAN = [0x12, 0x12, 0x12, 0x12];
/** Clean replies with one reply's bits set. */
const withBits = (n: 1 | 2 | 3 | 4, bits: number): number[] => CLEAN.map((b, i) => (i === n - 1 ? b | bits : b));

describe('ESC/POS status bytes', () => {
  it('accepts exactly the 16 bytes matching 0b0xx1xx10', () => {
    const valid = Array.from({ length: 256 }, (_, b) => b).filter(isStatusByte);
    expect(valid).toHaveLength(16);
    for (const b of valid) expect(b & 0b1001_0011).toBe(0b0001_0010);
    expect([0x12, 0x1a, 0x32, 0x7e].every(isStatusByte)).toBe(true);
    expect([0x00, 0xff, 0x13, 0x92, 0x10, 0x02, -1, 256, 1.5, NaN].some(isStatusByte)).toBe(false);
  });

  it('builds DLE EOT n requests', () => {
    expect([...statusRequest(1)]).toEqual([0x10, 0x04, 0x01]);
    expect([...statusRequest(4)]).toEqual([0x10, 0x04, 0x04]);
  });

  it('names every bit of n=1 (printer)', () => {
    expect(decodePrinterStatusByte(0x12)).toEqual({
      drawerPin3: false,
      offline: false,
      waitingOnlineRecovery: false,
      feedButtonPressed: false,
    });
    expect(decodePrinterStatusByte(0x12 | 0x04).drawerPin3).toBe(true);
    expect(decodePrinterStatusByte(0x12 | 0x08).offline).toBe(true);
    expect(decodePrinterStatusByte(0x12 | 0x20).waitingOnlineRecovery).toBe(true);
    expect(decodePrinterStatusByte(0x12 | 0x40).feedButtonPressed).toBe(true);
  });

  it('names every bit of n=2 (offline cause)', () => {
    expect(decodeOfflineCauseByte(0x12)).toEqual({
      coverOpen: false,
      paperFedByButton: false,
      paperEndStop: false,
      error: false,
    });
    expect(decodeOfflineCauseByte(0x12 | 0x04).coverOpen).toBe(true);
    expect(decodeOfflineCauseByte(0x12 | 0x08).paperFedByButton).toBe(true);
    expect(decodeOfflineCauseByte(0x12 | 0x20).paperEndStop).toBe(true);
    expect(decodeOfflineCauseByte(0x12 | 0x40).error).toBe(true);
  });

  it('names every bit of n=3 (error cause)', () => {
    expect(decodeErrorCauseByte(0x12)).toEqual({
      recoverableError: false,
      autoCutterError: false,
      unrecoverableError: false,
      autoRecoverableError: false,
    });
    expect(decodeErrorCauseByte(0x12 | 0x04).recoverableError).toBe(true);
    expect(decodeErrorCauseByte(0x12 | 0x08).autoCutterError).toBe(true);
    expect(decodeErrorCauseByte(0x12 | 0x20).unrecoverableError).toBe(true);
    expect(decodeErrorCauseByte(0x12 | 0x40).autoRecoverableError).toBe(true);
  });

  it('names the bit pairs of n=4 (roll paper sensor), either bit of a pair counting', () => {
    expect(decodePaperSensorByte(0x12)).toEqual({ nearEnd: false, end: false });
    expect(decodePaperSensorByte(0x12 | 0x0c)).toEqual({ nearEnd: true, end: false });
    expect(decodePaperSensorByte(0x12 | 0x04).nearEnd).toBe(true);
    expect(decodePaperSensorByte(0x12 | 0x08).nearEnd).toBe(true);
    expect(decodePaperSensorByte(0x12 | 0x60)).toEqual({ nearEnd: false, end: true });
    expect(decodePaperSensorByte(0x12 | 0x20).end).toBe(true);
    expect(decodePaperSensorByte(0x12 | 0x40).end).toBe(true);
  });
});

describe('ESC/POS status → PrinterStatus', () => {
  it('clean replies are all clear', () => {
    expect(parseStatusReplies(CLEAN)).toEqual(PRINTER_STATUS_OK);
  });

  it('reads the reference example 0x1A / 0x32 / 0x7E as out of paper', () => {
    const status = parseStatusReplies([0x1a, 0x32, 0x12, 0x7e]);
    expect(status).toEqual({ ...PRINTER_STATUS_OK, online: false, paper: 'out' });
    expect(faultFromStatus(status)).toBe('paper-out');
    const bits = decodeRealtimeStatus([0x1a, 0x32, 0x12, 0x7e]);
    expect(bits.printer.offline).toBe(true);
    expect(bits.offlineCause.paperEndStop).toBe(true);
    expect(bits.paperSensor).toEqual({ nearEnd: true, end: true });
  });

  it.each<[string, number[], Partial<PrinterStatus>, string | undefined]>([
    ['offline (n1 bit 3)', withBits(1, 0x08), { online: false }, 'offline'],
    ['cover open (n2 bit 2)', withBits(2, 0x04), { coverOpen: true }, 'cover-open'],
    ['paper end stop (n2 bit 5)', withBits(2, 0x20), { paper: 'out' }, 'paper-out'],
    ['error without a cause (n2 bit 6)', withBits(2, 0x40), { online: false }, 'offline'],
    ['recoverable error / jam (n3 bit 2)', withBits(3, 0x04), { jammed: true }, 'jam'],
    ['auto-cutter error (n3 bit 3)', withBits(3, 0x08), { cutterError: true }, 'cutter-fault'],
    ['unrecoverable error (n3 bit 5)', withBits(3, 0x20), { unrecoverableError: true }, 'unrecoverable'],
    ['auto-recoverable error / overheat (n3 bit 6)', withBits(3, 0x40), { overheated: true }, 'overheat'],
    ['paper near end (n4 bits 2+3)', withBits(4, 0x0c), { paper: 'near-end' }, undefined],
    ['paper end (n4 bits 5+6)', withBits(4, 0x60), { paper: 'out' }, 'paper-out'],
  ])('maps %s', (_name, replies, expected, fault) => {
    const status = parseStatusReplies(replies);
    expect(status).toEqual({ ...PRINTER_STATUS_OK, ...expected });
    expect(faultFromStatus(status)).toBe(fault);
  });

  it('keeps the named cause when the error bit comes with one', () => {
    const status = parseStatusReplies([0x1a, 0x12 | 0x40, 0x12 | 0x04, 0x12]);
    expect(status).toEqual({ ...PRINTER_STATUS_OK, online: false, jammed: true });
    expect(faultFromStatus(status)).toBe('jam');
  });

  it('ignores the bits that stop nothing (drawer, feed button, waiting for recovery, paper fed)', () => {
    expect(parseStatusReplies([0x12 | 0x04 | 0x20 | 0x40, 0x12 | 0x08, 0x12, 0x12])).toEqual(PRINTER_STATUS_OK);
  });

  it('throws a typed error naming the query and byte for a byte off the pattern', () => {
    let error: unknown;
    try {
      parseStatusReplies([0x12, 0xff, 0x12, 0x12]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EscPosStatusError);
    expect(error).toMatchObject({ reason: 'not-a-status-byte', query: 2, value: 0xff });
    expect(() => parseStatusReplies([0x12, 0x12, 0x12])).toThrow(EscPosStatusError);
    expect(() => parseStatusReplies([0x12, 0x12, 0x12])).toThrow(/expected 4 status replies/);
  });
});

describe('ESC/POS status parser properties', () => {
  const anyReply = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer(), fc.double());

  it('never throws anything but EscPosStatusError, whatever it is given', () => {
    fc.assert(
      fc.property(fc.array(anyReply, { maxLength: 6 }), (replies) => {
        try {
          const status = parseStatusReplies(replies);
          expect(replies).toHaveLength(4);
          expect(replies.every(isStatusByte)).toBe(true);
          expect(['ok', 'near-end', 'out']).toContain(status.paper);
        } catch (error) {
          expect(error).toBeInstanceOf(EscPosStatusError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses every combination of valid bytes, and a set fault bit always blocks printing', () => {
    const validByte = fc.constantFrom(...Array.from({ length: 256 }, (_, b) => b).filter(isStatusByte));
    fc.assert(
      fc.property(fc.tuple(validByte, validByte, validByte, validByte), (replies) => {
        const status = parseStatusReplies(replies);
        const [n1, n2, n3, n4] = replies;
        const blocking = (n1 & 0x08) !== 0 || (n2 & 0x64) !== 0 || (n3 & 0x6c) !== 0 || (n4 & 0x60) !== 0;
        expect(faultFromStatus(status) !== undefined).toBe(blocking);
      }),
    );
  });
});
