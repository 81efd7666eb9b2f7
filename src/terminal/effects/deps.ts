/** What the transaction machine's effects are built from, and what they tell whoever watches a transaction. */
import type { CardReader } from '../../../hal/card-reader/contract.js';
import type { Clock } from '../../../hal/clock.js';
import type { Display, Screen } from '../../../hal/display/contract.js';
import type { NetworkMonitor } from '../../../hal/network/contract.js';
import type { PinPad } from '../../../hal/pin-pad/contract.js';
import type { Printer } from '../../../hal/printer/contract.js';
import type { AnomalyRecorder } from '../../anomaly/recorder.js';
import type { AcquirerClient } from '../../acquirer/acquirer-client.js';
import type { HostAvailability } from '../../acquirer/host-availability.js';
import type { CardVault } from '../../durability/card-vault.js';
import type { Forwarder } from '../../durability/forwarder.js';
import type { OfflineLimits } from '../../durability/offline-policy.js';
import type { Journal } from '../../journal/index.js';
import type { MerchantInfo } from '../../receipt/receipt.js';
import type { RiskControls } from '../../risk/controls.js';
import type { TransactionOutput } from '../../transaction/types.js';
import type { Logger } from '../../util/log.js';
import type { MessageProfile } from './request.js';

export type TransactionStreamEvent =
  | { type: 'state'; state: string }
  | { type: 'screen'; screen: Screen }
  /** The host approved less than asked: the register answers with confirm (accept) or cancel (reverse). */
  | { type: 'partial'; requestedAmount: number; approvedAmount: number; currency: string };
export type TransactionListener = (event: TransactionStreamEvent) => void;

/** Config `host.completionMessage` and `preauth`: how completions go, when holds expire, how far a completion may exceed its hold. */
export interface PreauthSettings {
  completionMessage: '0220' | '0200';
  expiryDays: number;
  /** A completion (tip included) may exceed the held amount by at most this percentage. */
  completionTolerancePercent: number;
}

/** The chip's settings (config `emv`). */
export interface EmvSettings {
  countryCode: string;
  terminalCapabilities: string;
  terminalType: string;
  floorLimit: number;
  tac: { denial: string; online: string; default: string };
  contactlessCvmLimit: number;
  contactlessTransactionLimit: number;
  pinBlockFormat: 0 | 4;
  pinTimeoutMs: number;
  /** Online PIN tries within one sale, the first included. */
  onlinePinTries: number;
}

export interface TransactionDeps {
  reader: CardReader;
  printer: Printer;
  display: Display;
  journal: Journal;
  acquirer: AcquirerClient;
  anomalies: AnomalyRecorder;
  clock: Clock;
  log: Logger;
  merchant: MerchantInfo;
  /** Config `hal.printer.drawer.kickOnSale`: open the cash drawer after an approved sale's receipts. */
  kickDrawerOnSale?: boolean;
  responseTimeoutMs: number;
  /** Who is watching this transaction (the ECR session that started it), if anyone. */
  listener: (txnRef: string) => TransactionListener | undefined;
  /** Sends owed reversals and advices; absent in tests that only look at the machine. */
  forwarder?: Forwarder;
  /** Card checks (fraud rules, duplicates); absent = every card passes. */
  risk?: RiskControls;
  /** Store-and-forward: limits, and the vault that seals card data for the queue (both absent = disabled). */
  offline?: OfflineLimits;
  vault?: CardVault;
  network?: Pick<NetworkMonitor, 'current'>;
  /** Whether the host still answers; absent = always asked. */
  hostAvailability?: Pick<HostAvailability, 'isDown'>;
  /** What the terminal's messages say about itself (field 22's PIN digit, fields 32/33); absent = no PIN pad, no ids. */
  messageProfile?: MessageProfile;
  /** The PIN entry device, when one is attached (online PIN for the chip's CVM). */
  pinPad?: PinPad;
  /** What the terminal tells the card's kernel (config `emv`); absent: no chip processing. */
  emv?: EmvSettings;
  /** Pre-authorization settings (config `host.completionMessage`, `preauth`); absent: the defaults. */
  preauth?: PreauthSettings;
  /** The outcome is known (the card may still be in the reader): the register gets it now. */
  onOutcome?: (output: TransactionOutput) => void;
}
