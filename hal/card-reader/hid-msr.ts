/**
 * Driver for a USB magnetic stripe reader in keyboard-emulation mode, read through node-hid (hidraw on Linux).
 *
 * The reader "types" the tracks as HID boot-protocol keyboard reports (8 bytes: modifier, reserved, 6 keycodes).
 * HidKeyboardDecoder turns reports into characters (US layout). A swipe ends on silence measured on the injected
 * Clock, never on Enter alone: many readers send Enter after each track, and the tracks of one swipe must stay one
 * card. iso7813.parseSwipe validates it. A swipe is taken only by the wait it was made for: one made while nobody
 * waited (the terminal idle) is discarded unread at the next wait and reported as 'swipe-discarded'.
 *
 * Hot plug: a read error or unplug ('error' from node-hid) ends the handle; the reader reports 'not-connected' and
 * reopens with backoff on the Clock (hal/reconnect/) until it is back or close() is called.
 *
 * Linux deployment notes: the hidraw node needs a udev rule granting the terminal's user access, and while the
 * kernel's keyboard driver is bound to the reader the swipe is ALSO typed into whatever console has focus: the
 * reader's input device must be inhibited (docs/install.md) or switched to its vendor/HID-POS mode.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { Waiter } from './waiter.js';
import type { BackoffPolicy } from '../backoff.js';
import { healthOfChange } from '../reconnect/health.js';
import { Reconnector } from '../reconnect/reconnector.js';
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
import { ENTER, HID_REPORT_BYTES, HidKeyboardDecoder } from './hid-keyboard.js';
import { isSwipeFailure, parseSwipe, swipeFault, type SwipeFailure } from './iso7813.js';

export { HID_REPORT_BYTES, HidKeyboardDecoder } from './hid-keyboard.js';

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

/** `usbInterface`: open that USB interface of the device (a reader with a keyboard and a vendor interface). */
export type OpenHidDevice = (
  vendorId: number,
  productId: number,
  usbInterface?: number,
) => HidDeviceLike | Promise<HidDeviceLike>;

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
  /**
   * The device prefixes each report with a report-ID byte (9-byte reports): `true` takes any ID, a number takes only
   * reports with that ID (others, e.g. consumer-control keys on the same interface, are dropped). Default false.
   */
  reportId?: boolean | number;
  /** The USB interface number to open (bInterfaceNumber); default: the first the system lists for the ids. */
  usbInterface?: number;
  /** Reopen delays after the reader went away or could not be opened. Default 0.5 s to 30 s. */
  reconnect?: BackoffPolicy;
}

/** A stuck key or a runaway device must not grow the buffer without bound; a real swipe is under 200 characters. */
export const MAX_SWIPE_CHARS = 512;
const DEFAULT_INTER_CHAR_MS = 200;
const DEFAULT_INTER_TRACK_MS = 100;

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
  private readonly reconnector: Reconnector;
  private readonly decoder = new HidKeyboardDecoder();
  private device: HidDeviceLike | undefined;
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
    this.reportBytes = HID_REPORT_BYTES + (options.reportId === undefined || options.reportId === false ? 0 : 1);
    this.reconnector = new Reconnector({
      clock: this.clock,
      connect: () => this.doOpen(),
      ...(options.reconnect ? { policy: options.reconnect } : {}),
      onChange: (change) => this.events.emit('health', healthOfChange('card-reader', change, errorText)),
    });
  }

  on<E extends keyof CardReaderEvents>(event: E, listener: Listener<CardReaderEvents[E]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Opening an open reader is a no-op; one that is absent is taken up with backoff once plugged in. */
  async open(): Promise<void> {
    return this.reconnector.open();
  }

  async close(): Promise<void> {
    this.reconnector.stop();
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
      device = await this.openDevice(this.options.vendorId, this.options.productId, this.options.usbInterface);
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
    device.on('error', (error: Error) => {
      if (this.device !== device) return;
      // Unplugged or the read failed: the handle is dead, and whatever was mid-swipe is lost.
      this.detach();
      closeQuietly(device);
      this.reconnector.lost(fault('not-connected', `HID reader lost: ${errorText(error)}`));
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
      const id = bytes[offset];
      offset += this.reportBytes;
      // Another report of the same interface (its own ID): not typed text.
      if (typeof this.options.reportId === 'number' && id !== this.options.reportId) continue;
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

/**
 * Loaded on first open only, so the module (and the tests) load on a machine without the native addon's device.
 * With a USB interface named, the device is opened by the path the system lists for that interface.
 */
async function openNodeHid(vendorId: number, productId: number, usbInterface?: number): Promise<HidDeviceLike> {
  const hid = await import('node-hid');
  if (usbInterface === undefined) return new hid.HID(vendorId, productId);
  const found = (await hid.devicesAsync(vendorId, productId)).find((d) => d.interface === usbInterface);
  if (!found?.path) throw new Error(`no interface ${usbInterface} on ${hex4(vendorId)}:${hex4(productId)}`);
  return new hid.HID(found.path);
}
