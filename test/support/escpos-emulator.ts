/**
 * An ESC/POS receipt printer on the far end of a serial pair, run in the test's own process. It answers DLE EOT 1..4
 * from its condition and GS I 65/66/67/68 (string replies) and 1..3 (one id byte), decodes print data into text lines,
 * barcodes and cuts, and takes faults from the test: conditions at once or after N printed lines, garbled replies, a
 * stall (answers and prints nothing), and bytes dropped on the way in or out.
 *
 * While any condition holds the printer is offline and throws print data away (discarding keeps what was printed
 * unambiguous for the tests), unless `holdWhileOffline` is set: then, as a real one, it keeps the data in its buffer
 * and prints it once the condition clears, unless DLE DC4 fn=8 (answered 0x37 0x25 0x00) or DLE ENQ 2 cleared it.
 * With `errorsNeedRecovery` a jam or cutter error whose cause is removed stays reported until DLE ENQ 1 or 2.
 * Status requests are answered always. ESC p (drawer kick) is recorded; the drawer sensor (DLE EOT 1 bit 2) is
 * `drawerPin3High`.
 */
import { SerialPort } from 'serialport';
import type { SerialPortLike } from '../../hal/printer/escpos-serial.js';

export type EmulatorCondition =
  | 'paper-out'
  | 'near-end'
  | 'cover-open'
  | 'jam'
  | 'overheat'
  | 'cutter'
  | 'offline'
  | 'unrecoverable';

export interface EmulatedLine {
  text: string;
  align: 'left' | 'center' | 'right';
  bold: boolean;
  doubleWidth: boolean;
  doubleHeight: boolean;
}

export interface EscPosEmulatorOptions {
  path: string;
  baudRate?: number;
  openPort?: (path: string, baudRate: number) => SerialPortLike;
  model?: string;
  firmware?: string;
  manufacturer?: string;
  serial?: string;
  holdWhileOffline?: boolean;
  errorsNeedRecovery?: boolean;
}

/** What the next printed line (after `atLine` lines in all) triggers. */
interface LineTrigger {
  atLine: number;
  effect: EmulatorCondition | 'stall';
}

const ESC = 0x1b;
const GS = 0x1d;
const DLE = 0x10;
const LF = 0x0a;

export class EscPosEmulator {
  /** Every printed row, in order. */
  readonly printed: EmulatedLine[] = [];
  readonly barcodes: { kind: 'code128' | 'qr'; data: string }[] = [];
  cuts = 0;
  /** n of every DLE EOT n that reached the parser, answered or not. */
  readonly statusRequests: number[] = [];
  readonly idRequests: number[] = [];
  /** Bytes thrown away by dropIncoming or while stalled. */
  droppedIncoming = 0;
  /** n of every DLE ENQ n (real-time recovery request). */
  readonly recoveryRequests: number[] = [];
  /** DLE DC4 fn=8 (clear buffers) received. */
  bufferClears = 0;
  /** Every real-time command and ESC p, in arrival order, for order checks. */
  readonly realtimeLog: string[] = [];
  readonly drawerKicks: { pin: 2 | 5; onMs: number; offMs: number }[] = [];
  /** Level of the drawer connector's pin 3, reported in DLE EOT 1 bit 2. */
  drawerPin3High = false;
  /** Print data held while offline (holdWhileOffline). */
  private held: Buffer = Buffer.alloc(0);
  private receiving = false;
  private forced: [number, number, number, number] | undefined;
  private releaseAfter = false;
  private readonly awaitingRecovery = new Set<EmulatorCondition>();

  private readonly conditions = new Set<EmulatorCondition>();
  private readonly triggers: LineTrigger[] = [];
  private garbled = false;
  private stalled = false;
  private dropIn = 0;
  private dropOut = 0;
  private failCut = false;
  private pending: Buffer = Buffer.alloc(0);
  private line = '';
  private mode = { align: 'left' as EmulatedLine['align'], bold: false, doubleWidth: false, doubleHeight: false };
  private qrStore = '';

  private constructor(
    private readonly port: SerialPortLike,
    private readonly options: EscPosEmulatorOptions,
  ) {
    port.on('data', (data: Buffer) => this.receive(data));
    // A closed pair is the test ending; nothing to report.
    port.on('error', () => undefined);
  }

