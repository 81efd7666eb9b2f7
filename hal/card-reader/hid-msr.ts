/**
 * Driver for a USB magnetic stripe reader in keyboard-emulation mode, read through node-hid (hidraw on Linux).
 *
 * The reader "types" the tracks as HID boot-protocol keyboard reports (8 bytes: modifier, reserved, 6 keycodes).
 * HidKeyboardDecoder turns reports into characters (US layout). A swipe ends on silence measured on the injected
 * Clock, never on Enter alone: many readers send Enter after each track, and the tracks of one swipe must stay one
 * card. iso7813.parseSwipe validates it. A swipe is taken only by the wait it was made for: one made while nobody
 * waited (the terminal idle) is discarded unread at the next wait and reported as 'swipe-discarded'.
 *
 * Linux deployment notes: the hidraw node needs a udev rule granting the terminal's user access, and while the
 * kernel's keyboard driver is bound to the reader the swipe is ALSO typed into whatever console has focus. Bind the
 * reader away from hid-generic input (or use its vendor/HID-POS mode) on a production image.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { Waiter } from './waiter.js';
import { DeviceFaultError } from '../fault.js';
import { TypedEmitter, type Listener, type Unsubscribe } from '../events.js';
import type {
  CardData,
  CardReader,
  CardReaderEvents,
  CardReaderFaultCode,
  CardReaderInfo,
  CardWaitOptions,
  EntryMode,
} from './contract.js';
import { isSwipeFailure, parseSwipe, swipeFault, type SwipeFailure } from './iso7813.js';

/** What the driver uses of node-hid's device info. */
export interface HidDeviceInfoLike {
  /** bcdDevice: the firmware release, e.g. 0x0102 for 1.02. */
  release?: number;
  serialNumber?: string | undefined;
  product?: string | undefined;
}

/** The subset of node-hid's `HID` object the driver uses; a test passes a fake with the same shape. */
export interface HidDeviceLike {
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): void;
  getDeviceInfo?(): HidDeviceInfoLike;
}

export type OpenHidDevice = (vendorId: number, productId: number) => HidDeviceLike | Promise<HidDeviceLike>;

export interface HidMsrReaderOptions {
  vendorId: number;
  productId: number;
  clock?: Clock;
  /** Default: `new HID.HID(vendorId, productId)` from node-hid, loaded on first open. */
  openDevice?: OpenHidDevice;
  /** A swipe not ended by Enter ends after this much silence. Default 200 ms (readers type every few ms). */
  interCharTimeoutMs?: number;
  /**
   * After an Enter, the next track of the same swipe must start within this much silence, or the swipe is over.
   * Default 100 ms: a reader types its tracks back to back, a person cannot swipe twice that fast.
   */
  interTrackGapMs?: number;
  /** The device prefixes each report with a report-ID byte (9-byte reports). Default false (plain boot keyboard). */
  reportId?: boolean;
}

export const HID_REPORT_BYTES = 8;
/** A stuck key or a runaway device must not grow the buffer without bound; a real swipe is under 200 characters. */
export const MAX_SWIPE_CHARS = 512;
const DEFAULT_INTER_CHAR_MS = 200;
const DEFAULT_INTER_TRACK_MS = 100;

// ---- HID usage table, US layout ----

const ENTER = '\r';
/** Stands for a key we cannot map, so the parse fails instead of silently dropping a digit. */
const UNKNOWN = '\uFFFD';
const SHIFT_BITS = 0x22; // left and right shift
const NON_TEXT_BITS = 0xdd; // ctrl, alt, gui: chords that type no text

