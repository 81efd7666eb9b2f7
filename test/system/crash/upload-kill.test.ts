/**
 * A batch upload killed for real: pos-terminal runs as a child process against pos-host-sim (another process, told
 * through its control lines to lose two approved sales, so its totals differ and the settlement uploads the batch),
 * and gets SIGKILL in the middle of the upload, with some transactions uploaded and some not. The kill comes on a
 * sign from the wire (the relay between them): the third 0330 at the terminal's socket (the host has taken that
 * upload, the terminal has not committed it), or the third 0320 held back (it left the terminal, the host never saw
 * it). The next start's `settle` goes on from the journal: the uncertain record again as a repeat (0321), the rest
 * as 0320, and the host's ledger shows each transaction taken once and its own batch in balance afterwards.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EcrClient } from '../../../src/ecr/client.js';
import { Journal } from '../../../src/journal/index.js';
import { startCli, type RunningCli } from '../../support/cli.js';
import { loadMasterKeyWithCli, masterKeyFixture } from '../../support/mac-keys.js';
import { readLedger, reconcile } from '../../support/reconcile.js';
import { until } from '../../support/wait.js';
import { totalsFromLedger } from '../../settlement/support.js';
import { HostControl, killOnRelay, type LedgerEntry, LedgerTail, nudge, Relay } from './outside.js';

const children: RunningCli[] = [];
afterAll(() => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});

/** config/default.json terminal.id. */
const TERMINAL_ID = 'SIM00001';
const AMOUNTS = [1_000, 1_100, 1_200, 1_300, 1_400, 1_500];

async function startTerminal(configPath: string): Promise<{ terminal: RunningCli; client: EcrClient }> {
  const terminal = startCli('pos-terminal', ['--config', configPath]);
  children.push(terminal);
  terminal.child.stdout.on('data', nudge);
  await until(
    () => /ECR on 127\.0\.0\.1:\d+/.test(terminal.stdout()) || terminal.child.exitCode !== null,
    'terminal ready',
    20_000,
  );
  if (terminal.child.exitCode !== null) throw new Error(`terminal exited: ${terminal.stderr()}`);
  const port = Number(/ECR on 127\.0\.0\.1:(\d+)/.exec(terminal.stdout())![1]);
  return { terminal, client: await EcrClient.connect({ port }) };
}

