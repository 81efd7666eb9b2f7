/**
 * Receipt printer contract (ESC/POS class thermal printer, UnifiedPOS POSPrinter). Every method that fails rejects
 * with DeviceFaultError<PrinterFaultCode> and device 'printer'.
 */
import type { DeviceFaultError } from '../fault.js';
import type { EventSource } from '../events.js';
import type { PrinterModelProfile } from './model-profiles.js';

/** Mirrors the ESC/POS real-time status bytes (DLE EOT 1..4). */
export interface PrinterStatus {
  online: boolean;
  paper: 'ok' | 'near-end' | 'out';
  coverOpen: boolean;
  jammed: boolean;
  cutterError: boolean;
  /** Print head too hot; the printer recovers on its own once cool. */
  overheated: boolean;
  unrecoverableError: boolean;
  /**
   * The cash drawer's sensor (DLE EOT 1 bit 2, connector pin 3), read as open or closed by the configured polarity.
   * Present only when a drawer is configured; it stops no print.
   */
  drawerOpen?: boolean;
}

export interface ReceiptTextLine {
  kind?: 'text';
  /** Plain text. Drivers strip control characters so receipt content can never inject printer commands. */
  text: string;
  align?: 'left' | 'center' | 'right';
  bold?: boolean;
  doubleHeight?: boolean;
  doubleWidth?: boolean;
}

/** A full-width separator; the driver draws it to the printer's own column count. */
export interface ReceiptRuleLine {
  kind: 'rule';
}

export type ReceiptLine = ReceiptTextLine | ReceiptRuleLine;

export interface ReceiptDocument {
  lines: ReceiptLine[];
  /** Printed after the lines, before the cut. */
  barcode?: { kind: 'code128' | 'qr'; data: string };
  cut: boolean;
  /** The printer model's code pages and Chinese mode, stamped by `withPrinterModel`; absent: plain ASCII. */
  printerModel?: PrinterModelProfile;
}

export const PRINTER_FAULT_CODES = [
  'paper-out',
  'cover-open',
  'jam',
  /** Auto-recoverable: retry after the head cools. */
  'overheat',
  'cutter-fault',
  /** No answer in time to a status read, printer reports offline with no known cause, or the driver is closed. */
  'offline',
  /** Needs service; no operator action helps. */
  'unrecoverable',
  /** A print job did not complete in time. */
  'timeout',
  /** The device went away (unplugged, port gone, connection refused or reset); the driver reopens it with backoff. */
  'not-connected',
] as const;

export type PrinterFaultCode = (typeof PRINTER_FAULT_CODES)[number];

/** A fault raised by print() carries `detail.linesPrinted`: how many lines reached paper before it stopped. */
export type PrinterFault = DeviceFaultError<PrinterFaultCode>;

/** Conditions worth telling the operator about that do not stop the print. */
export type PrinterWarning = 'paper-near-end';

export interface PrintResult {
  linesPrinted: number;
  warnings: PrinterWarning[];
}

export interface PrinterInfo {
  model: string;
  firmware: string;
  serial?: string;
  /** Characters per line at normal width. */
  columns: number;
}

/** The printer's health as the terminal sees it: usable, stopped by a fault, or not there at all. */
export type PrinterHealthState = 'ok' | 'fault' | 'not-connected';

export interface PrinterHealth {
  state: PrinterHealthState;
  /** The fault that stops printing ('fault'), or 'not-connected'. */
  code?: PrinterFaultCode;
  /** Human-readable, for the journal and the operator. */
  reason?: string;
}

export interface PrinterEvents {
  /** Emitted whenever any status field changes. */
  status: { status: PrinterStatus; previous: PrinterStatus };
  /** Emitted when the health changes (paper back, cover closed, unplugged, back again), so degraded clears at once. */
  health: { health: PrinterHealth; previous: PrinterHealth };
}

export interface Printer extends EventSource<PrinterEvents> {
  /** Opening an open printer is a no-op. */
  open(): Promise<void>;
  /** Never fails. Calls on a closed printer reject 'offline'. */
  close(): Promise<void>;
  info(): Promise<PrinterInfo>;
  /** A status read with no answer in time rejects 'offline'. */
  status(): Promise<PrinterStatus>;
  /** Rejects before printing anything when faultFromStatus(status) names a fault. Paper near end is a warning. */
  print(doc: ReceiptDocument): Promise<PrintResult>;
  /** Pulse the cash drawer connector (ESC p); rejects 'offline' when no drawer is configured. */
  kickDrawer?(): Promise<void>;
}

/**
 * The fault, if any, that stops printing in this status. When several hold, the one reported is the first of:
 * unrecoverable (service needed, nothing else matters), jam (clearing it comes before closing the cover),
 * cover-open, paper-out, cutter-fault, overheat (clears itself, so the operator fixes the others first),
 * offline (offline with no known cause). Paper near end stops nothing.
 */
export function faultFromStatus(status: PrinterStatus): PrinterFaultCode | undefined {
  if (status.unrecoverableError) return 'unrecoverable';
  if (status.jammed) return 'jam';
  if (status.coverOpen) return 'cover-open';
  if (status.paper === 'out') return 'paper-out';
  if (status.cutterError) return 'cutter-fault';
  if (status.overheated) return 'overheat';
  if (!status.online) return 'offline';
  return undefined;
}

export const PRINTER_STATUS_OK: Readonly<PrinterStatus> = Object.freeze({
  online: true,
  paper: 'ok',
  coverOpen: false,
  jammed: false,
  cutterError: false,
  overheated: false,
  unrecoverableError: false,
});