const PLAIN: Record<number, string> = {};
const SHIFTED: Record<number, string> = {};
for (let i = 0; i < 26; i++) {
  PLAIN[0x04 + i] = String.fromCharCode(0x61 + i);
  SHIFTED[0x04 + i] = String.fromCharCode(0x41 + i);
}
for (const [i, c] of [...'1234567890'].entries()) PLAIN[0x1e + i] = c;
for (const [i, c] of [...'!@#$%^&*()'].entries()) SHIFTED[0x1e + i] = c;
const PAIRS: [number, string, string][] = [
  [0x28, ENTER, ENTER],
  [0x2b, '\t', '\t'],
  [0x2c, ' ', ' '],
  [0x2d, '-', '_'],
  [0x2e, '=', '+'],
  [0x2f, '[', '{'],
  [0x30, ']', '}'],
  [0x31, '\\', '|'],
  [0x32, '#', '~'],
  [0x33, ';', ':'],
  [0x34, "'", '"'],
  [0x35, '`', '~'],
  [0x36, ',', '<'],
  [0x37, '.', '>'],
  [0x38, '/', '?'],
  // Keypad: some readers type digits there; NumLock state is not ours to know, so digits are assumed.
  [0x54, '/', '/'],
  [0x55, '*', '*'],
  [0x56, '-', '-'],
  [0x57, '+', '+'],
  [0x58, ENTER, ENTER],
  [0x62, '0', '0'],
  [0x63, '.', '.'],
];
for (const [code, plain, shifted] of PAIRS) {
  PLAIN[code] = plain;
  SHIFTED[code] = shifted;
}
for (let i = 0; i < 9; i++) {
  PLAIN[0x59 + i] = String(i + 1);
  SHIFTED[0x59 + i] = String(i + 1);
}

/**
 * Turns boot-protocol keyboard reports into typed characters. A key types once, in the report where it first
 * appears; it types again only after a report without it (so a repeated report, key bounce or rollover where the
 * next key goes down before the previous one is released all come out right).
 */
export class HidKeyboardDecoder {
  private held: number[] = [];

  /** Characters newly typed by this report (Enter as '\r'). A report that is not 8 bytes types nothing. */
  decode(report: Uint8Array): string {
    if (report.length !== HID_REPORT_BYTES) return '';
    const modifier = report[0] ?? 0;
    const keys: number[] = [];
    for (let i = 2; i < HID_REPORT_BYTES; i++) {
      const key = report[i] ?? 0;
      // ErrorRollOver / POSTFail / ErrorUndefined: the report says nothing about which keys are down.
      if (key >= 0x01 && key <= 0x03) return '';
      if (key !== 0) keys.push(key);
    }
    let out = '';
    if ((modifier & NON_TEXT_BITS) === 0) {
      const table = modifier & SHIFT_BITS ? SHIFTED : PLAIN;
      for (const key of keys) {
        if (this.held.includes(key)) continue;
        // Modifier usages (0xE0..0xE7) in the key array are not typed characters.
        if (key >= 0xe0 && key <= 0xe7) continue;
        out += table[key] ?? UNKNOWN;
      }
    }
    this.held = keys;
    return out;
  }

  reset(): void {
    this.held = [];
  }
}

// ---- driver ----

type Swipe = ({ ok: true; card: CardData } | { ok: false; failure: SwipeFailure; entryMode: EntryMode }) & {
  /** Clock time of the swipe's first character. */
  startedAt: number;
};

export class HidMsrReader implements CardReader {
  private readonly events = new TypedEmitter<CardReaderEvents>();
  private readonly clock: Clock;
  private readonly openDevice: OpenHidDevice;
  private readonly interCharTimeoutMs: number;
  private readonly interTrackGapMs: number;
  private readonly reportBytes: number;
  private readonly decoder = new HidKeyboardDecoder();
  private device: HidDeviceLike | undefined;
  private opening: Promise<void> | undefined;
  /** Bytes of a report split across data events (hidraw delivers whole reports; other stacks may not). */
  private partial: Buffer = Buffer.alloc(0);
  /** Clock time of the last data event, to tell a split report from a fragment left before a silence. */
  private lastDataAt = 0;
  private typed = '';
  /** Clock time of the first character of the swipe being typed. */
  private typingSince: number | undefined;
  private overflow = false;
  private gapTimer: TimerHandle | undefined;
  /** The last completed swipe, until read() takes it. */
  private swipe: Swipe | undefined;
  private chipAttempted = false;
  private cardWait: Waiter<{ entryMode: EntryMode }> | undefined;
  /** Clock time the pending wait began: a swipe started before it was not made for it. */
  private waitSince = 0;

