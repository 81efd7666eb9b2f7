/**
 * The simulator's console: a person at the keyboard plays cash register and cardholder. It talks to the terminal
 * through the ECR API like any cash register, and draws each screen the terminal shows.
 */
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { renderScreenText } from '../../hal/display/console.js';
import type { Screen } from '../../hal/display/contract.js';
import { EcrClient, type EcrMessage } from '../ecr/client.js';
import { DEFAULT_TEST_CARD, describeTestCard, testCardNames } from '../card/test-cards.js';
import type { TerminalApp } from './compose.js';

const HELP = `commands:
  12.50 [card]            sale of 12.50 with a test card (default ${DEFAULT_TEST_CARD})
  refund 5.00 [card]      refund
  void <stan> <pin>       void an approved sale (supervisor PIN; simulator default 1234)
  reprint [stan]          print the last (or given) receipt again
  fault <device> <code> [atStep]   e.g. fault printer paper-out 3, fault card-reader read-failed, fault printer clear
  cards | status | selftest | help | quit`;

/** "12.50" → 1250 minor units, without floating point. */
export function parseAmount(text: string): number | undefined {
  const match = /^(\d{1,8})(?:[.,](\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}

export async function runConsole(app: TerminalApp, input: Readable, out: Writable): Promise<void> {
  const client = await EcrClient.connect({ port: app.ecr.port });
  const rl = createInterface({ input, output: out, terminal: true });
  const print = (text: string) => out.write(`${text}\n`);
  const onMessage = (card: string | undefined) => (message: EcrMessage) => {
    if (message.type === 'screen') print(renderScreenText(message['screen'] as Screen));
    if (card && message.type === 'state' && message['state'] === 'waitingForCard')
      void client.call({ cmd: 'sim.card', name: card });
  };
  const show = (reply: EcrMessage) => {
    const { id: _id, type, ...rest } = reply;
    print(`${type}: ${JSON.stringify(rest)}`);
  };
  print(HELP);
  try {
    for (;;) {
      const line = (await rl.question('pos> ')).trim();
      if (!line) continue;
      const [word = '', ...args] = line.split(/\s+/);
      if (word === 'quit' || word === 'exit') break;
      if (word === 'help') print(HELP);
      else if (word === 'cards')
        print(
          testCardNames()
            .map((n) => `  ${n.padEnd(20)} ${describeTestCard(n)}`)
            .join('\n'),
        );
      else if (word === 'status' || word === 'selftest') show(await client.call({ cmd: word }));
      else if (word === 'reprint')
        show(await client.call({ cmd: 'reprint', ...(args[0] ? { stan: Number(args[0]) } : {}) }));
      else if (word === 'fault')
        show(
          await client.call({
            cmd: 'sim.fault',
            device: args[0],
            code: args[1],
            ...(args[2] ? { atStep: Number(args[2]) } : {}),
          }),
        );
      else if (word === 'void')
        show(
          await client.call({ cmd: 'void', stan: Number(args[0]), supervisorPin: args[1] ?? '' }, onMessage(undefined)),
        );
      else {
        const kind = word === 'refund' ? 'refund' : 'sale';
        const [amountText, card = DEFAULT_TEST_CARD] = kind === 'refund' ? args : [word, ...args];
        const amount = parseAmount(amountText ?? '');
        if (amount === undefined) {
          print(`not an amount or command: ${line} (type help)`);
          continue;
        }
        show(await client.call({ cmd: kind, amount }, onMessage(card)));
      }
    }
  } finally {
    rl.close();
    await client.close();
  }
}
