/** The nexo endpoint over real HTTPS with a fake message handler: plain and sealed, and everything it must refuse. */
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NexoBadInput, type RunningNexoServer, startNexoServer } from '../../src/nexo/server.js';
import type { NexoHandler } from '../../src/nexo/types.js';
import { type AdyenSealed, adyenOpen, adyenSeal, sampleRequest, TEST_KEY, TEST_KEY_CONFIG } from './adyen.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  fingerprint: string;
}

const dirs: string[] = [];
const servers: RunningNexoServer[] = [];
const agent = new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });

/** Echoes the request's category and ServiceID in a Success; `fail` makes it throw. */
const fakeHandler: NexoHandler = async (message, context) => {
  const header = message.SaleToPOIRequest['MessageHeader'] as Record<string, string>;
  if (header['ServiceID'] === 'boom') throw new Error('secret internal detail');
  return {
    SaleToPOIResponse: {
      MessageHeader: { ...header, MessageType: 'Response' },
      [`${header['MessageCategory']}Response`]: {
        Response: { Result: 'Success', AdditionalResponse: `sealed=${context.sealed}&client=${context.clientId}` },
      },
    },
  };
};

async function start(allowPlain: boolean, bad: [string, NexoBadInput][] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'nexo-server-'));
  dirs.push(dir);
  const server = await startNexoServer({
    port: 0,
    tls: { dataDir: dir, certFile: null, keyFile: null },
    securityKeys: [TEST_KEY_CONFIG],
    allowPlain,
    handler: fakeHandler,
    onBadInput: (clientId, reason) => bad.push([clientId, reason]),
    limits: { maxBodyBytes: 64 * 1024 },
  });
  servers.push(server);
  return server;
}

function post(port: number, body: string | Buffer, options: { path?: string; method?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: options.path ?? '/nexo/', method: options.method ?? 'POST', agent },
      (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()), fingerprint });
        });
      },
    );
    req.on('error', reject);
    req.setHeader('Content-Type', 'application/json');
    req.end(body);
  });
}

let plain: RunningNexoServer;
let strict: RunningNexoServer;
const strictBad: [string, NexoBadInput][] = [];

