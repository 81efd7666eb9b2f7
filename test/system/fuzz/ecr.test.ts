/**
 * Fuzz: lines from the cash register. Byte streams go through the server's LineReader, the strict UTF-8 decode and
 * parseRequestLine, exactly as EcrServer.receive does; then a share of the same lines goes over a real loopback socket
 * to a running EcrServer, which must answer each with one typed reply and keep the connection open.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ECR_COMMANDS,
  ecrRequestSchema,
  EcrServer,
  LineReader,
  MAX_AMOUNT,
  MAX_STAN,
  parseRequestLine,
  SIM_FAULT_DEVICES,
  type EcrErrorCode,
  type EcrHandler,
  type LineEvent,
} from '../../../src/ecr/index.js';
import { CASES, fcParams, FuzzFailure, scaled, surfaceSeed, Tally, timeoutFor } from './budget.js';
import {
  biasedBytes,
  byteMutation,
  chunk,
  chunkSizes,
  mutatedJson,
  mutationList,
  applyByteMutations,
  type Json,
} from './mutate.js';

const SURFACE = 'ecr';
const MAX_LINE = 1024;
/** What parseRequestLine itself may answer; the other codes come from the server and the handler. */
const PARSE_CODES: readonly EcrErrorCode[] = ['invalid-json', 'invalid-request', 'unknown-command', 'missing-field'];
/** The message parseRequestLine gives when something below it threw: a crash it hid, so a failure here. */
const HIDDEN_CRASH = 'the request could not be read';
/** JSON punctuation, digits, line ends and pieces of multi-byte UTF-8. */
const JSON_BYTES = [...'{}[]":,\\ 0123456789-.eE\n\r\tnultrefas']
  .map((c) => c.charCodeAt(0))
  .concat([0x00, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xff, 0xed, 0xa0, 0x80]);

// ---- generators ----

const id = fc.oneof(
  fc.string({ minLength: 1, maxLength: 64 }),
  fc.integer(),
  fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
);
const currency = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 3, maxLength: 3 });
const pin = fc.string({ minLength: 1, maxLength: 16 });
const amount = fc.integer({ min: 1, max: MAX_AMOUNT });
const stan = fc.integer({ min: 1, max: MAX_STAN });

function cmd<T extends Record<string, fc.Arbitrary<unknown>>>(name: string, fields: T, required: (keyof T)[] = []) {
  return fc
    .record({ id, token: fc.string({ maxLength: 256 }), ...fields }, { requiredKeys: ['id', ...required] as never[] })
    .map((r) => ({ ...r, cmd: name }) as Json);
}

/** One valid request of every command, with and without its optional fields. */
const validRequest: fc.Arbitrary<Json> = fc.oneof(
  cmd('sale', { amount, currency }, ['amount']),
  cmd('refund', { amount, currency, supervisorPin: pin }, ['amount']),
  cmd('void', { stan, supervisorPin: pin }, ['stan']),
  cmd('cancel', {}),
  cmd('confirm', {}),
  cmd('status', {}),
  cmd('reprint', { stan }),
  cmd('slip', { code: fc.integer({ min: 0, max: 999 }).map((n) => `E${String(n).padStart(3, '0')}`) }),
  cmd('unlock', { supervisorPin: pin }),
  cmd('selftest', {}),
  cmd('sim.card', { name: fc.string({ minLength: 1, maxLength: 64 }) }),
  cmd(
    'sim.fault',
    {
      device: fc.constantFrom(...SIM_FAULT_DEVICES),
      code: fc.string({ minLength: 1, maxLength: 64 }),
      atStep: fc.integer({ min: 1, max: 1_000_000 }),
      times: fc.integer({ min: 1, max: 1_000_000 }),
    },
    ['device', 'code'],
  ),
  cmd('sim.remove', {}),
);

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** One line's bytes, without its newline (though damage may put newlines inside). */
const lineBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: mutatedJson(validRequest).map((v) => utf8(JSON.stringify(v))) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(validRequest, mutationList(byteMutation))
      .map(([v, m]) => applyByteMutations(utf8(JSON.stringify(v)), m, JSON_BYTES)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => utf8(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(utf8) },
  { weight: 1, arbitrary: biasedBytes(JSON_BYTES, 120) },
  // Longer than the line limit, some only just.
  {
    weight: 1,
    arbitrary: fc
      .tuple(validRequest, fc.integer({ min: MAX_LINE - 300, max: MAX_LINE * 3 }))
      .map(([v, n]) => utf8(JSON.stringify(v).padEnd(n, ' '))),
  },
);

