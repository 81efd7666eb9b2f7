/**
 * The EMV commands of the card module protocol (SERIAL-FRAME.md, "EMV"): the terminal's data and the host's answer
 * as BER-TLV in hex, the module's decisions back. Both directions live here, so the driver and a module (or its
 * emulator) read and write the same objects. Every answer is checked before the terminal believes it.
 */
import { CVM_OUTCOMES, type CvmOutcome } from '../emv/cvm.js';
import { parseField55 } from '../emv/field55.js';
import { decodeTlv, encodeTlv, hex, isConstructed, primitivesByTag, type TlvNode } from '../emv/tlv.js';
import type { DeviceFaultError } from '../fault.js';
import type { CardReaderFaultCode } from './contract.js';
import type {
  EmvCompleteResult,
  EmvDecisionReason,
  EmvHostAnswer,
  EmvStartInput,
  EmvStartResult,
} from './emv-contract.js';
import { fault, type ModuleMessage } from './module-messages.js';

/** Terminal data objects of EMV_START; the action codes and limits use the contactless kernels' tags. */
const TAG = {
  amount: '9F02',
  amountOther: '9F03',
  currency: '5F2A',
  country: '9F1A',
  type: '9C',
  date: '9A',
  unpredictableNumber: '9F37',
  capabilities: '9F33',
  terminalType: '9F35',
  tvr: '95',
  floorLimit: '9F1B',
  tacDefault: 'DF8120',
  tacDenial: 'DF8121',
  tacOnline: 'DF8122',
  contactlessTransactionLimit: 'DF8124',
  contactlessCvmLimit: 'DF8126',
} as const;

const REASONS: ReadonlySet<string> = new Set<EmvDecisionReason>([
  'denial-codes',
  'card-declined',
  'try-another-interface',
  'card-declined-after-approval',
  'issuer-authentication-failed',
  'host-declined',
  'unable-online-approved',
  'unable-online-declined',
]);

/** Error names of a failed EMV answer and the fault each becomes. */
const EMV_ERRORS: Record<string, CardReaderFaultCode> = {
  'card-removed': 'card-removed',
  'chip-error': 'chip-error',
  tamper: 'tamper',
  'no-card': 'read-failed',
  'no-transaction': 'read-failed',
  'bad-input': 'read-failed',
};

// ---- terminal → module ----

export function emvStartArgs(input: EmvStartInput): Record<string, unknown> {
  const n = (value: number, bytes: number): Uint8Array => bcd(value, bytes);
  const nodes: TlvNode[] = [
    { tag: TAG.amount, value: n(input.amount, 6) },
    { tag: TAG.amountOther, value: n(input.amountOther ?? 0, 6) },
    { tag: TAG.currency, value: n(input.currencyNumeric, 2) },
    { tag: TAG.country, value: n(input.countryNumeric, 2) },
    { tag: TAG.type, value: fromHex(input.transactionType) },
    { tag: TAG.date, value: fromHex(input.date) },
    { tag: TAG.unpredictableNumber, value: Uint8Array.from(input.unpredictableNumber) },
    { tag: TAG.capabilities, value: fromHex(input.terminalCapabilities) },
    { tag: TAG.terminalType, value: fromHex(input.terminalType ?? '22') },
    { tag: TAG.tvr, value: fromHex(input.tvrStart ?? '0000000000') },
    { tag: TAG.floorLimit, value: u32(input.floorLimit) },
    { tag: TAG.tacDefault, value: fromHex(input.tac.default) },
    { tag: TAG.tacDenial, value: fromHex(input.tac.denial) },
    { tag: TAG.tacOnline, value: fromHex(input.tac.online) },
  ];
  if (input.contactlessTransactionLimit !== undefined) {
    nodes.push({ tag: TAG.contactlessTransactionLimit, value: n(input.contactlessTransactionLimit, 6) });
  }
  if (input.contactlessCvmLimit !== undefined) {
    nodes.push({ tag: TAG.contactlessCvmLimit, value: n(input.contactlessCvmLimit, 6) });
  }
  return { tlv: hex(encodeTlv(nodes)), online: input.onlineCapable ?? true };
}

