/**
 * A chip sale with online PIN and completion beside a magnetic-stripe sale, the same terminal in the same run:
 * ECR `sale` in → `result` out, the simulated cardholder answering each prompt over the same connection. The chip
 * sale adds the kernel's first decision, the PIN pad (DUKPT block), field 55, the host simulator's ARQC and PIN
 * checks and the card's second decision; the stripe sale has none of them.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { saleFigures } from './stats.js';
import { startBenchTerminal } from './terminal.js';

export async function benchChipSale(sales = 500) {
  const { client, stop } = await startBenchTerminal({ dirPrefix: 'pos-bench-chip-', logLevel: 'silent' });
  let amount = 1_000;
  // A new amount each time: the same card and amount again would be held as a suspected duplicate.
  // The card is presented when the terminal asks (a swipe made before is discarded), the PIN typed at the prompt.
  const sale = async (card: string, pin: boolean) => {
    const t0 = performance.now();
    const result = await client.call({ cmd: 'sale', amount: amount++ }, (m) => {
      if (m.type !== 'state') return;
      if (m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: card });
      if (pin && m['state'] === 'enteringPin') void client.call({ cmd: 'sim.pin', pin: '1234' });
    });
    const ms = performance.now() - t0;
    if (result['outcome'] !== 'approved') throw new Error(`bench ${card} sale not approved: ${JSON.stringify(result)}`);
    return ms;
  };
  try {
    for (let i = 0; i < 50; i++) {
      await sale('swipe-visa', false);
      await sale('emv-online-pin', true);
    }
    const stripe: number[] = [];
    const chip: number[] = [];
    // Interleaved, so both see the same machine and the same journal size.
    for (let i = 0; i < sales; i++) {
      stripe.push(await sale('swipe-visa', false));
      chip.push(await sale('emv-online-pin', true));
    }
    const chipFigures = saleFigures(chip);
    const stripeFigures = saleFigures(stripe);
    return {
      name: 'chip-sale (chip + online PIN + completion, beside a stripe sale)',
      chipPin: chipFigures,
      stripe: stripeFigures,
      chipOverStripeP50: Number((chipFigures.p50Ms / Math.max(stripeFigures.p50Ms, 0.001)).toFixed(2)),
    };
  } finally {
    await stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchChipSale().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