const streamCase = fc.record({
  lines: fc.array(lineBytes, { minLength: 1, maxLength: 4 }),
  crlf: fc.boolean(),
  trailingNewline: fc.boolean(),
  sizes: chunkSizes,
});

function joinLines(lines: Uint8Array[], crlf: boolean, trailing: boolean): Buffer {
  const nl = Buffer.from(crlf ? '\r\n' : '\n');
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    parts.push(Buffer.from(l));
    if (i < lines.length - 1 || trailing) parts.push(nl);
  });
  return Buffer.concat(parts);
}

// ---- what the server does with a line ----

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type LineOutcome =
  | { reply: 'error'; code: EcrErrorCode }
  | { reply: 'request'; id: string; cmd: string }
  | { reply: 'none' };

/** The server's handling of one LineReader event (EcrServer.receive + dispatch), with every answer checked. */
function judge(event: LineEvent): LineOutcome {
  if ('tooLong' in event) return { reply: 'error', code: 'line-too-long' };
  let text: string;
  try {
    text = strictUtf8.decode(event.line);
  } catch {
    return { reply: 'error', code: 'invalid-json' };
  }
  if (text.trim() === '') return { reply: 'none' };
  let parsed: ReturnType<typeof parseRequestLine>;
  try {
    parsed = parseRequestLine(text);
  } catch (err) {
    throw new FuzzFailure(SURFACE, 'parseRequestLine threw', event.line, err);
  }
  let schemaSays: boolean | undefined;
  try {
    schemaSays = ecrRequestSchema.safeParse(JSON.parse(text)).success;
  } catch {
    schemaSays = undefined; // not JSON
  }
  if (parsed.ok) {
    const r = parsed.request;
    if (!ECR_COMMANDS.includes(r.cmd) || typeof r.id !== 'string' || r.id.length === 0) {
      throw new FuzzFailure(
        SURFACE,
        `accepted a request without a usable id or command: ${JSON.stringify(r).slice(0, 200)}`,
        event.line,
      );
    }
    if (schemaSays !== true) throw new FuzzFailure(SURFACE, 'accepted a line the request schema refuses', event.line);
    return { reply: 'request', id: r.id, cmd: r.cmd };
  }
  const e = parsed.error;
  if (e.type !== 'error' || !PARSE_CODES.includes(e.code) || e.message === HIDDEN_CRASH) {
    throw new FuzzFailure(SURFACE, `untyped refusal ${JSON.stringify(e).slice(0, 300)}`, event.line);
  }
  // An error reply stays small whatever came in (values are clipped, objects never stringified).
  if (e.message.length > 400 || (e.field !== undefined && e.field.length > 64)) {
    throw new FuzzFailure(SURFACE, `error reply of ${e.message.length} characters`, event.line);
  }
  if (e.id !== null && typeof e.id !== 'string')
    throw new FuzzFailure(SURFACE, 'error reply with a bad id', event.line);
  if (schemaSays === true)
    throw new FuzzFailure(SURFACE, `refused (${e.code}) a line the request schema accepts`, event.line);
  return { reply: 'error', code: e.code };
}

function outcomeName(o: LineOutcome): string {
  return o.reply === 'request' ? 'accepted' : o.reply === 'error' ? `error:${o.code}` : 'skipped:blank';
}

const PROBE = Buffer.from('{"id":"probe","cmd":"status"}');

