/**
 * The reader-side EMV kernel the mock reader and the card module emulator run over an EmvCard: terminal risk
 * management (floor limit, expiry), CVM selection, terminal action analysis, the two GENERATE AC commands, issuer
 * authentication and scripts, and field 55 for each decision. One transaction at a time.
 */
import { ABSENT_IAC, type ActionCodes, defaultActionAnalysis, terminalActionAnalysis } from '../emv/action-analysis.js';
import { arcBytes } from '../emv/cryptogram.js';
import { selectCvm } from '../emv/cvm.js';
import { buildField55, type EmvData } from '../emv/field55.js';
import { DeviceFaultError } from '../fault.js';
import type { CardReaderFaultCode } from './contract.js';
import { cidOf, type EmvCard, hexBytes, scriptTemplates, type TerminalCdol } from './emv-card.js';
import type { EmvCompleteResult, EmvHostAnswer, EmvStartInput, EmvStartResult } from './emv-contract.js';

interface Session {
  input: EmvStartInput;
  first: EmvStartResult;
  terminal: TerminalCdol;
  tvr: Uint8Array;
  tsi: Uint8Array;
  data: Record<string, Uint8Array>;
  iac: ActionCodes;
}

export class EmvKernel {
  private session: Session | undefined;

  constructor(
    private readonly card: EmvCard,
    private readonly contactless: boolean,
  ) {}

  start(input: EmvStartInput): EmvStartResult {
    checkInput(input);
    this.session = undefined;
    const profile = this.card.profile;
    if (profile.behaviour === 'chip-error') throw fault('chip-error', 'the chip does not answer');
    const tvr = hexBytes(input.tvrStart ?? '0000000000');
    const tsi = Uint8Array.of(0x08, 0x00); // terminal risk management performed
    const terminalCdol: TerminalCdol = {
      amount: bcd(input.amount, 6),
      amountOther: bcd(input.amountOther ?? 0, 6),
      terminalCountry: bcd(input.countryNumeric, 2),
      tvr,
      currency: bcd(input.currencyNumeric, 2),
      date: hexBytes(input.date),
      type: hexBytes(input.transactionType),
      unpredictableNumber: Uint8Array.from(input.unpredictableNumber),
    };
    if (
      this.contactless &&
      input.contactlessTransactionLimit !== undefined &&
      input.amount > input.contactlessTransactionLimit
    ) {
      // No cryptogram: the card is asked for nothing and the cardholder inserts or swipes instead.
      const cvmResults = Uint8Array.of(0x3f, 0x00, 0x00);
      return {
        decision: 'AAC',
        reason: 'try-another-interface',
        iccData: new Uint8Array(),
        cvm: 'failed',
        cvmResults,
        tvr,
      };
    }
    if (input.amount > input.floorLimit) tvr[3]! |= 0x80;
    if (profile.expiry < input.date.slice(0, 4)) tvr[1]! |= 0x40;
    const cvm = selectCvm({
      cvmList: profile.cvmList,
      amount: input.amount,
      amountOther: input.amountOther ?? 0,
      transactionType: Number.parseInt(input.transactionType, 16),
      terminalCapabilities: hexBytes(input.terminalCapabilities),
      contactless: this.contactless,
      ...(input.contactlessCvmLimit !== undefined ? { contactlessCvmLimit: input.contactlessCvmLimit } : {}),
    });
    tvr[2]! |= cvm.tvrByte3;
    if (cvm.iccDataMissing) tvr[0]! |= 0x20;
    if (cvm.cvm !== 'no-cvm') tsi[0]! |= 0x40;
    const requested = terminalActionAnalysis(tvr, tacOf(input), this.iac(), input.onlineCapable ?? true);
    tsi[0]! |= 0x20; // card risk management performed (by the card, at GENERATE AC)
    const ac = this.card.firstGenerateAc(requested, terminalCdol);
    const data: Record<string, Uint8Array> = {
      ...terminalData(input, terminalCdol),
      '9F26': ac.cryptogram,
      '9F27': cidOf(ac.type),
      '9F10': ac.issuerApplicationData,
      '9F36': u16(ac.atc),
      '82': hexBytes(profile.aip),
      '5F34': hexBytes(profile.panSequenceNumber),
      '84': hexBytes(profile.aid),
      '9F34': cvm.cvmResults,
    };
    const first: EmvStartResult = {
      decision: ac.type,
      iccData: buildField55(data),
      cvm: cvm.cvm,
      cvmResults: cvm.cvmResults,
      tvr: Uint8Array.from(tvr),
    };
    if (ac.type === 'AAC') first.reason = requested === 'AAC' ? 'denial-codes' : 'card-declined';
    if (ac.type !== 'ARQC') first.authorizationResponseCode = ac.type === 'TC' ? 'Y1' : 'Z1';
    this.session = { input, first, terminal: terminalCdol, tvr, tsi, data, iac: this.iac() };
    return first;
  }