  constructor(private readonly options: HidMsrReaderOptions) {
    this.clock = options.clock ?? systemClock;
    this.openDevice = options.openDevice ?? openNodeHid;
    this.interCharTimeoutMs = options.interCharTimeoutMs ?? DEFAULT_INTER_CHAR_MS;
    this.interTrackGapMs = options.interTrackGapMs ?? DEFAULT_INTER_TRACK_MS;
    this.reportBytes = HID_REPORT_BYTES + (options.reportId ? 1 : 0);
  }

  on<E extends keyof CardReaderEvents>(event: E, listener: Listener<CardReaderEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.device) return;
    this.opening ??= this.doOpen().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  async close(): Promise<void> {
    const device = this.device;
    this.detach();
    if (device) closeQuietly(device);
  }

  async info(): Promise<CardReaderInfo> {
    const device = this.ensureOpen();
    const { vendorId, productId } = this.options;
    const info: CardReaderInfo = { model: `HID MSR ${hex4(vendorId)}:${hex4(productId)}`, firmware: 'unknown' };
    try {
      const di = device.getDeviceInfo?.();
      if (di && typeof di.release === 'number') info.firmware = bcdVersion(di.release);
      if (di?.serialNumber) info.serial = di.serialNumber;
    } catch {
      // Some platforms cannot answer; the model alone still identifies the reader.
    }
    return info;
  }

  async waitForCard(opts: CardWaitOptions): Promise<{ entryMode: EntryMode }> {
    this.ensureOpen();
    if (this.cardWait) throw fault('busy', 'already waiting for a card');
    if (opts.signal?.aborted) throw fault('cancelled', 'wait for card aborted');
    // Whatever was swiped before this wait was made while idle, however recent: never charged to this one.
    if (this.swipe) this.discard(this.swipe);
    this.waitSince = this.clock.now();
    const waiter = new Waiter<{ entryMode: EntryMode }>(
      this.clock,
      opts,
      () => fault('timeout', `no swipe within ${opts.timeoutMs} ms`),
      () => fault('cancelled', 'wait for card aborted'),
      () => {
        this.cardWait = undefined;
      },
    );
    this.cardWait = waiter;
    return waiter.promise;
  }

  async read(): Promise<CardData> {
    this.ensureOpen();
    const swipe = this.swipe;
    this.swipe = undefined;
    if (!swipe) throw swipeFault({ code: 'read-failed', reason: 'empty' });
    if (!swipe.ok) throw swipeFault(swipe.failure);
    this.chipAttempted = false;
    return { ...swipe.card };
  }

  /** A swipe reader never holds the card. */
  async waitForRemoval(opts: CardWaitOptions): Promise<void> {
    this.ensureOpen();
    if (opts.signal?.aborted) throw fault('cancelled', 'wait for removal aborted');
  }

  /**
   * The chip was tried (on the chip reader) and failed: the next swipe is a fallback and reads as
   * 'fallback-swipe'. Cleared once a swipe is read successfully.
   */
  setChipAttempted(attempted: boolean): void {
    this.chipAttempted = attempted;
  }

  get opened(): boolean {
    return this.device !== undefined;
  }

  // ---- internals ----

  private async doOpen(): Promise<void> {
    let device: HidDeviceLike;
    try {
      device = await this.openDevice(this.options.vendorId, this.options.productId);
    } catch (error) {
      throw fault('not-connected', `cannot open HID reader: ${errorText(error)}`, {
        vendorId: this.options.vendorId,
        productId: this.options.productId,
      });
    }
    this.device = device;
    this.resetAssembly();
    this.swipe = undefined;
    device.on('data', (data: Buffer) => {
      if (this.device === device) this.onData(data);
    });
    device.on('error', () => {
      if (this.device !== device) return;
      // Unplugged or the read failed: the handle is dead, and whatever was mid-swipe is lost.
      this.detach();
      closeQuietly(device);
    });
  }

