/**
 * Sign-on with key exchange: an 0800 (field 70 = 001) whose 0810 carries the session MAC key encrypted under the
 * terminal master key, with its check value. The key is taken only when its check value is the one computed from the
 * decrypted key: a mismatch (another master key at the host, a damaged key block) refuses it.
 */
import { desDecrypt, tdesCheckValue } from '../../hal/crypto/index.js';
import { buildSignOn, isApprovedClass, Iso8583Error, parseKeyBlock } from '../iso8583/index.js';
import { type AcquirerClient, HostError } from './acquirer-client.js';

export type SignOnErrorCode = 'no-master-key' | 'host-error' | 'refused' | 'bad-key-block' | 'check-value-mismatch';

export class SignOnError extends Error {
  override readonly name = 'SignOnError';
  constructor(
    readonly code: SignOnErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SignOnInput {
  client: AcquirerClient;
  terminalId: string;
  stan: () => number;
  now: () => Date;
  /** The terminal master key (16 bytes), or undefined when none was loaded. */
  masterKey: () => Buffer | undefined;
  timeoutMs?: number;
}

/** The session MAC key and its check value; never logged (the check value may be). */
export interface SessionKey {
  key: Buffer;
  checkValue: string;
}

export async function signOn(input: SignOnInput): Promise<SessionKey> {
  const tmk = input.masterKey();
  if (!tmk) throw new SignOnError('no-master-key', 'no terminal master key: load one with `pos-terminal keys load`');
  try {
    const request = buildSignOn({ stan: input.stan(), terminalId: input.terminalId, transmittedAt: input.now() });
    let reply: Awaited<ReturnType<AcquirerClient['send']>>;
    try {
      reply = await input.client.send(request, input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs });
    } catch (err) {
      if (err instanceof HostError) throw new SignOnError('host-error', `sign-on not answered: ${err.message}`);
      throw err;
    }
    if (!isApprovedClass(reply.responseCode))
      throw new SignOnError('refused', `the host refused the sign-on with ${reply.responseCode}`);
    let block: ReturnType<typeof parseKeyBlock>;
    try {
      block = parseKeyBlock(reply.message);
    } catch (err) {
      if (err instanceof Iso8583Error) throw new SignOnError('bad-key-block', `sign-on answer: ${err.message}`);
      throw err;
    }
    const key = desDecrypt(tmk, block.encrypted);
    const checkValue = tdesCheckValue(key);
    if (checkValue !== block.checkValue) {
      key.fill(0);
      throw new SignOnError(
        'check-value-mismatch',
        `the session key's check value is ${checkValue}, the host said ${block.checkValue}: key refused (is the master key the host's?)`,
      );
    }
    return { key, checkValue };
  } finally {
    tmk.fill(0);
  }
}