describe('a batch upload killed with SIGKILL', () => {
  it.each([
    { how: 'the third 0330 reached the terminal', spec: { after: '0330', nth: 2 }, repeatKnown: true },
    { how: 'the third 0320 held back before the host', spec: { hold: '0320', nth: 2 }, repeatKnown: false },
  ])('resumes after $how, and uploads each transaction once', { timeout: 120_000 }, async ({ spec, repeatKnown }) => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-upload-kill-'));
    const ledgerPath = join(dir, 'host-ledger.jsonl');
    const configPath = join(dir, 'terminal.json');
    const dataDir = join(dir, 'data');
    writeFileSync(ledgerPath, '');
    const keys = masterKeyFixture(dir);
    const host = startCli('pos-host-sim', [
      '--master-keys',
      keys.keysFile,
      '--port',
      '0',
      '--ledger',
      ledgerPath,
      '--control',
    ]);
    children.push(host);
    host.child.stdout.on('data', nudge);
    await until(() => host.stdout().includes('listening'), 'host simulator');
    const control = new HostControl(host);
    const relay = new Relay((JSON.parse(host.stdout().split('\n')[0]!) as { port: number }).port);
    await relay.up();
    writeFileSync(
      configPath,
      JSON.stringify({
        dataDir,
        log: { level: 'error' },
        host: { address: `127.0.0.1:${relay.port}`, simulator: { embedded: false }, responseTimeoutMs: 2_000 },
        ecr: { port: 0, socketPath: null },
        mqtt: { url: 'mqtt://127.0.0.1:0' },
        settlement: { attempts: 3, retryDelayMs: 200 },
      }),
    );
    loadMasterKeyWithCli(keys.components, ['--config', configPath]);
    const ledger = new LedgerTail(ledgerPath);
    const uploadsAtHost = (): LedgerEntry[] =>
      ledger.poll().filter((e) => e.dir === 'in' && (e.mti === '0320' || e.mti === '0321'));

    const first = await startTerminal(configPath);
    await control.say('lose-approved 2');
    for (const amount of AMOUNTS) {
      const result = await first.client.call({ cmd: 'sale', amount }, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard')
          void first.client.call({ cmd: 'sim.card', name: 'visa' });
      });
      expect(result['outcome']).toBe('approved');
    }
    const killed = await killOnRelay(relay, first.terminal, spec, () => first.client.call({ cmd: 'settle' }));
    await first.client.close();
    expect(first.terminal.child.signalCode).toBe('SIGKILL');
    expect(killed.stan).toBeDefined();
    // Two uploads taken and committed before the kill; the third at the host or not, by the case.
    const before = uploadsAtHost();
    expect(before.map((e) => e.mti)).toEqual(repeatKnown ? ['0320', '0320', '0320'] : ['0320', '0320']);
    const left = (() => {
      const j = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
      try {
        return j.batches.current();
      } finally {
        j.close();
      }
    })();
    // A kill as the 0330 reaches the terminal lands before or after the terminal commits it: both must resume right.
    const committedThird = repeatKnown && left.uploaded === 3;
    expect(left).toMatchObject({ state: 'uploading', uploaded: committedThird ? 3 : 2 });

    const second = await startTerminal(configPath);
    const reply = await second.client.call({ cmd: 'settle' });
    await second.client.close();
    second.terminal.child.kill('SIGTERM');
    await second.terminal.exited;
    const uploads = uploadsAtHost();
    const after = uploads.slice(before.length);
    expect(reply).toMatchObject({ type: 'done', batchNumber: left.number, afterUpload: true, uploaded: after.length });
    if (committedThird) {
      // Its answer was committed before the kill: the rest only, and the third never again. The fourth may have been
      // marked as leaving before the kill, so it may go as a repeat (0321); the host had not seen it either way.
      expect(after).toHaveLength(3);
      expect(['0320', '0321']).toContain(after[0]!.mti);
      expect(after.slice(1).map((e) => e.mti)).toEqual(['0320', '0320']);
      expect(after.some((e) => e.duplicate === true)).toBe(false);
      expect(after.map((e) => e.stan)).not.toContain(killed.stan!.padStart(6, '0'));
    } else {
      // The uncertain third goes again as the protocol's repeat, the host knowing it already or not; then the rest.
      expect(after.map((e) => e.mti)).toEqual(['0321', '0320', '0320', '0320']);
      expect(after[0]!.stan).toBe(killed.stan!.padStart(6, '0'));
      expect(after[0]!.duplicate === true).toBe(repeatKnown);
    }
    const taken = uploads.filter((e) => !e.duplicate).map((e) => e.stan);
    expect(new Set(taken).size).toBe(taken.length);
    const firsts = uploads.filter((e) => e.mti === '0320').map((e) => e.stan);
    expect(new Set(firsts).size).toBe(firsts.length);

    const journal = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
    try {
      const stans = journal.transactions.list().map((t) => String(t.stan).padStart(6, '0'));
      expect([...taken].sort()).toEqual([...stans].sort());
      expect(journal.batches.get(left.number)!.state).toBe('closed');
      const entries = readLedger(ledgerPath);
      expect(reconcile(entries, journal).problems).toEqual([]);
      // The host's own books: it disagreed once (two sales lost), agreed after the upload with the totals its ledger
      // approved, and its batch of this terminal is empty now, nothing lost left.
      const settlements = await control.settlements();
      expect(settlements.map((s) => [s.responseCode, s.afterUpload])).toEqual([
        ['95', false],
        ['00', true],
      ]);
      const approved = totalsFromLedger(entries);
      expect(settlements[1]!.hostTotals).toMatchObject({
        debitsNumber: approved.debits.count,
        debitsAmount: AMOUNTS.reduce((a, b) => a + b, 0),
      });
      expect(await control.batch(TERMINAL_ID)).toEqual({ terminalId: TERMINAL_ID, totals: {}, uploads: 0, lost: 0 });
    } finally {
      journal.close();
      host.child.kill('SIGTERM');
      await host.exited;
    }
  });
});
