/**
 * The MAC side of a host written in a test (a raw front end that crafts its own answers): it answers a sign-on with
 * a session key under the terminal master key, checks the MAC of a request from its raw bytes (the last 8 bytes,
 * over everything before them) and MACs its answers the same way, without the terminal's MAC code.
 */
import { randomBytes } from 'node:crypto';
import { desEncrypt, retailMac, tdesCheckValue } from '../../hal/crypto/index.js';
import { type IsoMessage, pack } from '../../src/iso8583/index.js';

export class RawMacHost {
  private session: Buffer | undefined;
  private readonly masterKey: Buffer;

  constructor(masterKey: Uint8Array) {
    this.masterKey = Buffer.from(masterKey);
  }

  /** Field 48 of the 0810 answering a sign-on: MAK + the new session key under the master key + its check value. */
  signOnKeyBlock(): string {
    this.session = randomBytes(16);
    const encrypted = desEncrypt(this.masterKey, this.session).toString('hex').toUpperCase();
    return `MAK${encrypted}${tdesCheckValue(this.session)}`;
  }

  /** A MACed request: its last 8 bytes are the MAC of all the bytes before them. */
  verifies(frame: Uint8Array): boolean {
    if (!this.session || frame.length <= 8) return false;
    const body = frame.subarray(0, frame.length - 8);
    return retailMac(this.session, body).equals(Buffer.from(frame.subarray(frame.length - 8)));
  }

  /** The answer packed with its MAC as its last field (64, or 128 with a secondary bitmap). */
  packWithMac(answer: IsoMessage): Buffer {
    if (!this.session) return pack(answer);
    const secondary = Object.keys(answer.fields).some((n) => Number(n) > 64);
    const frame = pack({ mti: answer.mti, fields: { ...answer.fields, [secondary ? 128 : 64]: Buffer.alloc(8) } });
    retailMac(this.session, frame.subarray(0, frame.length - 8)).copy(frame, frame.length - 8);
    return frame;
  }
}
