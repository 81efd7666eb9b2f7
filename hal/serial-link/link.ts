/**
 * The session with a device on a serial line over frame.ts: one JSON object per frame, stop-and-wait. Every frame
 * sent waits for an ACK; a NAK or no ACK in time retransmits it, and after maxRetransmits the command fails
 * 'not-connected'. Every frame received is ACKed, or NAKed when the parser finds it damaged. `seq` lets the link
 * drop a frame the device repeated because our ACK was lost. Answers go to the command that carries their id;
 * events go to the driver. The card module (hal/card-reader/serial-module.ts) and the PIN pad
 * (hal/pin-pad/serial.ts) run on it, each with its own faults and its own commands.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { DeviceFaultError } from '../fault.js';
import { ACK, encodeFrame, FrameParser, NAK } from './frame.js';
import { closePort, type OpenSerialPort, openSerialPort, type SerialPortLike } from './port.js';

/** A JSON object as it crossed the line: what it holds is for the driver to check. */
export type LinkMessage = Record<string, unknown>;

/** The device's fault for what the link itself can tell: not there, or no answer in time. */
export type LinkFault<F extends DeviceFaultError> = (
  code: 'not-connected' | 'timeout',
  message: string,
  detail?: Record<string, string | number | boolean>,
) => F;

interface Outgoing {
  frame: Buffer;
  /** Command id: a response carrying it proves the frame arrived even if its ACK was lost. */
  id: number;
  retransmits: number;
  timer: TimerHandle | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface PendingResponse {
  resolve: (message: LinkMessage) => void;
  reject: (error: Error) => void;
  timer: TimerHandle | undefined;
}

export interface SerialLinkOptions<F extends DeviceFaultError> {
  /** The device as fault messages name it ('card module', 'PIN pad'). */
  device: string;
  fault: LinkFault<F>;
  path: string;
  baudRate: number;
  clock: Clock;
  /** Default: serialport's `new SerialPort({ path, baudRate, autoOpen: false })`, loaded on first open. */
  openPort?: OpenSerialPort;
  /** Time the device has to answer a command it has ACKed, unless the command names its own. */
  responseTimeoutMs: number;
  maxRetransmits: number;
  ackTimeoutMs: number;
  interByteTimeoutMs?: number;
  maxPayload?: number;
  /** An unsolicited message from the device (it carries `evt`). */
  onEvent: (message: LinkMessage) => void;
  /** The session ended with `error`: the driver fails what it waits for and forgets the device's state. */
  onDetach: (error: F) => void;
  /** The device went away by itself (port closed, EIO, a write refused), after onDetach: time to reopen it. */
  onLost?: (error: F) => void;
}

export class SerialLink<C extends string, F extends DeviceFaultError> {
  private readonly parser: FrameParser;
  private readonly openPort: OpenSerialPort;
  private attachedPort: SerialPortLike | undefined;
  private opening: Promise<void> | undefined;
  private nextId = 1;
  private lastSeq: unknown;
  private readonly outbox: Outgoing[] = [];
  private inFlight: Outgoing | undefined;
  private readonly responses = new Map<number, PendingResponse>();

  constructor(private readonly options: SerialLinkOptions<F>) {
    this.openPort = options.openPort ?? openSerialPort;
    this.parser = new FrameParser({
      clock: options.clock,
      ...(options.interByteTimeoutMs !== undefined ? { interByteTimeoutMs: options.interByteTimeoutMs } : {}),
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      // An incomplete frame went silent: ask for it again at once.
      onTimeout: () => this.writeControl(NAK),
    });
  }

  /** The open port the session runs on, if any. */
  get port(): SerialPortLike | undefined {
    return this.attachedPort;
  }

