/** How the simulator reads a request: its message class by MTI, its kind by field 3, and a text field. */
import { type IsoMessage, MTI } from '../iso8583/index.js';

/** What a processing code (field 3, first two digits) asks for. */
export type FinancialKind = 'sale' | 'refund' | 'void';

export function kindOf(processingCode: string | undefined): FinancialKind {
  const type = processingCode?.slice(0, 2);
  return type === '20' ? 'refund' : type === '02' ? 'void' : 'sale';
}

/** settlement: a 0500 reconciliation; upload: a 0320/0321 of the batch upload. */
export type MessageClass = 'financial' | 'advice' | 'reversal' | 'network' | 'settlement' | 'upload';

export function classOf(mti: string): MessageClass | undefined {
  switch (mti) {
    case MTI.authRequest:
    case MTI.financialRequest:
      return 'financial';
    case MTI.advice:
    case MTI.adviceRepeat:
      return 'advice';
    case MTI.reversal:
    case MTI.reversalRepeat:
    case '0420':
    case '0421':
      return 'reversal';
    case MTI.networkRequest:
      return 'network';
    case '0500':
      return 'settlement';
    case '0320':
    case '0321':
      return 'upload';
    default:
      return undefined;
  }
}

export function text(msg: IsoMessage, field: number): string | undefined {
  const value = msg.fields[field];
  return typeof value === 'string' ? value : undefined;
}