export function emvCompleteArgs(answer: EmvHostAnswer): Record<string, unknown> {
  if (!answer.hostReached) return { hostReached: false };
  const nodes: TlvNode[] = [
    { tag: '8A', value: Uint8Array.from(Buffer.from(answer.authorizationResponseCode, 'latin1')) },
  ];
  if (answer.issuerAuthenticationData) nodes.push({ tag: '91', value: answer.issuerAuthenticationData });
  const scripts = answer.issuerScripts ? hex(answer.issuerScripts) : '';
  return { hostReached: true, hostDecision: answer.hostDecision, tlv: hex(encodeTlv(nodes)) + scripts };
}

// ---- module → terminal ----

export function emvStartResultFrom(msg: ModuleMessage): EmvStartResult | DeviceFaultError<CardReaderFaultCode> {
  if (msg.ok !== true) return emvFailure(msg, 'EMV start');
  const bad = badResponse;
  const decision = msg.decision;
  if (decision !== 'ARQC' && decision !== 'TC' && decision !== 'AAC') return bad('decision');
  if (typeof msg.cvm !== 'string' || !(CVM_OUTCOMES as readonly string[]).includes(msg.cvm)) return bad('cvm');
  const tvr = hexField(msg.tvr, 5);
  const cvmResults = hexField(msg.cvmResults, 3);
  const iccData = hexField(msg.tlv);
  if (!tvr || !cvmResults || !iccData) return bad('data');
  if (iccData.length > 0 && !field55Ok(iccData)) return bad('field-55');
  const result: EmvStartResult = { decision, iccData, cvm: msg.cvm as CvmOutcome, cvmResults, tvr };
  if (typeof msg.reason === 'string' && REASONS.has(msg.reason)) result.reason = msg.reason as EmvDecisionReason;
  if (msg.arc === 'Y1' || msg.arc === 'Z1') result.authorizationResponseCode = msg.arc;
  return result;
}

export function emvCompleteResultFrom(msg: ModuleMessage): EmvCompleteResult | DeviceFaultError<CardReaderFaultCode> {
  if (msg.ok !== true) return emvFailure(msg, 'EMV completion');
  const decision = msg.decision;
  if (decision !== 'TC' && decision !== 'AAC') return badResponse('decision');
  if (typeof msg.arc !== 'string' || !/^[0-9A-Z]{2}$/.test(msg.arc)) return badResponse('arc');
  const iccData = hexField(msg.tlv);
  const scriptResults = hexField(msg.scriptResults ?? '');
  if (!iccData || !scriptResults || !field55Ok(iccData)) return badResponse('field-55');
  const result: EmvCompleteResult = { decision, authorizationResponseCode: msg.arc, iccData, scriptResults };
  if (typeof msg.reason === 'string' && REASONS.has(msg.reason)) result.reason = msg.reason as EmvDecisionReason;
  return result;
}

// ---- the module side (a bridge in front of a kernel, and the emulator) ----

/** EMV_START arguments as the kernel's input, or undefined when they are not what the protocol says. */
export function emvStartInputFrom(msg: ModuleMessage): EmvStartInput | undefined {
  const tags = tlvMap(msg.tlv);
  if (!tags) return undefined;
  const get = (tag: string): Uint8Array | undefined => tags.get(tag);
  const digits = (tag: string): string | undefined => {
    const v = get(tag);
    return v && /^\d+$/.test(hex(v)) ? hex(v) : undefined;
  };
  const num = (tag: string): number | undefined => {
    const d = digits(tag);
    return d === undefined ? undefined : Number(d);
  };
  const hexOf = (tag: string): string | undefined => (get(tag) ? hex(get(tag)!) : undefined);
  const floor = get(TAG.floorLimit);
  const input = {
    amount: num(TAG.amount),
    amountOther: num(TAG.amountOther),
    currencyNumeric: num(TAG.currency),
    countryNumeric: num(TAG.country),
    transactionType: digits(TAG.type),
    date: digits(TAG.date),
    unpredictableNumber: get(TAG.unpredictableNumber),
    terminalCapabilities: hexOf(TAG.capabilities),
    terminalType: digits(TAG.terminalType),
    tvrStart: hexOf(TAG.tvr),
    floorLimit: floor?.length === 4 ? Buffer.from(floor).readUInt32BE(0) : undefined,
    tac: { denial: hexOf(TAG.tacDenial), online: hexOf(TAG.tacOnline), default: hexOf(TAG.tacDefault) },
    contactlessCvmLimit: num(TAG.contactlessCvmLimit),
    contactlessTransactionLimit: num(TAG.contactlessTransactionLimit),
    onlineCapable: msg.online !== false,
  };
  const required = [input.amount, input.currencyNumeric, input.countryNumeric, input.transactionType, input.date];
  if (required.some((v) => v === undefined) || !input.unpredictableNumber || !input.terminalCapabilities)
    return undefined;
  if (input.floorLimit === undefined || !input.tac.denial || !input.tac.online || !input.tac.default) return undefined;
  // Absent optional objects stay absent (exactOptionalPropertyTypes): drop the undefined ones.
  return stripUndefined(input as unknown as EmvStartInput);
}

