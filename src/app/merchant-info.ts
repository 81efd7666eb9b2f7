/** The merchant as receipts and screens name it: the shop, the ids, the language and the time zone. */
import type { PosConfig } from '../config/index.js';
import type { MerchantInfo } from '../receipt/receipt.js';

export function merchantInfoOf(config: PosConfig): MerchantInfo {
  const { terminal } = config;
  return {
    label: terminal.label,
    addressLines: terminal.addressLines ?? [],
    terminalId: terminal.id,
    merchantId: terminal.merchantId,
    ...(terminal.language ? { language: terminal.language } : {}),
    ...(terminal.timeZone ? { timeZone: terminal.timeZone } : {}),
  };
}