describe('fuzz: ECR request lines', () => {
  it(
    `${CASES} streams through LineReader and parseRequestLine: typed replies only, bounded, and it recovers`,
    () => {
      const tally = new Tally(SURFACE);
      fc.assert(
        fc.property(streamCase, ({ lines, crlf, trailingNewline, sizes }) => {
          tally.begin();
          const stream = joinLines(lines, crlf, trailingNewline);
          const reader = new LineReader(MAX_LINE);
          for (const part of chunk(stream, sizes)) {
            let events: LineEvent[];
            try {
              events = reader.push(Buffer.from(part));
            } catch (err) {
              throw new FuzzFailure(SURFACE, 'LineReader.push threw', stream, err);
            }
            if (reader.pendingBytes > MAX_LINE)
              throw new FuzzFailure(SURFACE, `LineReader holds ${reader.pendingBytes} bytes`, stream);
            for (const event of events) tally.add(outcomeName(judge(event)));
          }
          // Clean state: a newline ends whatever was left, and the next good line parses.
          const after = reader.push(Buffer.concat([Buffer.from('\n'), PROBE, Buffer.from('\n')]));
          const last = after[after.length - 1];
          const probe = last === undefined ? undefined : judge(last);
          if (probe?.reply !== 'request' || probe.id !== 'probe') {
            throw new FuzzFailure(SURFACE, 'a valid line after this stream did not parse', stream);
          }
          assert.equal(reader.pendingBytes, 0);
        }),
        fcParams(SURFACE, CASES),
      );
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      for (const code of ['invalid-json', 'invalid-request', 'unknown-command', 'missing-field', 'line-too-long']) {
        expect([...tally.counts.keys()]).toContain(`error:${code}`);
      }
    },
    timeoutFor(CASES, 2),
  );
});

// ---- over a real socket ----

/** Answers every valid request with one `done` (status with `status`), as a terminal would with one reply. */
const handler: EcrHandler = {
  handle(request, session) {
    session.send(
      request.cmd === 'status'
        ? { id: request.id, type: 'status', state: 'idle' }
        : { id: request.id, type: 'done', cmd: request.cmd },
    );
  },
};

/** A register that writes raw bytes and collects reply lines; the reply to a probe marks the end of a batch. */
class RawClient {
  readonly replies: Record<string, unknown>[] = [];
  closed = false;
  private buffered = '';
  private waiting: { id: string; resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffered += text;
      for (let nl = this.buffered.indexOf('\n'); nl !== -1; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const reply = JSON.parse(line) as Record<string, unknown>;
        this.replies.push(reply);
        if (this.waiting && reply.id === this.waiting.id) {
          const w = this.waiting;
          this.waiting = undefined;
          w.resolve();
        }
      }
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.reject(new Error('the server closed the connection'));
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes the bytes, then a probe line, and resolves once the probe's reply is in. */
  sendThenProbe(bytes: Buffer, probeId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      this.waiting = { id: probeId, resolve, reject };
      this.socket.write(Buffer.concat([bytes, Buffer.from(`\n{"id":"${probeId}","cmd":"status"}\n`)]));
    });
  }
}

describe('fuzz: ECR lines over a real loopback socket', () => {
  const lines = scaled(1 / 50, 300, 20_000);
  let server: EcrServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it(
    `${lines} lines to a running EcrServer: one typed reply per line, the connection stays open`,
    async () => {
      server = new EcrServer(handler, { simulatorCommands: true, maxLineBytes: MAX_LINE });
      const { port } = await server.start();
      const client = await RawClient.connect(port);
      const tally = new Tally(`${SURFACE}-socket`);
      const samples = fc.sample(lineBytes, { seed: surfaceSeed(`${SURFACE}-socket`), numRuns: lines });
      // The server's own LineReader state is mirrored, so each batch's replies can be predicted exactly.
      const mirror = new LineReader(MAX_LINE);
      const BATCH = 10;

      for (let b = 0; b < samples.length; b += BATCH) {
        const batch = samples.slice(b, b + BATCH);
        const bytes = joinLines(batch, false, true);
        const expected: string[] = [];
        for (const event of mirror.push(bytes)) {
          const o = judge(event);
          if (o.reply === 'error') expected.push(`error:${o.code}`);
          else if (o.reply === 'request') expected.push(o.cmd === 'status' ? 'status' : 'done');
          tally.add(outcomeName(o));
        }
        for (let i = 0; i < batch.length; i++) tally.begin();
        const probeId = `probe-${b}`;
        mirror.push(Buffer.from(`\n{"id":"${probeId}","cmd":"status"}\n`));
        const before = client.replies.length;
        try {
          await client.sendThenProbe(bytes, probeId);
        } catch (err) {
          throw new FuzzFailure(`${SURFACE}-socket`, 'the server dropped the connection', bytes, err);
        }
        const got = client.replies
          .slice(before, -1)
          .map((r) => (r.type === 'error' ? `error:${String(r.code)}` : String(r.type)));
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          throw new FuzzFailure(
            `${SURFACE}-socket`,
            `replies ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`,
            bytes,
          );
        }
      }
      expect(client.closed).toBe(false);
      expect(server.connectionCount).toBe(1);
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      client.socket.destroy();
    },
    timeoutFor(lines, 20),
  );
});