export function emvAnswerFrom(msg: ModuleMessage): EmvHostAnswer | undefined {
  if (msg.hostReached === false) return { hostReached: false };
  if (msg.hostReached !== true || (msg.hostDecision !== 'approved' && msg.hostDecision !== 'declined'))
    return undefined;
  const bytes = hexField(msg.tlv);
  if (!bytes) return undefined;
  let nodes: TlvNode[];
  try {
    nodes = decodeTlv(bytes);
  } catch {
    return undefined;
  }
  const arc = nodes.find((n) => n.tag === '8A');
  if (!arc || isConstructed(arc)) return undefined;
  const answer: EmvHostAnswer = {
    hostReached: true,
    hostDecision: msg.hostDecision,
    authorizationResponseCode: Buffer.from(arc.value).toString('latin1'),
  };
  const tag91 = nodes.find((n) => n.tag === '91');
  if (tag91 && !isConstructed(tag91)) answer.issuerAuthenticationData = tag91.value;
  const scripts = nodes.filter((n) => n.tag === '71' || n.tag === '72');
  if (scripts.length > 0) answer.issuerScripts = encodeTlv(scripts);
  return answer;
}

export function emvStartAnswer(result: EmvStartResult): Record<string, unknown> {
  return {
    ok: true,
    decision: result.decision,
    cvm: result.cvm,
    cvmResults: hex(result.cvmResults),
    tvr: hex(result.tvr),
    tlv: hex(result.iccData),
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.authorizationResponseCode ? { arc: result.authorizationResponseCode } : {}),
  };
}

export function emvCompleteAnswer(result: EmvCompleteResult): Record<string, unknown> {
  return {
    ok: true,
    decision: result.decision,
    arc: result.authorizationResponseCode,
    tlv: hex(result.iccData),
    scriptResults: hex(result.scriptResults),
    ...(result.reason ? { reason: result.reason } : {}),
  };
}

// ---- helpers ----

function emvFailure(msg: ModuleMessage, what: string): DeviceFaultError<CardReaderFaultCode> {
  const name = typeof msg.error === 'string' ? msg.error : 'unknown';
  const code = EMV_ERRORS[name] ?? 'chip-error';
  return fault(code, `module ${what} failed: ${code}`, { reason: EMV_ERRORS[name] ? name : 'module-error' });
}

/** A module answer the terminal cannot believe counts as a chip failure (the caller may fall back). */
function badResponse(what: string): DeviceFaultError<CardReaderFaultCode> {
  return fault('chip-error', 'module EMV answer rejected', { reason: 'bad-response', field: what });
}

function field55Ok(bytes: Uint8Array): boolean {
  try {
    parseField55(bytes);
    return true;
  } catch {
    return false;
  }
}

function hexField(value: unknown, length?: number): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(value)) return undefined;
  const bytes = fromHex(value);
  return length === undefined || bytes.length === length ? bytes : undefined;
}

function tlvMap(value: unknown): Map<string, Uint8Array> | undefined {
  const bytes = hexField(value);
  if (!bytes) return undefined;
  try {
    return primitivesByTag(decodeTlv(bytes));
  } catch {
    return undefined;
  }
}

function stripUndefined<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

function bcd(value: number, bytes: number): Uint8Array {
  return fromHex(String(value).padStart(bytes * 2, '0'));
}

function u32(value: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(Math.min(value, 0xffffffff) >>> 0);
  return Uint8Array.from(b);
}