beforeAll(async () => {
  plain = await start(true);
  strict = await start(false, strictBad);
});
afterAll(async () => {
  agent.destroy();
  for (const s of servers) await s.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The value at a path of nested objects, or undefined. */
function at(value: unknown, ...path: string[]): unknown {
  let node = value;
  for (const key of path)
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/** The Response of an answer, wherever the category put it. */
function failure(answer: Answer): Record<string, unknown> {
  const response =
    at(answer.body, 'SaleToPOIResponse', 'PaymentResponse', 'Response') ??
    at(answer.body, 'SaleToPOIResponse', 'Response');
  return (response ?? {}) as Record<string, unknown>;
}

describe('nexo HTTPS endpoint', () => {
  it('answers a plain request when plain is allowed, on /nexo/ and /nexo, with the certificate it names', async () => {
    const answer = await post(plain.port, JSON.stringify(sampleRequest('7')));
    expect(answer.status).toBe(200);
    expect(answer.fingerprint).toBe(plain.fingerprint);
    expect(at(answer.body, 'SaleToPOIResponse', 'MessageHeader')).toMatchObject({
      ServiceID: '7',
      MessageType: 'Response',
    });
    expect(failure(answer)).toMatchObject({ Result: 'Success' });
    expect(failure(answer)['AdditionalResponse']).toMatch(/^sealed=false&client=nexo:127\.0\.0\.1$/);
    expect((await post(plain.port, JSON.stringify(sampleRequest()), { path: '/nexo' })).status).toBe(200);
  });

  it('refuses a plain request when plain is not allowed: NotAllowed, echoing the header, reported', async () => {
    const answer = await post(strict.port, JSON.stringify(sampleRequest('8')));
    expect(answer.status).toBe(200);
    expect(at(answer.body, 'SaleToPOIResponse', 'MessageHeader')).toMatchObject({ ServiceID: '8', SaleID: 'POS1' });
    expect(failure(answer)).toMatchObject({ Result: 'Failure', ErrorCondition: 'NotAllowed' });
    expect(strictBad).toContainEqual(['nexo:127.0.0.1', 'plain-not-allowed']);
  });

  it('opens a request sealed by Adyen NexoCrypto and seals the answer so that Adyen opens it', async () => {
    const answer = await post(strict.port, JSON.stringify(adyenSeal(sampleRequest('9'), TEST_KEY)));
    expect(answer.status).toBe(200);
    const sealed = answer.body as { SaleToPOIResponse: AdyenSealed };
    expect(sealed.SaleToPOIResponse.SecurityTrailer.KeyIdentifier).toBe(TEST_KEY.KeyIdentifier);
    const clear = adyenOpen(sealed, TEST_KEY);
    expect(at(clear, 'SaleToPOIResponse', 'MessageHeader', 'ServiceID')).toBe('9');
    expect(at(clear, 'SaleToPOIResponse', 'PaymentResponse', 'Response', 'AdditionalResponse')).toMatch(/^sealed=true/);
  });

  it('refuses a wrong Hmac and an unknown key with a Failure, never the handler', async () => {
    const sealed = adyenSeal(sampleRequest('10'), TEST_KEY);
    sealed.SaleToPOIRequest.SecurityTrailer.Hmac = Buffer.alloc(32).toString('base64');
    const badHmac = await post(strict.port, JSON.stringify(sealed));
    expect(failure(badHmac)).toMatchObject({ Result: 'Failure', ErrorCondition: 'MessageFormat' });
    const unknown = await post(strict.port, JSON.stringify(adyenSeal(sampleRequest(), { ...TEST_KEY, KeyVersion: 5 })));
    expect(failure(unknown)).toMatchObject({ Result: 'Failure', ErrorCondition: 'NotAllowed' });
    expect(strictBad.map(([, r]) => r)).toEqual(expect.arrayContaining(['bad-hmac', 'unknown-key']));
  });

  it('answers bad JSON, an oversize body, a wrong path and a wrong method with a Failure', async () => {
    const notJson = await post(plain.port, '{"SaleToPOIRequest": ');
    expect(notJson.status).toBe(200);
    expect(failure(notJson)).toMatchObject({ Result: 'Failure', ErrorCondition: 'MessageFormat' });
    expect(failure(await post(plain.port, '[1,2]'))).toMatchObject({ ErrorCondition: 'MessageFormat' });

    const large = await post(plain.port, JSON.stringify({ SaleToPOIRequest: { pad: 'x'.repeat(100_000) } }));
    expect(large.status).toBe(413);
    expect(failure(large)).toMatchObject({ Result: 'Failure', ErrorCondition: 'MessageFormat' });

    const path = await post(plain.port, JSON.stringify(sampleRequest()), { path: '/other' });
    expect(path.status).toBe(404);
    expect(failure(path)).toMatchObject({ Result: 'Failure' });
    const method = await post(plain.port, '', { method: 'GET' });
    expect(method.status).toBe(405);
    expect(failure(method)).toMatchObject({ Result: 'Failure' });
  });

  it('answers a handler that throws with a Failure that tells nothing of it', async () => {
    const answer = await post(plain.port, JSON.stringify(sampleRequest('boom')));
    expect(failure(answer)).toMatchObject({ Result: 'Failure', ErrorCondition: 'UnavailableService' });
    expect(JSON.stringify(answer.body)).not.toContain('secret internal detail');
  });

  it('takes a flood of 1,000 bad requests, a Failure to each, and still answers a good one', async () => {
    const sealed = adyenSeal(sampleRequest(), TEST_KEY);
    sealed.SaleToPOIRequest.SecurityTrailer.Hmac = Buffer.alloc(32, 1).toString('base64');
    const bad = [
      () => post(strict.port, 'not json at all'),
      () => post(strict.port, JSON.stringify(sampleRequest())),
      () => post(strict.port, JSON.stringify(sealed)),
      () => post(strict.port, '{}', { path: '/' }),
      () => post(strict.port, Buffer.from([0xff, 0xfe, 0x00])),
    ];
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => bad[i % bad.length]!()));
    for (const answer of answers) expect(failure(answer)['Result']).toBe('Failure');
    const good = await post(strict.port, JSON.stringify(adyenSeal(sampleRequest('after'), TEST_KEY)));
    expect(good.status).toBe(200);
    expect(
      at(
        adyenOpen(good.body as { SaleToPOIResponse: AdyenSealed }, TEST_KEY),
        'SaleToPOIResponse',
        'MessageHeader',
        'ServiceID',
      ),
    ).toBe('after');
  });
});