  complete(answer: EmvHostAnswer): EmvCompleteResult {
    const session = this.session;
    if (!session) throw fault('read-failed', 'no EMV transaction to complete', { reason: 'no-emv-transaction' });
    this.session = undefined;
    const { first, tvr, tsi, data } = session;
    if (first.decision !== 'ARQC') {
      // Decided offline at the first GENERATE AC: there is nothing for the card to do.
      const arc = first.authorizationResponseCode ?? 'Z1';
      return {
        decision: first.decision,
        authorizationResponseCode: arc,
        iccData: first.iccData,
        scriptResults: new Uint8Array(),
      };
    }
    if (this.contactless) return contactlessCompletion(answer, session);
    let arc: string;
    let requested: 'TC' | 'AAC';
    let before: Uint8Array = new Uint8Array();
    let issuerAuthenticationFailed = false;
    if (answer.hostReached) {
      if (!/^[0-9A-Z]{2}$/.test(answer.authorizationResponseCode)) {
        throw fault('read-failed', 'authorisation response code is not two characters', { reason: 'bad-input' });
      }
      arc = answer.authorizationResponseCode;
      requested = answer.hostDecision === 'approved' ? 'TC' : 'AAC';
      const tag91 = answer.issuerAuthenticationData;
      if (tag91 !== undefined) {
        tsi[0]! |= 0x10;
        issuerAuthenticationFailed = !this.card.externalAuthenticate(tag91);
        if (issuerAuthenticationFailed) tvr[4]! |= 0x40;
      }
      const scripts71 = scriptTemplates(answer.issuerScripts, '71');
      before = this.card.runScripts(scripts71);
      if (scripts71.length > 0) tsi[0]! |= 0x04;
      if (scriptFailed(before)) tvr[4]! |= 0x20;
    } else {
      arc = defaultActionAnalysis(tvr, tacOf(session.input), this.iac());
      requested = arc === 'Y3' ? 'TC' : 'AAC';
    }
    const ac = this.card.secondGenerateAc(requested, { ...session.terminal, tvr: Uint8Array.from(tvr) }, arc);
    let after: Uint8Array = new Uint8Array();
    if (answer.hostReached) {
      const scripts72 = scriptTemplates(answer.issuerScripts, '72');
      after = this.card.runScripts(scripts72);
      if (scripts72.length > 0) tsi[0]! |= 0x04;
      if (scriptFailed(after)) tvr[4]! |= 0x10;
    }
    const scriptResults = Uint8Array.from([...before, ...after]);
    const completed: EmvData = {
      ...data,
      '95': Uint8Array.from(tvr),
      '9F26': ac.cryptogram,
      '9F27': cidOf(ac.type),
      '9F10': ac.issuerApplicationData,
      '8A': arcBytes(arc),
      '9B': Uint8Array.from(tsi),
      ...(scriptResults.length > 0 ? { '9F5B': scriptResults } : {}),
    };
    const result: EmvCompleteResult = {
      decision: ac.type === 'TC' ? 'TC' : 'AAC',
      authorizationResponseCode: arc,
      iccData: buildField55(completed),
      scriptResults,
    };
    if (!answer.hostReached) {
      if (arc === 'Z3') result.reason = 'unable-online-declined';
      else result.reason = result.decision === 'TC' ? 'unable-online-approved' : 'card-declined';
    } else if (result.decision === 'AAC') {
      result.reason =
        answer.hostDecision === 'declined'
          ? 'host-declined'
          : issuerAuthenticationFailed
            ? 'issuer-authentication-failed'
            : 'card-declined-after-approval';
    }
    return result;
  }

  /** The card went online (ARQC) and waits for its second GENERATE AC. */
  get awaitingSecondDecision(): boolean {
    return this.session?.first.decision === 'ARQC';
  }

  /** A transaction is between its two decisions. */
  get pending(): boolean {
    return this.session !== undefined;
  }

  private iac(): ActionCodes {
    const iac = this.card.profile.iac ?? {};
    return {
      denial: iac.denial ? hexBytes(iac.denial) : ABSENT_IAC.denial,
      online: iac.online ? hexBytes(iac.online) : ABSENT_IAC.online,
      default: iac.default ? hexBytes(iac.default) : ABSENT_IAC.default,
    };
  }
}

/**
 * A tapped card has left the field by the time the host answers: there is no second GENERATE AC, the host's answer
 * is final (unreached: the default codes decide) and field 55 stays the first cryptogram's, with 8A added.
 */
