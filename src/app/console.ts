/**
 * The simulator's console: a person at the keyboard plays cash register and cardholder. Each line becomes the request
 * a cash register would send, checked as the ECR API checks one and answered by the command service, and each answer
 * is printed as the ECR API would send it. The screens the terminal shows are drawn as they come.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { renderScreenText } from '../../hal/display/console.js';
import { ecrError, parseRequestLine, type EcrReply } from '../ecr/index.js';
import { DEFAULT_TEST_CARD, describeTestCard, testCardNames } from '../card/test-cards.js';
import type { TransactionListener } from '../terminal/effects/index.js';
import type { TerminalApp } from './compose.js';
import { answer } from './ecr-handler.js';

const HELP = `commands:
  12.50 [card]            sale of 12.50 with a test card (default ${DEFAULT_TEST_CARD})
  refund 5.00 [card]      refund
  void <stan> <pin>       void an approved sale (supervisor PIN; simulator default 1234)
  reprint [stan]          print the last (or given) receipt again
  drawer                  open the cash drawer without a sale (journaled; needs hal.printer.drawer)
  fault <device> <code> [atStep]   e.g. fault printer paper-out 3, fault card-reader read-failed, fault printer clear
  settle                  end of day: settle the open batch with the host
  selftest [level]        health check: internal (default), external (test page, reader asked), interactive
  yes | no                the operator's answer to the interactive health check ("did the test page print?")
  cards | status | help | quit`;

/** "12.50" → 1250 minor units, without floating point. */
export function parseAmount(text: string): number | undefined {
  const match = /^(\d{1,8})(?:[.,](\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}

export async function runConsole(app: TerminalApp, input: Readable, out: Writable): Promise<void> {
  const rl = createInterface({ input, output: out, terminal: true });
  const print = (text: string) => out.write(`${text}\n`);
  // Request ids must not repeat across runs: the terminal answers a repeated id from its journal.
  const idPrefix = randomBytes(4).toString('hex');
  let counter = 0;
  const call = async (command: Record<string, unknown>, progress?: TransactionListener): Promise<EcrReply> => {
    const parsed = parseRequestLine(JSON.stringify({ id: `${idPrefix}-${++counter}`, ...command }));
    if (!parsed.ok) return parsed.error;
    try {
      return await answer(app, parsed.request, { client: 'console', ...(progress ? { progress } : {}) });
    } catch (err) {
      // As the ECR API does: the person sees a generic failure, the log has the cause.
      app.log.error({ err, cmd: parsed.request.cmd }, 'console command failed');
      return ecrError(parsed.request.id, 'internal', 'the terminal failed to process the request');
    }
  };
  const onProgress =
    (card: string | undefined): TransactionListener =>
    (event) => {
      if (event.type === 'screen') print(renderScreenText(event.screen));
      // The simulated cardholder presents the card once the terminal asks, after the machine has settled there.
      if (card && event.type === 'state' && event.state === 'waitingForCard')
        setImmediate(() => void call({ cmd: 'sim.card', name: card }));
    };
  const show = (reply: EcrReply) => {
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
      else if (word === 'status' || word === 'settle') show(await call({ cmd: word }));
      else if (word === 'drawer') show(await call({ cmd: 'drawer.open' }));
      else if (word === 'selftest') {
        const pending = call({ cmd: 'selftest', ...(args[0] ? { level: args[0] } : {}) });
        // The interactive check waits for this console's answer: keep reading lines meanwhile.
        if (args[0] === 'interactive') void pending.then(show);
        else show(await pending);
      } else if (word === 'yes' || word === 'no') show(await call({ cmd: 'selftest.answer', answer: word }));
      else if (word === 'reprint') show(await call({ cmd: 'reprint', ...(args[0] ? { stan: Number(args[0]) } : {}) }));
      else if (word === 'fault')
        show(
          await call({
            cmd: 'sim.fault',
            device: args[0],
            code: args[1],
            ...(args[2] ? { atStep: Number(args[2]) } : {}),
          }),
        );
      else if (word === 'void')
        show(await call({ cmd: 'void', stan: Number(args[0]), supervisorPin: args[1] ?? '' }, onProgress(undefined)));
      else {
        const kind = word === 'refund' ? 'refund' : 'sale';
        const [amountText, card = DEFAULT_TEST_CARD] = kind === 'refund' ? args : [word, ...args];
        const amount = parseAmount(amountText ?? '');
        if (amount === undefined) {
          print(`not an amount or command: ${line} (type help)`);
          continue;
        }
        show(await call({ cmd: kind, amount }, onProgress(card)));
      }
    }
  } finally {
    rl.close();
  }
}