  private onData(data: Buffer): void {
    const now = this.clock.now();
    // A report is not split across a silence: bytes left from before one are a lost fragment, and keeping them
    // would misalign every report after it for good.
    if (this.partial.length > 0 && now - this.lastDataAt > this.interCharTimeoutMs) this.partial = Buffer.alloc(0);
    this.lastDataAt = now;
    let bytes = this.partial.length === 0 ? data : Buffer.concat([this.partial, data]);
    let offset = 0;
    while (bytes.length - offset >= this.reportBytes) {
      const report = bytes.subarray(offset + this.reportBytes - HID_REPORT_BYTES, offset + this.reportBytes);
      offset += this.reportBytes;
      for (const c of this.decoder.decode(report)) this.onChar(c);
    }
    bytes = bytes.subarray(offset);
    this.partial = bytes.length === 0 ? Buffer.alloc(0) : Buffer.from(bytes);
  }

  private onChar(c: string): void {
    // A blank stripe types Enter alone: that too is a swipe (it fails 'empty').
    this.typingSince ??= this.clock.now();
    if (c === ENTER) {
      // Enter ends a track, perhaps not the swipe: the next track may follow at once.
      this.restartGap(this.interTrackGapMs);
      return;
    }
    if (this.typed.length >= MAX_SWIPE_CHARS) this.overflow = true;
    else this.typed += c;
    this.restartGap(this.interCharTimeoutMs);
  }

  private restartGap(ms: number): void {
    this.gapTimer?.cancel();
    this.gapTimer = this.clock.setTimeout(() => this.completeSwipe(), ms);
  }

  private completeSwipe(): void {
    const text = this.typed;
    const overflow = this.overflow;
    const startedAt = this.typingSince ?? this.clock.now();
    this.resetAssembly();
    const entryMode: EntryMode = this.chipAttempted ? 'fallback-swipe' : 'swipe';
    const parsed: CardData | SwipeFailure = overflow
      ? { code: 'read-failed', reason: 'bad-length' }
      : parseSwipe(text, { now: this.clock.now(), chipAttempted: this.chipAttempted });
    const swipe: Swipe = isSwipeFailure(parsed)
      ? { ok: false, failure: parsed, entryMode, startedAt }
      : { ok: true, card: parsed, startedAt };
    // Begun before the pending wait: half of it was typed while idle, so it is not this transaction's card either.
    if (this.cardWait && startedAt < this.waitSince) {
      this.discard(swipe);
      return;
    }
    this.swipe = swipe;
    this.events.emit('card-presented', { entryMode });
    this.cardWait?.resolve({ entryMode });
  }

  /** Drops a swipe unread; the event says how old it was and nothing about the card. */
  private discard(swipe: Swipe): void {
    if (this.swipe === swipe) this.swipe = undefined;
    this.events.emit('swipe-discarded', { ageMs: Math.max(0, this.clock.now() - swipe.startedAt) });
  }

  private resetAssembly(): void {
    this.gapTimer?.cancel();
    this.gapTimer = undefined;
    this.typed = '';
    this.typingSince = undefined;
    this.overflow = false;
  }

  private detach(): void {
    this.device = undefined;
    this.resetAssembly();
    this.partial = Buffer.alloc(0);
    this.decoder.reset();
    this.swipe = undefined;
    this.cardWait?.reject(fault('not-connected', 'reader closed or unplugged'));
  }

  private ensureOpen(): HidDeviceLike {
    if (!this.device) throw fault('not-connected', 'reader not open');
    return this.device;
  }
}

// ---- helpers ----

function _entryModeOf(swipe: Swipe): EntryMode {
  return swipe.ok ? swipe.card.entryMode : swipe.entryMode;
}

function fault(
  code: CardReaderFaultCode,
  message: string,
  detail?: Record<string, string | number | boolean>,
): DeviceFaultError<CardReaderFaultCode> {
  return new DeviceFaultError('card-reader', code, message, detail);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** bcdDevice 0x0102 reads as "1.02". */
function bcdVersion(release: number): string {
  return `${(release >> 8).toString(16)}.${(release & 0xff).toString(16).padStart(2, '0')}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function closeQuietly(device: HidDeviceLike): void {
  try {
    device.close();
  } catch {
    // Already gone (unplugged): nothing left to release.
  }
}

/** Loaded on first open only, so the module (and the tests) load on a machine without the native addon's device. */
async function openNodeHid(vendorId: number, productId: number): Promise<HidDeviceLike> {
  const hid = await import('node-hid');
  return new hid.HID(vendorId, productId);
}