  /** Runs the printer on a port already open (a TCP connection's adapter, say). */
  static attach(port: SerialPortLike, options: Omit<EscPosEmulatorOptions, 'path'> = {}): EscPosEmulator {
    return new EscPosEmulator(port, { path: 'attached', ...options });
  }

  /** Bytes held in the buffer while offline. */
  get heldBytes(): number {
    return this.held.length;
  }

  static async open(options: EscPosEmulatorOptions): Promise<EscPosEmulator> {
    const baudRate = options.baudRate ?? 115_200;
    const port = options.openPort
      ? options.openPort(options.path, baudRate)
      : new SerialPort({ path: options.path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new EscPosEmulator(port, options);
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  /** Text of every printed row. */
  get texts(): string[] {
    return this.printed.map((l) => l.text);
  }

  // ---- controls ----

  /** Raise (or clear) a condition now. */
  set(condition: EmulatorCondition, on = true): void {
    if (on) this.conditions.add(condition);
    else if (this.conditions.delete(condition) && this.options.errorsNeedRecovery) {
      if (condition === 'jam' || condition === 'cutter') this.awaitingRecovery.add(condition);
    }
    if (!on) this.releaseHeld();
  }

  /** Offline data printed once nothing stops the printer any more. */
  private releaseHeld(): void {
    if (this.receiving) {
      this.releaseAfter = true;
      return;
    }
    if (!this.canPrint() || this.held.length === 0) return;
    const data = this.held;
    this.held = Buffer.alloc(0);
    this.receive(data);
  }

  /** The condition (or a stall) takes effect when the printer is about to use paper after `lines` more printed rows. */
  after(lines: number, effect: EmulatorCondition | 'stall'): void {
    this.triggers.push({ atLine: this.printed.length + lines, effect });
  }

  /** Paper runs out after `lines` more rows (0: at once). */
  runOutOfPaper(lines = 0): void {
    if (lines === 0) this.set('paper-out');
    else this.after(lines, 'paper-out');
  }

  /** The next cut fails with an auto-cutter error. */
  failNextCut(): void {
    this.failCut = true;
  }

  /** Replies have bits 0 and 7 flipped, so none matches the status pattern. */
  garble(on = true): void {
    this.garbled = on;
  }

  /** Stop answering and printing; incoming bytes are thrown away. */
  stall(on = true): void {
    this.stalled = on;
  }

  /** Throw away the next `count` bytes received. */
  dropIncoming(count: number): void {
    this.dropIn += count;
  }

  /** Throw away the next `count` reply bytes instead of sending them. */
  dropOutgoing(count: number): void {
    this.dropOut += count;
  }

  /** Send raw bytes (noise) to the driver. */
  sendRaw(bytes: number[] | Buffer): void {
    this.port.write(Buffer.from(bytes), () => undefined);
  }

  /** Back to a healthy printer; what was printed stays recorded. */
  reset(): void {
    this.conditions.clear();
    this.awaitingRecovery.clear();
    this.triggers.length = 0;
    this.garbled = false;
    this.stalled = false;
    this.dropIn = 0;
    this.dropOut = 0;
    this.failCut = false;
  }

  /** Exact replies to DLE EOT 1..4 from now on (a status table's row), or back to the conditions with undefined. */
  answerStatus(bytes: [number, number, number, number] | undefined): void {
    this.forced = bytes;
  }

  /** Replies to DLE EOT 1..4 for the current condition. */
  statusBytes(): [number, number, number, number] {
    if (this.forced) return this.forced;
    const c = new Set([...this.conditions, ...this.awaitingRecovery]);
    const out = c.has('paper-out');
    const error = c.has('jam') || c.has('cutter') || c.has('overheat') || c.has('unrecoverable');
    const offline = !this.canPrint();
    const n1 = 0x12 | (offline ? 0x08 : 0) | (this.drawerPin3High ? 0x04 : 0);
    const n2 = 0x12 | (c.has('cover-open') ? 0x04 : 0) | (out ? 0x20 : 0) | (error ? 0x40 : 0);
    const n3 =
      0x12 |
      (c.has('jam') ? 0x04 : 0) |
      (c.has('cutter') ? 0x08 : 0) |
      (c.has('unrecoverable') ? 0x20 : 0) |
      (c.has('overheat') ? 0x40 : 0);
    const n4 = 0x12 | (out || c.has('near-end') ? 0x0c : 0) | (out ? 0x60 : 0);
    return [n1, n2, n3, n4];
  }

  // ---- device ----

  private canPrint(): boolean {
    for (const c of this.conditions) if (c !== 'near-end') return false;
    return this.awaitingRecovery.size === 0;
  }

  private receive(data: Buffer): void {
    this.receiving = true;
    try {
      this.receiveBytes(data);
    } finally {
      this.receiving = false;
    }
    if (this.releaseAfter) {
      this.releaseAfter = false;
      this.releaseHeld();
    }
  }

  private receiveBytes(data: Buffer): void {
    const kept: number[] = [];
    for (const byte of data) {
      if (this.dropIn > 0) {
        this.dropIn--;
        this.droppedIncoming++;
      } else if (this.stalled) {
        this.droppedIncoming++;
      } else {
        kept.push(byte);
      }
    }
    this.pending = Buffer.concat([this.pending, Buffer.from(kept)]);
    let at = 0;
    while (at < this.pending.length) {
      if (this.stalled) {
        // A stall raised mid-chunk swallows the rest.
        this.droppedIncoming += this.pending.length - at;
        at = this.pending.length;
        break;
      }
      if (this.options.holdWhileOffline && !this.canPrint() && this.pending[at] !== DLE) {
        // Offline: print data waits in the buffer; real-time commands are still taken.
        const next = this.pending.indexOf(DLE, at);
        const end = next < 0 ? this.pending.length : next;
        this.held = Buffer.concat([this.held, this.pending.subarray(at, end)]);
        at = end;
        continue;
      }
      const used = this.command(this.pending, at);
      if (used === 0) break;
      at += used;
    }
    this.pending = this.pending.subarray(at);
  }

  /** Handle the command at `at`; returns the bytes it used, or 0 when it is not complete yet. */
  private command(b: Buffer, at: number): number {
    const byte = b[at] as number;
    const arg = (k: number): number | undefined => b[at + k];
    if (byte === DLE) {
      const fn = arg(1);
      const n = arg(2);
      if (fn === undefined || (fn === 0x04 && n === undefined)) return 0;
      if (fn === 0x04 && n !== undefined) {
        this.statusRequests.push(n);
        const reply = this.statusBytes()[n - 1];
        if (reply !== undefined) this.reply([reply]);
        return 3;
      }
      if (fn === 0x05) {
        if (n === undefined) return 0;
        this.recover(n);
        return 3;
      }
      if (fn === 0x14) {
        if (n === undefined) return 0;
        const length = n === 0x08 ? 10 : 5;
        if (b.length < at + length) return 0;
        if (n === 0x08) this.clearBuffers();
        return length;
      }
      return 2;
    }
    if (byte === ESC) {
      const fn = arg(1);
      if (fn === undefined) return 0;
      if (fn === 0x40) {
        this.mode = { align: 'left', bold: false, doubleWidth: false, doubleHeight: false };
        this.line = '';
        return 2;
      }
      const n = arg(2);
      if (n === undefined) return 0;
      if (fn === 0x70) {
        if (b.length < at + 5) return 0;
        const onMs = (b[at + 3] as number) * 2;
        const offMs = Math.max(onMs, (b[at + 4] as number) * 2);
        this.drawerKicks.push({ pin: n === 0 || n === 48 ? 2 : 5, onMs, offMs });
        this.realtimeLog.push('ESC p');
        return 5;
      }
      if (fn === 0x45) this.mode.bold = (n & 1) === 1;
      else if (fn === 0x61) this.mode.align = n % 48 === 1 ? 'center' : n % 48 === 2 ? 'right' : 'left';
      else if (fn === 0x64) for (let i = 0; i < n; i++) this.printRow();
      return 3;
    }
    if (byte === GS) return this.gsCommand(b, at);
    if (byte === LF) {
      this.printRow();
      return 1;
    }
    if (byte >= 0x20 && byte <= 0x7e) {
      this.line += String.fromCharCode(byte);
      return 1;
    }
    // Any other byte (CR, stray controls, 8-bit) prints nothing here.
    if (byte > 0x7e) this.line += '?';
    return 1;
  }

  private gsCommand(b: Buffer, at: number): number {
    const fn = b[at + 1];
    if (fn === undefined) return 0;
    if (fn === 0x28) {
      // GS ( fn pL pH payload
      if (b.length < at + 5) return 0;
      const len = (b[at + 3] as number) + 256 * (b[at + 4] as number);
      if (b.length < at + 5 + len) return 0;
      if (b[at + 2] === 0x6b) this.qrFunction(b.subarray(at + 5, at + 5 + len));
      return 5 + len;
    }
    const m = b[at + 2];
    if (m === undefined) return 0;
    switch (fn) {
      case 0x21:
        this.mode.doubleWidth = (m & 0x70) !== 0;
        this.mode.doubleHeight = (m & 0x07) !== 0;
        return 3;
      case 0x49:
        this.answerId(m);
        return 3;
      case 0x56: {
        const used = m === 65 || m === 66 ? 4 : 3;
        if (b.length < at + used) return 0;
        this.cut();
        return used;
      }
      case 0x6b: {
        if (m <= 6) {
          const end = b.indexOf(0x00, at + 3);
          return end < 0 ? 0 : end - at + 1;
        }
        const n = b[at + 3];
        if (n === undefined || b.length < at + 4 + n) return 0;
        if (m === 73) this.code128(b.subarray(at + 4, at + 4 + n).toString('latin1'));
        return 4 + n;
      }
      default:
        return 3;
    }
  }

  private qrFunction(payload: Buffer): void {
    const cn = payload[0];
    const fn = payload[1];
    if (cn !== 0x31) return;
    if (fn === 0x50) this.qrStore = payload.subarray(3).toString('latin1');
    else if (fn === 0x51 && this.usePaper()) this.barcodes.push({ kind: 'qr', data: this.qrStore });
  }

  private code128(raw: string): void {
    if (!this.usePaper()) return;
    // Drop the code-set selector, then undo the '{{' escape.
    const data = raw.replace(/^\{[A-C]/, '').replace(/\{\{/g, '{');
    this.barcodes.push({ kind: 'code128', data });
  }

  private cut(): void {
    if (!this.usePaper()) return;
    if (this.failCut) {
      this.failCut = false;
      this.set('cutter');
      return;
    }
    this.cuts++;
  }

  /** DLE ENQ 1 resumes with the buffer, 2 clears it first; both leave a recoverable error whose cause is gone. */
  private recover(n: number): void {
    this.recoveryRequests.push(n);
    this.realtimeLog.push(`DLE ENQ ${n}`);
    if (n !== 1 && n !== 2) return;
    if (n === 2) this.held = Buffer.alloc(0);
    this.awaitingRecovery.clear();
    this.releaseHeld();
  }

  private clearBuffers(): void {
    this.bufferClears++;
    this.realtimeLog.push('DLE DC4 8');
    this.held = Buffer.alloc(0);
    this.line = '';
    this.reply([0x37, 0x25, 0x00]);
  }

  private printRow(): void {
    const text = this.line;
    this.line = '';
    if (!this.usePaper()) {
      // The row that met the fault stays in the buffer, as on a real printer.
      if (this.options.holdWhileOffline && !this.stalled) {
        this.held = Buffer.concat([this.held, Buffer.from(`${text}\n`, 'latin1')]);
      }
      return;
    }
    this.printed.push({ text, ...this.mode });
  }

  /** Fires due triggers, then says whether the printer can put anything on paper. */
  private usePaper(): boolean {
    for (let i = this.triggers.length - 1; i >= 0; i--) {
      const trigger = this.triggers[i] as LineTrigger;
      if (this.printed.length < trigger.atLine) continue;
      this.triggers.splice(i, 1);
      if (trigger.effect === 'stall') this.stalled = true;
      else this.set(trigger.effect);
    }
    return !this.stalled && this.canPrint();
  }

  private answerId(n: number): void {
    this.idRequests.push(n);
    const o = this.options;
    const strings: Record<number, string | undefined> = {
      65: o.firmware ?? '1.05 EMU',
      66: o.manufacturer ?? 'EMULATED',
      67: o.model ?? 'EMU-TM80',
      68: o.serial ?? 'EMU0001234',
    };
    const text = strings[n];
    if (text !== undefined) this.reply([0x5f, ...Buffer.from(text, 'latin1'), 0x00]);
    else if (n >= 1 && n <= 3) this.reply([[0x20, 0x02, 0x41][n - 1] as number]);
  }

  private reply(bytes: number[]): void {
    let out = this.garbled ? bytes.map((b) => b ^ 0x81) : bytes;
    if (this.dropOut > 0) {
      const dropped = Math.min(this.dropOut, out.length);
      this.dropOut -= dropped;
      out = out.slice(dropped);
    }
    if (out.length > 0) this.port.write(Buffer.from(out), () => undefined);
  }
}