  /**
   * Opens the port and sends `hello` on the new session: its answer (to `onHello`) proves a device answers.
   * Concurrent calls share one attempt. A port that cannot be opened, or a device that does not answer, fails
   * 'not-connected'.
   */
  open(hello: C, onHello: (answer: LinkMessage) => void): Promise<void> {
    if (this.attachedPort) return Promise.resolve();
    this.opening ??= this.connect(hello, onHello).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Ends the session (`why` is the fault everything pending fails with), then closes the port. */
  async close(why: string): Promise<void> {
    const port = this.attachedPort;
    this.detach(why);
    if (port) await closePort(port);
  }

  /** Ends the session: every frame not yet acknowledged and every answer still awaited fails 'not-connected'. */
  detach(why: string): void {
    const error = this.options.fault('not-connected', why);
    this.attachedPort = undefined;
    this.parser.reset();
    const outgoing = [...(this.inFlight ? [this.inFlight] : []), ...this.outbox.splice(0)];
    this.inFlight = undefined;
    for (const out of outgoing) {
      out.timer?.cancel();
      out.reject(error);
    }
    for (const pending of this.responses.values()) {
      pending.timer?.cancel();
      pending.reject(error);
    }
    this.responses.clear();
    this.options.onDetach(error);
  }

  /**
   * Sends a command (with its arguments beside `id` and `cmd`) and resolves with the device's answer, or fails
   * 'timeout' when none comes within `timeoutMs` (default: responseTimeoutMs) of the frame's ACK.
   */
  async command(
    cmd: C,
    args: Readonly<Record<string, unknown>> = {},
    timeoutMs = this.options.responseTimeoutMs,
  ): Promise<LinkMessage> {
    if (!this.attachedPort) throw this.options.fault('not-connected', `${this.options.device} not open`);
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    let entry!: PendingResponse;
    const answer = new Promise<LinkMessage>((resolve, reject) => {
      entry = { resolve, reject, timer: undefined };
    });
    // Settled by detach() while the frame is still in flight: the transmit failure is what the caller sees.
    answer.catch(() => undefined);
    this.responses.set(id, entry);
    try {
      await this.transmit(Buffer.from(JSON.stringify({ ...args, id, cmd }), 'utf8'), id);
    } catch (error) {
      this.responses.delete(id);
      throw error;
    }
    if (this.responses.get(id) === entry) {
      entry.timer = this.options.clock.setTimeout(() => {
        if (this.responses.get(id) !== entry) return;
        this.responses.delete(id);
        entry.reject(this.options.fault('timeout', `no answer to ${cmd} within ${timeoutMs} ms`, { command: cmd }));
      }, timeoutMs);
    }
    return answer;
  }

  private async connect(hello: C, onHello: (answer: LinkMessage) => void): Promise<void> {
    const { path, baudRate, device, fault } = this.options;
    const where = { path, baudRate };
    let port: SerialPortLike;
    try {
      port = await this.openPort(path, baudRate);
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      throw fault('not-connected', `cannot open ${path}: ${errorText(error)}`, where);
    }
    port.on('data', (data: Buffer) => {
      if (this.attachedPort === port) this.onData(data);
    });
    port.on('error', (error: Error) => this.lose(port, `serial link lost: ${errorText(error)}`));
    port.on('close', () => this.lose(port, 'serial link lost: port closed'));
    this.attach(port);
    try {
      onHello(await this.command(hello));
    } catch (error) {
      this.detach(`no answer to ${hello}`);
      await closePort(port);
      throw fault('not-connected', `${device} on ${path} does not answer`, {
        ...where,
        cause: error instanceof DeviceFaultError ? error.code : 'error',
      });
    }
  }

  /** The port failed under us (unplugged, EIO, EBADF): end the session and tell the driver, once per port. */
  private lose(port: SerialPortLike, why: string): void {
    if (this.attachedPort !== port) return;
    this.detach(why);
    void closePort(port);
    this.options.onLost?.(this.options.fault('not-connected', why));
  }

  /** Starts a fresh session on a newly opened port. */
  private attach(port: SerialPortLike): void {
    this.attachedPort = port;
    this.parser.reset();
    this.lastSeq = undefined;
  }

  /** Bytes from the port. */
  private onData(data: Buffer): void {
    const result = this.parser.push(data);
    for (const control of result.controls) {
      if (control === 'ack') this.onAck();
      else this.onNak();
    }
    for (const frame of result.frames) {
      this.writeControl(ACK);
      this.onFrame(frame);
    }
    if (result.errors.length > 0) this.writeControl(NAK);
  }

  private onFrame(frame: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(frame.toString('utf8'));
    } catch {
      // The error text quotes the payload, which may hold card data: drop it unread.
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const msg = message as LinkMessage;
    if (msg.seq !== undefined) {
      if (msg.seq === this.lastSeq) return;
      this.lastSeq = msg.seq;
    }
    if (typeof msg.evt === 'string') {
      this.options.onEvent(msg);
      return;
    }
    if (typeof msg.id !== 'number') return;
    if (this.inFlight?.id === msg.id) this.onAck();
    const pending = this.responses.get(msg.id);
    if (!pending) return;
    this.responses.delete(msg.id);
    pending.timer?.cancel();
    pending.resolve(msg);
  }

  private transmit(payload: Buffer, id: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ frame: encodeFrame(payload), id, retransmits: 0, timer: undefined, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || !this.attachedPort) return;
    this.inFlight = this.outbox.shift();
    if (this.inFlight) this.sendInFlight();
  }

  private sendInFlight(): void {
    const out = this.inFlight;
    const port = this.attachedPort;
    if (!out || !port) return;
    port.write(out.frame, (error) => {
      if (error) this.lose(port, `serial link lost: ${errorText(error)}`);
    });
    // The frame needs its own time on the wire (10 bits per byte) before the device can even start to answer.
    const wireMs = Math.ceil((out.frame.length * 10 * 1000) / this.options.baudRate);
    out.timer?.cancel();
    out.timer = this.options.clock.setTimeout(() => this.onNak(), this.options.ackTimeoutMs + wireMs);
  }

  private onAck(): void {
    const out = this.inFlight;
    if (!out) return;
    out.timer?.cancel();
    this.inFlight = undefined;
    out.resolve();
    this.pump();
  }

  /** NAK or no ACK in time: send the frame again, or give up on it. */
  private onNak(): void {
    const out = this.inFlight;
    if (!out) return;
    out.timer?.cancel();
    if (out.retransmits >= this.options.maxRetransmits) {
      this.inFlight = undefined;
      out.reject(
        this.options.fault(
          'not-connected',
          `${this.options.device} did not acknowledge after ${out.retransmits} retransmissions`,
          { retransmits: out.retransmits },
        ),
      );
      this.pump();
      return;
    }
    out.retransmits++;
    this.sendInFlight();
  }

  private writeControl(byte: number): void {
    const port = this.attachedPort;
    port?.write(Buffer.from([byte]), (error) => {
      if (error) this.lose(port, `serial link lost: ${errorText(error)}`);
    });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
