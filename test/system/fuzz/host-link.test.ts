/**
 * Fuzz: bytes from the acquirer host. A byte stream goes through the 2-byte length FrameDecoder (as the TCP host link
 * uses it), every frame through the ISO 8583 unpack, the correlator, parseResponse, and the AcquirerClient's checks
 * of the answer against its request. Only Iso8583Error and HostError (with their known codes) and the decoder's
 * `frame-too-large` result may come out; an accepted frame must re-pack to the same bytes.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HostLink } from '../../../hal/acquirer-link/contract.js';
import { encodeFrame, FrameDecoder } from '../../../hal/acquirer-link/framing.js';
import { AcquirerClient, HostError, isoCorrelator, responseKey } from '../../../src/acquirer/acquirer-client.js';
import type { HostErrorCode } from '../../../src/vocabulary/index.js';
import {
  ISO8583_ERROR_CODES,
  buildEcho,
  buildFinancialRequest,
  buildResponse,
  buildReversal,
  Iso8583Error,
  pack,
  parseResponse,
  RESPONSE_CODES,
  responseClass,
  responseMtiFor,
  unpack,
  type FinancialRequest,
  type Iso8583ErrorCode,
  type IsoMessage,
} from '../../../src/iso8583/index.js';
import { DATA_FIELDS, valueArb } from '../../iso8583/arbitraries.js';
import { CASES, fcParams, FuzzFailure, Tally, timeoutFor } from './budget.js';
import { applyByteMutations, biasedBytes, byteMutation, chunk, chunkSizes, mutationList, rarely } from './mutate.js';

const SURFACE = 'host-link';
/** The shipped config's host.maxFrameBytes: small enough that a damaged header hits the limit. */
const MAX_FRAME = 8192;
const ISO_CODES: readonly Iso8583ErrorCode[] = ISO8583_ERROR_CODES;
/** What the client may answer to a frame that reached it; the other codes are about the link, stubbed here. */
const RESPONSE_HOST_CODES: readonly HostErrorCode[] = ['garbled-response', 'mismatched-response'];
/** Digits, bitmap bits and the bytes around the character classes. */
const ISO_BYTES = [0x30, 0x31, 0x32, 0x39, 0x00, 0x80, 0x40, 0xff, 0x20, 0x7e, 0x7f, 0x43, 0x44, 0x3d];

const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const ansText = (n: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: n,
    maxLength: n,
  });

const financial: fc.Arbitrary<FinancialRequest> = fc.record({
  processingCode: fc.constantFrom('000000', '020000', '200000'),
  amount: fc.oneof(fc.integer({ min: 0, max: 99_999_999 }), fc.constant(999_999_999_999)),
  currency: fc.constantFrom('978', '840', '826'),
  stan: fc.integer({ min: 1, max: 999_999 }),
  transmittedAt: fc.date({
    min: new Date(Date.UTC(2020, 0, 1)),
    max: new Date(Date.UTC(2035, 11, 31)),
    noInvalidDate: true,
  }),
  terminalId: fc.oneof(
    ansText(8),
    digits(8).map((d) => `T${d.slice(1)}`),
  ),
  merchantId: ansText(15),
  entryMode: fc.constantFrom('051', '071', '901'),
  pan: fc.option(digits(16), { nil: undefined }),
});

const request: fc.Arbitrary<IsoMessage> = fc.oneof(
  financial.map((r) => buildFinancialRequest(r)),
  financial.map((r) => ({ ...buildFinancialRequest(r), mti: '0100' })),
  fc.tuple(financial, fc.boolean()).map(([r, repeat]) => buildReversal(r, { repeat, transmittedAt: r.transmittedAt })),
  financial.map((r) => buildEcho({ stan: r.stan, terminalId: r.terminalId, transmittedAt: r.transmittedAt })),
);

