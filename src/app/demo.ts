/**
 * `pos-terminal --demo`: a scripted tour through the ECR API, as a cash register would drive it, with the
 * simulator's card and fault commands standing in for the cardholder and the hardware.
 */
import type { Writable } from 'node:stream';
import { EcrClient, type EcrMessage } from '../ecr/client.js';

export interface DemoStep {
  step: string;
  expected: string;
  outcome: string;
  stan: string;
  responseCode: string;
  anomaly: string;
  ok: boolean;
}

/**
 * Run a transaction command and present a card each time the terminal waits for one (the next of `cards`, the last
 * one again when they run out); `onDuplicate` is the cashier's answer to a suspected duplicate.
 */
async function transact(
  client: EcrClient,
  command: Record<string, unknown>,
  cards: string | string[] | undefined,
  onDuplicate: 'confirm' | 'cancel' = 'confirm',
): Promise<EcrMessage> {
  const queue = typeof cards === 'string' ? [cards] : [...(cards ?? [])];
  return client.call(command, (message) => {
    if (queue.length > 0 && message.type === 'state' && message['state'] === 'waitingForCard') {
      void client.call({ cmd: 'sim.card', name: queue.length > 1 ? queue.shift() : queue[0] });
    }
    if (message.type === 'state' && message['state'] === 'confirmingDuplicate') void client.call({ cmd: onDuplicate });
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

    steps.push(
      row(
        'Sale 25.00, insufficient funds',
        'declined',
        await transact(client, { cmd: 'sale', amount: 2500 }, 'insufficient-funds'),
      ),
    );

    // Every read attempt fails: the terminal retries, then gives up with a reader anomaly.
    await client.call({ cmd: 'sim.fault', device: 'card-reader', code: 'read-failed', times: 10 });
    steps.push(
      row('Sale 8.00, card unreadable', 'failed', await transact(client, { cmd: 'sale', amount: 800 }, 'visa')),
    );
    await client.call({ cmd: 'sim.fault', device: 'card-reader', code: 'clear' });

    // Paper runs out on the 3rd line of the merchant copy: the sale stays approved, the receipt pending.
    await client.call({ cmd: 'sim.fault', device: 'printer', code: 'paper-out', atStep: 3 });
    const paperOut = await transact(client, { cmd: 'sale', amount: 4200 }, 'visa');
    steps.push(
      row(
        'Sale 42.00, printer out of paper',
        'approved',
        paperOut,
        paperOut['outcome'] === 'approved' && paperOut['receipt'] === 'pending',
      ),
    );
    await client.call({ cmd: 'sim.fault', device: 'printer', code: 'clear' });
    const reprint = await client.call({ cmd: 'reprint', stan: paperOut['stan'] });
    steps.push({
      step: 'Reprint after new paper',
      expected: 'done',
      outcome: reprint.type,
      stan: String(paperOut['stan'] ?? '-').padStart(6, '0'),
      responseCode: '-',
      anomaly: '-',
      ok: reprint.type === 'done',
    });

    steps.push(
      row(
        'Refund 5.00 without supervisor PIN',
        'failed',
        await transact(client, { cmd: 'refund', amount: 500 }, 'visa'),
      ),
    );
    steps.push(
      row(
        'Refund 5.00 with supervisor PIN',
        'approved',
        await transact(client, { cmd: 'refund', amount: 500, supervisorPin }, 'visa'),
      ),
    );

    steps.push(
      row(
        `Void of sale STAN ${String(sale['stan']).padStart(6, '0')}`,
        'approved',
        await client.call({ cmd: 'void', stan: sale['stan'], supervisorPin }),
      ),
    );

    // The same card and amount twice within minutes: held as a suspected duplicate; the cashier cancels it.
    await transact(client, { cmd: 'sale', amount: 1999 }, 'mastercard');
    steps.push(
      row(
        'Same card and amount again (duplicate)',
        'cancelled',
        await transact(client, { cmd: 'sale', amount: 1999 }, 'mastercard', 'cancel'),
      ),
    );

    // A chip card swiped: suspected fallback fraud, the terminal asks for the chip, the chip read goes through.
    steps.push(
      row(
        'Chip card swiped, then inserted',
        'approved',
        await transact(client, { cmd: 'sale', amount: 3000 }, ['chip-swiped', 'visa']),
      ),
    );

    // The third suspected-fraud anomaly in ten minutes (after the unreadable card and the swiped chip card): the
    // lockout policy locks the terminal.
    steps.push(
      row('Card failing the check digit', 'failed', await transact(client, { cmd: 'sale', amount: 1000 }, 'bad-luhn')),
    );
    const locked = await client.call({ cmd: 'sale', amount: 500 });
    steps.push({
      step: 'Sale while locked',
      expected: 'refused',
      outcome: locked.type === 'error' ? 'refused' : String(locked['outcome']),
      stan: '-',
      responseCode: '-',
      anomaly: String(locked['message'] ?? '-').slice(0, 40),
      ok: locked.type === 'error' && locked['code'] === 'not-allowed',
    });
    const wrong = await client.call({ cmd: 'unlock', supervisorPin: '0000' });
    steps.push({
      step: 'Unlock with a wrong PIN',
      expected: 'refused',
      outcome: wrong.type === 'error' ? 'refused' : wrong.type,
      stan: '-',
      responseCode: '-',
      anomaly: '-',
      ok: wrong.type === 'error' && wrong['code'] === 'unauthorized',
    });
    const unlocked = await client.call({ cmd: 'unlock', supervisorPin });
    steps.push({
      step: 'Unlock with the supervisor PIN',
      expected: 'ready',
      outcome: String(unlocked['state'] ?? unlocked.type),
      stan: '-',
      responseCode: '-',
      anomaly: '-',
      ok: unlocked.type === 'done' && unlocked['state'] === 'ready',
    });
  } finally {
    await client.close();
  }

  const headers = ['Step', 'Expected', 'Outcome', 'STAN', 'RC', 'Anomaly', ''];
  const table = steps.map((s) => [
    s.step,
    s.expected,
    s.outcome,
    s.stan,
    s.responseCode,
    s.anomaly,
    s.ok ? 'ok' : 'UNEXPECTED',
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  out.write(`\n${line(headers)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map(line).join('\n')}\n`);
  return steps;
}
