/** Throughput of pack + unpack for a realistic chip purchase (0200 with track 2, PIN block and ICC data). */
import { pathToFileURL } from 'node:url';
import { pack, unpack } from '../src/iso8583/codec.js';
import { buildFinancialRequest } from '../src/iso8583/messages.js';
import type { IsoMessage } from '../src/iso8583/types.js';

function sampleRequest(): IsoMessage {
  // ~180 bytes of EMV tags, typical of an online chip authorisation.
  const icc = new Uint8Array(180);
  for (let i = 0; i < icc.length; i++) icc[i] = (i * 37 + 11) & 0xff;
  const msg = buildFinancialRequest({
    processingCode: '000000',
    amount: 4250,
    currency: '978',
    stan: 4711,
    transmittedAt: new Date(Date.UTC(2026, 5, 12, 14, 30, 15)),
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    pan: '4761739001010010',
    expiry: '2812',
    entryMode: '051',
    track2: '4761739001010010D28122010000000000',
    iccData: icc,
  });
  msg.fields[52] = new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
  return msg;
}

export async function benchIsoCodec(): Promise<{
  name: string;
  packUnpackPerSecond: number;
  iterations: number;
  bytesPerMessage: number;
}> {
  const msg = sampleRequest();
  const bytesPerMessage = pack(msg).length;
  let sink = 0; // consumed below so the loop cannot be optimised away

  const run = (ms: number): { iterations: number; seconds: number } => {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms) * 1_000_000n;
    let iterations = 0;
    let now = start;
    while (now < deadline) {
      // Check the clock every 256 round trips to keep timer cost out of the figure.
      for (let i = 0; i < 256; i++) sink += Object.keys(unpack(pack(msg)).fields).length;
      iterations += 256;
      now = process.hrtime.bigint();
    }
    return { iterations, seconds: Number(now - start) / 1e9 };
  };

  run(200); // warm-up, lets the JIT settle
  const { iterations, seconds } = run(1000);
  if (sink === 0) throw new Error('benchmark produced no work');
  return {
    name: 'iso8583 pack+unpack 0200',
    packUnpackPerSecond: Math.round(iterations / seconds),
    iterations,
    bytesPerMessage,
  };
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  console.log(JSON.stringify(await benchIsoCodec()));
}
