/** The simulator's public words: how it is told to behave, what it logs, and the totals it keeps. */
import type { Clock } from '../../hal/clock.js';
import type { MacFault } from './host-keys.js';
import type { Misbehaviour } from './rules.js';

export interface GlobalBehaviour {
  /** Applied to every request (startup flags); 'none' lets the per-request amount rules decide. */
  misbehaviour: Misbehaviour;
  delayMs: number;
  lateMs: number;
  /** Field 39 to answer, by response MTI (0210, 0230, 0410, 0810...), for all traffic; unset = the rules decide. */
  responseCodes: Readonly<Record<string, string>>;
  /** For terminals with a master key: MAC every answer wrong or not at all, or give a wrong check value at sign-on. */
  macFault: MacFault;
}

/** A MAC fault to commit once: on the next answer of that MTI (0210, 0810...) and STAN, when given. */
export interface MacFaultOnce {
  mti: string;
  fault: MacFault;
  stan?: number;
}

/** One answer to give once: to the next request answered with `mti` (and with that STAN, when given). */
export interface ResponseOverride {
  /** The response MTI (0210, 0230, 0410, 0810); a request MTI (0200, 0401...) names its response. */
  mti: string;
  responseCode: string;
  stan?: number;
  /** For a partial approval (10): the amount approved; default half the amount asked. */
  approvedAmount?: number;
}

export interface HostSimOptions {
  host?: string;
  /** 0 picks a free port (tests); read it back from start(). */
  port?: number;
  clock?: Clock;
  /** Append one JSON line per message received and sent. */
  ledgerPath?: string;
  /** Keep the ledger in memory too (for in-process tests); off for long soaks. */
  keepLedger?: boolean;
  /** How many processed requests are remembered to answer repeats (default 250,000); a soak keeps it small. */
  maxRemembered?: number;
  behaviour?: Partial<GlobalBehaviour>;
  maxFrameBytes?: number;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean };
  /** Terminal master keys (16 bytes) by terminal id: those terminals sign on and MAC their messages. */
  masterKeys?: Readonly<Record<string, Uint8Array>>;
  /** The TDES DUKPT base derivation key (16 bytes) PIN blocks are deciphered under; default the X9.24-1 test BDK. */
  bdk?: Uint8Array;
  /** Card PINs by PAN; every other card's PIN is 1234. */
  pins?: Readonly<Record<string, string>>;
}

export interface LedgerEntry {
  at: string;
  dir: 'in' | 'out';
  mti?: string;
  stan?: string;
  terminalId?: string;
  amount?: number;
  currency?: string;
  pan?: string; // masked
  responseCode?: string;
  /** Field 3 of the request (answers carry it too). */
  processingCode?: string;
  /** Field 22 of a request: how the PAN was entered and whether the terminal can take a PIN. */
  posEntryMode?: string;
  /** The tip field 54 carried (minor units), when it carried one. */
  tipAmount?: number;
  /** On an answer: the amount that moved at the host because of it (0 when nothing moved). */
  movedAmount?: number;
  /** On an answer to a hold (0100) or its release: what the pre-authorization holds now (money held, not moved). */
  heldAmount?: number;
  duplicate?: boolean;
  note?: string;
  /** A 0200 or advice: whether it carried field 55, and whether its cryptogram (ARQC, or the advice's TC) verified. */
  field55?: boolean;
  cryptogramValid?: boolean;
  /** A 0200: whether it carried a PIN block (field 52), and whether the PIN verified. */
  pinPresent?: boolean;
  pinVerified?: boolean;
  /** Why a check failed (a declined ARQC, a wrong PIN, a flagged advice); never a PIN or a clear PAN. */
  verification?: string;
}

/** What the host approved (and took back) of one kind: count and amount in minor units. */
export interface KindTotal {
  count: number;
  amount: number;
}

export interface HostTotals {
  /** Financial requests approved, net of reversals. */
  approvedCount: number;
  approvedAmount: number;
  reversedCount: number;
  adviceCount: number;
  adviceAmount: number;
  duplicates: number;
  /** Approved sales (amount as approved: a partial counts what it approved). */
  sales: KindTotal;
  /** Approved refunds: money credited to the cardholder. */
  refunds: KindTotal;
  /** Approved voids, with the amount of the originals they cancelled. */
  voids: KindTotal;
  /** Acknowledged reversals that took money back, with that amount. */
  reversals: KindTotal;
  /** Approved advices (offline sales captured). */
  advices: KindTotal;
  /** Money owed to the merchant: sales + advices - refunds - voided - reversed. */
  netAmount: number;
}
