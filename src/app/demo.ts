/**
 * `pos-terminal --demo`: a scripted tour through the ECR API, as a cash register would drive it, with the
 * simulator's card and fault commands standing in for the cardholder and the hardware.
 */
import type { Writable } from 'node:stream';
import { EcrClient, type EcrMessage } from '../ecr-client/client.js';

export interface DemoStep {
  step: string;
  expected: string;
  outcome: string;
  stan: string;
  responseCode: string;
  anomaly: string;
  ok: boolean;
}

/** Run a transaction command and present the named card each time the terminal waits for one. */
async function transact(client: EcrClient, command: Record<string, unknown>, card: string | undefined): Promise<EcrMessage> {
  return client.call(command, (message) => {
    if (card !== undefined && message.type === 'state' && message['state'] === 'waitingForCard') {
      void client.call({ cmd: 'sim.card', name: card });
    }
  });
}

function row(step: string, expected: string, result: EcrMessage, ok?: boolean): DemoStep {
  const anomaly = result['anomaly'] as { code?: string; name?: string } | undefined;
  const outcome = String(result['outcome'] ?? result['type']);
  return {
    step,
    expected,
    outcome: result['receipt'] === 'pending' ? `${outcome} (receipt pending)` : outcome,
    stan: result['stan'] !== undefined ? String(result['stan']).padStart(6, '0') : '-',
    responseCode: String(result['responseCode'] ?? '-'),
    anomaly: anomaly ? `${anomaly.code ?? ''} ${anomaly.name ?? ''}`.trim() : '-',
    ok: ok ?? outcome === expected,
  };
}

export async function runDemo(port: number, supervisorPin: string, out: Writable): Promise<DemoStep[]> {
  const client = await EcrClient.connect({ port });
  const steps: DemoStep[] = [];
  try {
    const sale = await transact(client, { cmd: 'sale', amount: 1250 }, 'visa');
    steps.push(row('Sale 12.50, approving card', 'approved', sale));

    steps.push(row('Sale 25.00, insufficient funds', 'declined', await transact(client, { cmd: 'sale', amount: 2500 }, 'insufficient-funds')));

    // Every read attempt fails: the terminal retries, then gives up with a reader anomaly.
    await client.call({ cmd: 'sim.fault', device: 'card-reader', code: 'read-failed', times: 10 });
    steps.push(row('Sale 8.00, card unreadable', 'failed', await transact(client, { cmd: 'sale', amount: 800 }, 'visa')));
    await client.call({ cmd: 'sim.fault', device: 'card-reader', code: 'clear' });

    // Paper runs out on the 3rd line of the merchant copy: the sale stays approved, the receipt pending.
    await client.call({ cmd: 'sim.fault', device: 'printer', code: 'paper-out', atStep: 3 });
    const paperOut = await transact(client, { cmd: 'sale', amount: 4200 }, 'visa');
    steps.push(row('Sale 42.00, printer out of paper', 'approved', paperOut, paperOut['outcome'] === 'approved' && paperOut['receipt'] === 'pending'));
    await client.call({ cmd: 'sim.fault', device: 'printer', code: 'clear' });
    const reprint = await client.call({ cmd: 'reprint', stan: paperOut['stan'] });
    steps.push({ step: 'Reprint after new paper', expected: 'done', outcome: reprint.type, stan: String(paperOut['stan'] ?? '-').padStart(6, '0'), responseCode: '-', anomaly: '-', ok: reprint.type === 'done' });

    steps.push(row('Refund 5.00', 'approved', await transact(client, { cmd: 'refund', amount: 500 }, 'visa')));

    steps.push(row(`Void of sale STAN ${String(sale['stan']).padStart(6, '0')}`, 'approved', await client.call({ cmd: 'void', stan: sale['stan'], supervisorPin })));
  } finally {
    await client.close();
  }

  const headers = ['Step', 'Expected', 'Outcome', 'STAN', 'RC', 'Anomaly', ''];
  const table = steps.map((s) => [s.step, s.expected, s.outcome, s.stan, s.responseCode, s.anomaly, s.ok ? 'ok' : 'UNEXPECTED']);
  const widths = headers.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  out.write(`\n${line(headers)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map(line).join('\n')}\n`);
  return steps;
}
