/**
 * The terminal against an acquirer front end written here, not the project's simulator: it reads every frame with
 * an ISO 8583:1987 decoder that shares nothing with our codec and answers 00. A sale carries field 32 from the
 * configuration and field 22 with the PIN digit of a terminal without PIN pad; the void of that sale names it by
 * RRN (37), approval code (38) and field 90 (0200, its STAN, its field 7, the institution ids).
 */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../../src/app/compose.js';
import { loadConfig } from '../../../src/config/index.js';
import { EcrClient } from '../../../src/ecr/client.js';
import { buildResponse, pack, unpack } from '../../../src/iso8583/index.js';
import { createLogger } from '../../../src/util/log.js';
import { decode1987, type Decoded } from '../../support/iso8583-1987-decoder.js';
import { loadTestMasterKey } from '../../support/mac-keys.js';
import { RawMacHost } from '../../support/mac-host.js';

const RRN = '000000000777';
const APPROVAL = 'A77777';

/**
 * 2-byte big-endian length framing, as the host link speaks; every request decoded independently, then answered 00
 * (a sign-on with a session key; a financial request whose MAC does not verify with 63), MACed when a key is set.
 */
async function outsideAcquirer(): Promise<{
  port: number;
  received: Decoded[];
  close: () => Promise<void>;
  setMasterKey: (tmk: Uint8Array) => void;
}> {
  let keys: RawMacHost | undefined;
  const received: Decoded[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const frame = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + frame.length);
        received.push(decode1987(frame));
        const request = unpack(frame);
        const financial = request.mti === '0200';
        const macOk = !financial || !keys || keys.verifies(frame);
        const response = buildResponse(request, {
          responseCode: macOk ? '00' : '63',
          ...(financial && macOk ? { rrn: RRN, approvalCode: APPROVAL } : {}),
        });
        if (request.mti === '0800' && request.fields[70] === '001' && keys) response.fields[48] = keys.signOnKeyBlock();
        const answer = keys && financial ? keys.packWithMac(response) : pack(response);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(answer.length);
        socket.write(Buffer.concat([length, answer]));
      }
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    setMasterKey: (tmk) => {
      keys = new RawMacHost(tmk);
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('the terminal against an outside acquirer front end', () => {
  it('sale with field 32 and an honest field 22; its void names it by 37, 38 and field 90', async () => {
    const acquirer = await outsideAcquirer();
    stops.push(acquirer.close);
    const { config } = loadConfig({ env: {} });
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-outside-'));
    // Installation: the same master key at the acquirer and in the terminal's key store.
    loadTestMasterKey({ ...config, dataDir }, { setMasterKey: (_tid, tmk) => acquirer.setMasterKey(tmk) });
    const app: TerminalApp = await startTerminalApp(
      {
        ...config,
        dataDir,
        host: {
          ...config.host,
          address: `127.0.0.1:${acquirer.port}`,
          simulator: { embedded: false },
          acquiringInstitutionId: '123456',
          forwardingInstitutionId: null,
        },
        ecr: { ...config.ecr, port: 0, socketPath: null },
        mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
      },
      { log: createLogger('silent') },
    );
    stops.push(() => app.stop());
    const client = await EcrClient.connect({ port: app.ecr.port });
    stops.push(() => client.close());

    const sale = await client.call({ cmd: 'sale', amount: 4200 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(sale).toMatchObject({ outcome: 'approved', approvalCode: APPROVAL });
    const request = acquirer.received.find((d) => d.mti === '0200' && d.fields.get(3) === '000000')!;
    expect(request.fields.get(32)).toBe('123456');
    expect(request.fields.get(22)).toBe('051'); // chip, with the default (mock) PIN pad attached

    const voided = await client.call({ cmd: 'void', stan: sale['stan'], supervisorPin: '1234' });
    expect(voided).toMatchObject({ outcome: 'approved', kind: 'void' });
    const voidRequest = acquirer.received.find((d) => d.mti === '0200' && d.fields.get(3) === '020000')!;
    expect(voidRequest.fields.get(37)).toBe(RRN);
    expect(voidRequest.fields.get(38)).toBe(APPROVAL);
    expect(voidRequest.fields.get(90)).toBe(
      `0200${request.fields.get(11)}${request.fields.get(7)}${'00000123456'}${'0'.repeat(11)}`,
    );
    // The 0810s this front end sent echoed field 70 (a sign-on, echoes), and every message of the terminal decoded.
    const networkCodes = acquirer.received.filter((d) => d.mti === '0800').map((d) => d.fields.get(70));
    expect(networkCodes[0]).toBe('001');
    expect(networkCodes.every((code) => code === '001' || code === '301')).toBe(true);
    // Both financial requests carried a MAC (field 64) that the front end verified.
    expect(request.fields.get(64)).toBeDefined();
  }, 30_000);
});