/** A host answer to the request, sometimes with extra (valid) fields, a different amount or MTI. */
const exchange = fc
  .record({
    request,
    code: fc.oneof(
      fc.constantFrom(...RESPONSE_CODES.map((c) => c.code)),
      fc.string({ unit: fc.constantFrom(...'0123456789AZaz '), minLength: 2, maxLength: 2 }),
    ),
    approval: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789ABCXYZ'), minLength: 6, maxLength: 6 }), {
      nil: undefined,
    }),
    rrn: fc.option(digits(12), { nil: undefined }),
    extra: fc.array(
      fc.constantFrom(...DATA_FIELDS).chain((s) => valueArb(s).map((v) => [s.number, v] as const)),
      { maxLength: 2 },
    ),
    amount: rarely(digits(12)),
    mti: rarely(fc.constantFrom('0110', '0210', '0230', '0410', '0810', '0200', '9999')),
  })
  .map((x) => {
    const response = buildResponse(x.request, { responseCode: x.code, approvalCode: x.approval, rrn: x.rrn });
    for (const [n, v] of x.extra) response.fields[n] = v;
    if (x.amount !== undefined) response.fields[4] = x.amount;
    if (x.mti !== undefined) response.mti = x.mti;
    return { request: x.request, response: pack(response) };
  });

interface WireCase {
  request: IsoMessage;
  wire: Uint8Array;
  sizes: number[];
}

const mutations = mutationList(byteMutation);

/** Damage the message inside a correct frame (reaches unpack), or the framed stream itself (reaches the decoder). */
const damagedMessage = fc
  .record({ x: exchange, m: mutations, keepAlive: fc.boolean(), sizes: chunkSizes })
  .map(({ x, m, keepAlive, sizes }) => ({
    request: x.request,
    wire: Buffer.concat([
      keepAlive ? encodeFrame(new Uint8Array(0)) : Buffer.alloc(0),
      encodeFrame(applyByteMutations(x.response, m, ISO_BYTES)),
    ]),
    sizes,
  }));
const damagedStream = fc
  .record({ x: exchange, second: exchange, m: mutations, sizes: chunkSizes })
  .map(({ x, second, m, sizes }) => ({
    request: x.request,
    wire: applyByteMutations(Buffer.concat([encodeFrame(x.response), encodeFrame(second.response)]), m, ISO_BYTES),
    sizes,
  }));
/** An MTI and a bitmap from a real answer, then noise: reaches the field decoders. */
const noisyFields = fc
  .record({ x: exchange, body: biasedBytes(ISO_BYTES, 64), sizes: chunkSizes })
  .map(({ x, body, sizes }) => ({
    request: x.request,
    wire: encodeFrame(Buffer.concat([x.response.subarray(0, 12), body])),
    sizes,
  }));
const noise = fc
  .record({ x: exchange, noise: biasedBytes(ISO_BYTES, 200), sizes: chunkSizes })
  .map(({ x, noise: bytes, sizes }) => ({ request: x.request, wire: bytes, sizes }));

const wireCase: fc.Arbitrary<WireCase> = fc.oneof(
  { weight: 4, arbitrary: damagedMessage },
  { weight: 2, arbitrary: damagedStream },
  { weight: 2, arbitrary: noisyFields },
  { weight: 1, arbitrary: noise },
);

/** A link that hands the client whatever frame the test puts in `frame`, as if keyed to its request. */
class StubLink implements HostLink {
  frame: Buffer = Buffer.alloc(0);
  start(): void {}
  async stop(): Promise<void> {}
  isUp(): boolean {
    return true;
  }
  async exchange(): Promise<Buffer> {
    return this.frame;
  }
  on(): () => void {
    return () => undefined;
  }
}

function isoCode(err: unknown, frame: Uint8Array, where: string): Iso8583ErrorCode {
  if (!(err instanceof Iso8583Error) || !ISO_CODES.includes(err.code))
    throw new FuzzFailure(SURFACE, `${where} threw an untyped error`, frame, err);
  return err.code;
}