function contactlessCompletion(answer: EmvHostAnswer, session: Session): EmvCompleteResult {
  let arc: string;
  let approved: boolean;
  if (answer.hostReached) {
    if (!/^[0-9A-Z]{2}$/.test(answer.authorizationResponseCode)) {
      throw fault('read-failed', 'authorisation response code is not two characters', { reason: 'bad-input' });
    }
    arc = answer.authorizationResponseCode;
    approved = answer.hostDecision === 'approved';
  } else {
    arc = defaultActionAnalysis(session.tvr, tacOf(session.input), session.iac);
    approved = arc === 'Y3';
  }
  const result: EmvCompleteResult = {
    decision: approved ? 'TC' : 'AAC',
    authorizationResponseCode: arc,
    iccData: buildField55(session.data, { '8A': arcBytes(arc), '9B': Uint8Array.from(session.tsi) }),
    scriptResults: new Uint8Array(),
  };
  if (!answer.hostReached) result.reason = approved ? 'unable-online-approved' : 'unable-online-declined';
  else if (!approved) result.reason = 'host-declined';
  return result;
}

function terminalData(input: EmvStartInput, cdol: TerminalCdol): Record<string, Uint8Array> {
  return {
    '9F02': cdol.amount,
    '9F03': cdol.amountOther,
    '9F1A': cdol.terminalCountry,
    '95': Uint8Array.from(cdol.tvr),
    '5F2A': cdol.currency,
    '9A': cdol.date,
    '9C': cdol.type,
    '9F37': cdol.unpredictableNumber,
    '9F33': hexBytes(input.terminalCapabilities),
    '9F35': hexBytes(input.terminalType ?? '22'),
  };
}

function tacOf(input: EmvStartInput): ActionCodes {
  return {
    denial: hexBytes(input.tac.denial),
    online: hexBytes(input.tac.online),
    default: hexBytes(input.tac.default),
  };
}

function scriptFailed(results: Uint8Array): boolean {
  for (let i = 0; i < results.length; i += 5) if ((results[i]! & 0xf0) !== 0x20) return true;
  return false;
}

/** The input comes from the transaction machine or over a serial line: each field is checked before use. */
function checkInput(input: EmvStartInput): void {
  const bad = (field: string): never => {
    throw fault('read-failed', `EMV start input: bad ${field}`, { reason: 'bad-input', field });
  };
  const amount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < 1e12;
  if (!amount(input.amount)) bad('amount');
  if (input.amountOther !== undefined && !amount(input.amountOther)) bad('amountOther');
  if (!Number.isInteger(input.currencyNumeric) || input.currencyNumeric < 0 || input.currencyNumeric > 999)
    bad('currencyNumeric');
  if (!Number.isInteger(input.countryNumeric) || input.countryNumeric < 0 || input.countryNumeric > 999)
    bad('countryNumeric');
  if (!/^\d{2}$/.test(input.transactionType)) bad('transactionType');
  if (!/^\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(input.date)) bad('date');
  if (!(input.unpredictableNumber instanceof Uint8Array) || input.unpredictableNumber.length !== 4)
    bad('unpredictableNumber');
  if (!/^[0-9A-Fa-f]{6}$/.test(input.terminalCapabilities)) bad('terminalCapabilities');
  if (input.terminalType !== undefined && !/^\d{2}$/.test(input.terminalType)) bad('terminalType');
  if (input.tvrStart !== undefined && !/^[0-9A-Fa-f]{10}$/.test(input.tvrStart)) bad('tvrStart');
  if (!amount(input.floorLimit)) bad('floorLimit');
  for (const key of ['denial', 'online', 'default'] as const) {
    if (!/^[0-9A-Fa-f]{10}$/.test(input.tac?.[key] ?? '')) bad(`tac.${key}`);
  }
  if (input.contactlessCvmLimit !== undefined && !amount(input.contactlessCvmLimit)) bad('contactlessCvmLimit');
  if (input.contactlessTransactionLimit !== undefined && !amount(input.contactlessTransactionLimit)) {
    bad('contactlessTransactionLimit');
  }
}

/** A number as n-format BCD of `bytes` bytes. */
function bcd(value: number, bytes: number): Uint8Array {
  return hexBytes(String(value).padStart(bytes * 2, '0'));
}

function u16(value: number): Uint8Array {
  return Uint8Array.of(value >> 8, value & 0xff);
}

function fault(
  code: CardReaderFaultCode,
  message: string,
  detail?: Record<string, string | number | boolean>,
): DeviceFaultError<CardReaderFaultCode> {
  return new DeviceFaultError('card-reader', code, message, detail);
}
