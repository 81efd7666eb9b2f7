/**
 * The terminal's side of the ISO 8583 conversation: packs a request, sends it over the host link keyed by
 * terminal id + STAN, and checks that what comes back is the answer to that request. Every failure is a
 * HostError that says whether the request left the terminal, which is what decides if a reversal is owed.
 */
import type { Correlator, HostLink } from '../../hal/acquirer-link/contract.js';
import { isDeviceFault } from '../../hal/fault.js';
import {
  correlationKey,
  Iso8583Error,
  pack,
  parseResponse,
  responseClass,
  responseMtiFor,
  unpack,
  type HostResponse,
  type IsoMessage,
} from '../iso8583/index.js';
import type { HostErrorCode } from '../vocabulary/index.js';
import { isMacedRequest, type MacCheck, type MacSession } from './mac-session.js';

export class HostError extends Error {
  override readonly name = 'HostError';
  constructor(
    readonly code: HostErrorCode,
    message: string,
    /** True when the request may have reached the host: the sale must be reversed unless answered. */
    readonly sent: boolean,
    /** The host did answer (field 39, '??' when unreadable) with something the terminal cannot take. */
    readonly answeredWith?: string,
  ) {
    super(message);
  }
}

/**
 * Correlates received frames for the host link: terminal id + STAN + response MTI, or undefined for undecodable
 * bytes. The MTI is part of the key because a reversal reuses the STAN of its original: a late 0210 must never be
 * taken for the 0410 the reversal waits for.
 */
export const isoCorrelator: Correlator = (frame) => {
  try {
    const message = unpack(frame);
    const key = correlationKey(message);
    return key === undefined ? undefined : `${key}/${message.mti}`;
  } catch {
    return undefined;
  }
};

/** The key under which the response to `request` will arrive (see isoCorrelator). */
export function responseKey(request: IsoMessage): string | undefined {
  const key = correlationKey(request);
  const mti = responseMtiFor(request.mti);
  return key === undefined || mti === undefined ? undefined : `${key}/${mti}`;
}

export interface HostReply extends HostResponse {
  message: IsoMessage;
}

/** What became of one request: the host answered, or a HostError (a watcher counts timeouts in a row). */
export type SendOutcome = { answered: true } | { answered: false; error: HostError };

export class AcquirerClient {
  private watcher: ((outcome: SendOutcome) => void) | undefined;

  /** `mac`: when required, financial, advice and reversal requests are MACed and their answers verified. */
  constructor(
    private readonly link: HostLink,
    private readonly mac?: MacSession,
  ) {}

  /** One watcher of every request's outcome (the host-availability tracker). */
  watch(watcher: (outcome: SendOutcome) => void): void {
    this.watcher = watcher;
  }

  async send(request: IsoMessage, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<HostReply> {
    try {
      const reply = await this.exchange(request, options);
      this.watcher?.({ answered: true });
      return reply;
    } catch (err) {
      if (err instanceof HostError) this.watcher?.({ answered: false, error: err });
      throw err;
    }
  }

  private async exchange(
    request: IsoMessage,
    options: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<HostReply> {
    const maced = this.mac?.required === true && isMacedRequest(request.mti);
    const signed = maced ? await this.signed(request) : undefined;
    const outgoing = signed?.message ?? request;
    let frame: Buffer;
    try {
      frame = pack(outgoing);
    } catch (err) {
      throw new HostError(
        'bad-request',
        `request ${request.mti} could not be packed: ${(err as Error).message}`,
        false,
      );
    }
    const key = responseKey(request);
    if (key === undefined)
      throw new HostError('bad-request', `request ${request.mti} has no terminal id, STAN or response type`, false);

    let responseFrame: Buffer;
    try {
      responseFrame = await this.link.exchange(frame, key, options);
    } catch (err) {
      if (isDeviceFault(err)) {
        const sent = err.detail?.['sent'] === true;
        const code: HostErrorCode =
          err.code === 'duplicate-key'
            ? 'busy'
            : err.code === 'frame-too-large'
              ? 'bad-request'
              : (err.code as HostErrorCode);
        throw new HostError(code, err.message, sent);
      }
      throw new HostError('link-down', `host link failed: ${(err as Error).message}`, true);
    }

    let message: IsoMessage;
    let response: HostResponse;
    try {
      message = unpack(responseFrame);
      response = parseResponse(message);
    } catch (err) {
      const detail = err instanceof Iso8583Error ? err.message : String(err);
      // Bytes keyed to our request: the host has it, whatever it answered.
      throw new HostError('garbled-response', `response to ${key} does not decode: ${detail}`, true, '??');
    }
    const expectedMti = responseMtiFor(request.mti);
    if (response.mti !== expectedMti) {
      throw new HostError(
        'mismatched-response',
        `expected a ${expectedMti} response to ${request.mti}, got ${response.mti}`,
        true,
        response.responseCode,
      );
    }
    if (signed) this.checkAnswerMac(key, message, response, signed.check);
    const requestAmount = typeof request.fields[4] === 'string' ? Number(request.fields[4]) : undefined;
    // A partial approval (class partially-approved, code 10) answers with the smaller amount it approved.
    const partial =
      responseClass(response.responseCode) === 'partially-approved' &&
      response.amount !== undefined &&
      requestAmount !== undefined &&
      response.amount < requestAmount;
    if (requestAmount !== undefined && response.amount !== undefined && response.amount !== requestAmount && !partial) {
      throw new HostError(
        'mismatched-response',
        `response amount ${response.amount} differs from requested ${requestAmount}`,
        true,
        response.responseCode,
      );
    }
    return { ...response, message };
  }

  /**
   * The request with its MAC. Without a key (a sign-on under way is waited for) it is not sent: a financial message
   * never leaves unMACed when MAC is required.
   */
  private async signed(request: IsoMessage): Promise<NonNullable<ReturnType<MacSession['sign']>>> {
    const mac = this.mac!;
    if (!mac.hasKey()) await mac.waitForKey();
    let signed: ReturnType<MacSession['sign']>;
    try {
      signed = mac.sign(request);
    } catch (err) {
      throw new HostError('bad-request', `request ${request.mti} could not be MACed: ${(err as Error).message}`, false);
    }
    // No sign-on because no host can be reached: the request cannot leave either, as without MAC.
    if (signed === undefined && !this.link.isUp())
      throw new HostError('not-connected', `host not connected: the ${request.mti} was not sent`, false);
    if (signed === undefined)
      throw new HostError('no-mac-key', `no MAC key (${mac.whyNoKey()}): the ${request.mti} was not sent`, false);
    return signed;
  }

  /**
   * An answer whose MAC is missing or wrong is not honoured: it is as if no answer came (the request may be at the
   * host, so a reversal is owed). The key is dropped and a new one asked for; so is it when the host answers 63
   * (security violation), its way of saying it no longer takes our key.
   */
  private checkAnswerMac(
    key: string,
    message: IsoMessage,
    response: HostResponse,
    verify: (answer: IsoMessage) => MacCheck,
  ): void {
    const mac = this.mac!;
    const check = verify(message);
    if (!check.ok) {
      mac.dropKey(`the answer to ${key} had a ${check.why} MAC`);
      throw new HostError('bad-mac', `the answer to ${key} has a ${check.why} MAC`, true, response.responseCode);
    }
    if (response.responseCode === SECURITY_VIOLATION) mac.dropKey(`the host refused our MAC (63) on ${key}`);
  }
}

/** Field 39 63: the host could not verify our MAC. */
const SECURITY_VIOLATION = '63';
