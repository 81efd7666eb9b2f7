/** The nexo endpoint bounds what clients can hold: connections beyond the limit are dropped, idle ones closed. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningNexoServer, startNexoServer } from '../../src/nexo/server.js';

const dir = mkdtempSync(join(tmpdir(), 'nexo-limits-'));
let server: RunningNexoServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A TLS connection that never sends a request; resolves once the server has closed it. */
function idleConnection(port: number): { closed: Promise<void>; connected: Promise<void> } {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  socket.on('error', () => {});
  socket.resume();
  return {
    connected: new Promise((resolve) => socket.once('secureConnect', () => resolve())),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
  };
}

describe('nexo endpoint limits', () => {
  it('drops connections beyond maxConnections and closes connections that never send a request', async () => {
    server = await startNexoServer({
      port: 0,
      tls: { dataDir: dir, certFile: null, keyFile: null },
      securityKeys: [],
      allowPlain: true,
      handler: async () => ({ SaleToPOIResponse: {} }),
      // Short bounds so the idle connections go within the test's generous wait.
      limits: { maxConnections: 5, headersTimeoutMs: 300, requestTimeoutMs: 300, checkIntervalMs: 100 },
    });
    const held = Array.from({ length: 5 }, () => idleConnection(server!.port));
    await Promise.all(held.map((c) => c.connected));
    const extra = idleConnection(server.port);
    await extra.closed;
    // Every idle one is closed by the server; the test's own timeout (5 s) is the bound.
    await Promise.all(held.map((c) => c.closed));
    expect(held).toHaveLength(5);
  });
});