/** Every layer the terminal puts a received frame through; returns the deepest outcome. */
async function throughTheStack(
  frame: Buffer,
  req: IsoMessage,
  link: StubLink,
  client: AcquirerClient,
): Promise<string> {
  let message: IsoMessage;
  try {
    message = unpack(frame);
  } catch (err) {
    const code = isoCode(err, frame, 'unpack');
    // The correlator must agree that an undecodable frame has no key.
    if (isoCorrelator(frame) !== undefined)
      throw new FuzzFailure(SURFACE, 'correlator keyed a frame unpack refuses', frame);
    return `unpack:${code}`;
  }
  if (!Buffer.from(pack(message)).equals(frame))
    throw new FuzzFailure(SURFACE, 'an accepted frame does not re-pack to its bytes', frame);

  let parseError: Iso8583ErrorCode | undefined;
  let parsed: ReturnType<typeof parseResponse> | undefined;
  try {
    parsed = parseResponse(message);
  } catch (err) {
    parseError = isoCode(err, frame, 'parseResponse');
  }

  let key: string | undefined;
  try {
    key = isoCorrelator(frame);
  } catch (err) {
    throw new FuzzFailure(SURFACE, 'the correlator threw', frame, err);
  }
  // The link hands the client only frames keyed to its request; the rest are unsolicited.
  if (key === undefined || key !== responseKey(req)) return parseError ? `response:${parseError}` : 'unsolicited';

  const requestAmount = typeof req.fields[4] === 'string' ? Number(req.fields[4]) : undefined;
  const expected =
    parsed === undefined
      ? 'host:garbled-response'
      : parsed.mti !== responseMtiFor(req.mti) ||
          (requestAmount !== undefined &&
            parsed.amount !== undefined &&
            parsed.amount !== requestAmount &&
            // A partial approval (class partially-approved) answers with the smaller amount it approved.
            !(responseClass(parsed.responseCode) === 'partially-approved' && parsed.amount < requestAmount))
        ? 'host:mismatched-response'
        : 'accepted';
  link.frame = frame;
  let outcome: string;
  try {
    const reply = await client.send(req);
    assert.equal(reply.stan, Number(req.fields[11]));
    outcome = 'accepted';
  } catch (err) {
    if (!(err instanceof HostError) || !RESPONSE_HOST_CODES.includes(err.code)) {
      throw new FuzzFailure(SURFACE, 'AcquirerClient.send threw an untyped error', frame, err);
    }
    assert.equal(err.sent, true);
    outcome = `host:${err.code}`;
  }
  if (outcome !== expected)
    throw new FuzzFailure(SURFACE, `client answered ${outcome}, the checks say ${expected}`, frame);
  return outcome;
}

describe('fuzz: ISO 8583 frames on the host link', () => {
  it(
    `${CASES} streams: typed errors only, every frame re-packs, the decoder stays bounded and recovers`,
    async () => {
      const tally = new Tally(SURFACE);
      const link = new StubLink();
      const client = new AcquirerClient(link);
      const probe = fc.sample(exchange, { seed: 1, numRuns: 1 })[0]!;

      await fc.assert(
        fc.asyncProperty(wireCase, async ({ request: req, wire, sizes }) => {
          tally.begin();
          const decoder = new FrameDecoder(MAX_FRAME);
          let poisoned = false;
          let frames = 0;
          for (const part of chunk(wire, sizes)) {
            let result: ReturnType<FrameDecoder['push']>;
            try {
              result = decoder.push(part);
            } catch (err) {
              throw new FuzzFailure(SURFACE, 'FrameDecoder.push threw', wire, err);
            }
            if (decoder.pendingBytes > MAX_FRAME + 1)
              throw new FuzzFailure(SURFACE, `decoder holds ${decoder.pendingBytes} bytes`, wire);
            for (const frame of result.frames) {
              frames++;
              if (frame.length === 0 || frame.length > MAX_FRAME)
                throw new FuzzFailure(SURFACE, `frame of ${frame.length} bytes`, wire);
              tally.add(await throughTheStack(frame, req, link, client));
            }
            if (!result.ok) {
              assert.equal(result.error.code, 'frame-too-large');
              tally.add('frame:frame-too-large');
              poisoned = true;
              break; // the link drops the connection: nothing after it is read
            }
          }
          if (frames === 0 && !poisoned) tally.add('skipped:incomplete-frame');

          // Clean state: a poisoned decoder holds nothing; one mid-frame is reset as the link does on reconnect.
          if (poisoned) assert.equal(decoder.pendingBytes, 0);
          else if (decoder.pendingBytes > 0) decoder.reset();
          const after = decoder.push(encodeFrame(probe.response));
          if (!after.ok || after.frames.length !== 1 || !after.frames[0]!.equals(probe.response)) {
            throw new FuzzFailure(SURFACE, 'a valid frame after this stream did not come out whole', wire);
          }
        }),
        fcParams(SURFACE, CASES),
      );

      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      // Proof of depth: refusals from the field decoders and from the client's answer checks, not only the first check.
      const outcomes = [...tally.counts.keys()];
      expect(outcomes).toContain('host:mismatched-response');
      expect(outcomes.some((o) => /^unpack:(bad-format|bad-length-prefix|trailing-bytes)$/.test(o))).toBe(true);
    },
    timeoutFor(CASES, 2),
  );
});
