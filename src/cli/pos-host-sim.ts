#!/usr/bin/env node
/**
 * pos-host-sim: the acquirer host simulator as a standalone process (the terminal can also embed it).
 *   pos-host-sim --port 8583 --ledger host-ledger.jsonl --misbehave late --late-ms 35000
 *   pos-host-sim --answer 0410=96 --answer 0210=08 --answer-once 0230:000042=91
 *   pos-host-sim --master-keys keys.txt --mac-fault wrong-mac
 *   pos-host-sim --bdk 0123456789ABCDEFFEDCBA9876543210 --pin 4761739001010010=4321
 * --master-keys names a file of "TERMINALID 32-hex-digit-master-key" lines (one per terminal, mode 0600, kept out of
 * the repository): those terminals sign on and must MAC every financial, advice and reversal message.
 * --control reads control lines on standard input (settle-disagree, lose-approved, batch, settlements: see
 * src/acquirer-sim/control.ts) and answers each with one JSON line on standard output.
 */
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { responseMtiFor } from '../iso8583/index.js';
import { runControlLine } from '../acquirer-sim/control.js';
import { MISBEHAVIOURS, type Misbehaviour } from '../acquirer-sim/rules.js';
import {
  AcquirerHostSimulator,
  MAC_FAULTS,
  type MacFault,
  type ResponseOverride,
  TEST_BDK_HEX,
} from '../acquirer-sim/simulator.js';

/** Master keys by terminal id from a file only its owner can read. */
function masterKeys(file: string): Record<string, Uint8Array> {
  if ((statSync(file).mode & 0o077) !== 0) throw new Error(`${file} is readable by others: chmod 600 it`);
  const keys: Record<string, Uint8Array> = {};
  for (const [n, raw] of readFileSync(file, 'utf8').split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S{1,8})\s+([0-9A-Fa-f]{32})$/.exec(line);
    if (!m) throw new Error(`${file} line ${n + 1}: expected "TERMINALID <32 hex digits>"`);
    keys[m[1]!] = Buffer.from(m[2]!, 'hex');
  }
  return keys;
}

/** A double-length TDES key as 32 hex digits. */
function bdk(value: string): Buffer {
  if (!/^[0-9A-Fa-f]{32}$/.test(value)) throw new InvalidArgumentError('the BDK is 32 hex digits (double-length TDES)');
  return Buffer.from(value, 'hex');
}

/** `PAN=PIN` for a test card whose PIN is not 1234. */
function pinOf(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^(\d{12,19})=(\d{4,12})$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected PAN=PIN (12-19 digits = 4-12 digits)');
  return { ...previous, [m[1]!]: m[2]! };
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** `MTI=CODE` or, with a STAN, `MTI:STAN=CODE`: e.g. 0410=96, 0210:000042=10. */
function answer(allowStan: boolean) {
  return (value: string, previous: ResponseOverride[] = []): ResponseOverride[] => {
    const m = /^(\d{4})(?::(\d{1,6}))?=([0-9A-Za-z]{2})$/.exec(value);
    if (!m || (m[2] !== undefined && !allowStan)) {
      throw new InvalidArgumentError(
        `expected MTI=CODE${allowStan ? ' or MTI:STAN=CODE' : ''} (e.g. 0410=96), got ${JSON.stringify(value)}`,
      );
    }
    return [...previous, { mti: m[1]!, responseCode: m[3]!, ...(m[2] !== undefined ? { stan: Number(m[2]) } : {}) }];
  };
}

const program = new Command()
  .name('pos-host-sim')
  .description(
    'ISO 8583 acquirer host simulator: approves, declines and misbehaves by documented test cards and amounts',
  )
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'TCP port (0 picks a free one)', integer('port', 0, 65535), 8583)
  .option('--ledger <file>', 'append one JSON line per message received and sent')
  .addOption(
    new Option('--misbehave <kind>', 'misbehave on all traffic').choices(MISBEHAVIOURS.filter((m) => m !== 'none')),
  )
  .option('--delay-ms <ms>', "delay used by 'delay' (and amount 2000.01)", integer('delay', 0, 600_000), 3_000)
  .option('--late-ms <ms>', "delay used by 'late' (and amount 2000.05)", integer('late', 0, 3_600_000), 35_000)
  .option(
    '--answer <mti=code>',
    'answer every request of that response MTI with this field 39 code (repeatable)',
    answer(false),
  )
  .option(
    '--answer-once <mti[:stan]=code>',
    'answer the next such request (with that STAN) with this code, once (repeatable, in order)',
    answer(true),
  )
  .option('--master-keys <file>', 'terminal master keys: "TERMINALID <32 hex>" lines; those terminals MAC')
  .addOption(
    new Option('--mac-fault <kind>', 'get the MAC wrong on every answer (or the check value at sign-on)').choices(
      MAC_FAULTS.filter((m) => m !== 'none'),
    ),
  )
  .option(
    '--bdk <hex>',
    `TDES DUKPT base derivation key for PIN blocks (default the ANSI X9.24-1 test BDK ${TEST_BDK_HEX}, a test key)`,
    bdk,
  )
  .option('--pin <pan=pin>', "a test card's PIN when it is not 1234 (repeatable)", pinOf)
  .addOption(
    new Option(
      '--settle-disagree <when>',
      "answer settlement (0500) 95 even when the totals agree: 'once' (the batch upload resolves it) or 'always'",
    ).choices(['once', 'always']),
  )
  .option(
    '--lose-approved <n>',
    'forget the next n approved sales from the batch totals (a batch upload restores them)',
    integer('lose-approved', 1, 1_000_000),
  )
  .option(
    '--control',
    'read control lines on stdin (settle-disagree once|always|never, lose-approved N, batch, settlements); one JSON answer line each',
  )
  .option('--tls-cert <file>', 'serve TLS with this certificate (PEM)')
  .option('--tls-key <file>', 'private key for --tls-cert (PEM)')
  .option('--tls-ca <file>', 'require client certificates signed by this CA (PEM)');

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{
    host: string;
    port: number;
    ledger?: string;
    misbehave?: Misbehaviour;
    delayMs: number;
    lateMs: number;
    tlsCert?: string;
    tlsKey?: string;
    tlsCa?: string;
    answer?: ResponseOverride[];
    answerOnce?: ResponseOverride[];
    masterKeys?: string;
    macFault?: MacFault;
    bdk?: Buffer;
    pin?: Record<string, string>;
    settleDisagree?: 'once' | 'always';
    loseApproved?: number;
    control?: boolean;
  }>();
  const responseCodes = Object.fromEntries(
    (opts.answer ?? []).map((o) => [responseMtiFor(o.mti) ?? o.mti, o.responseCode]),
  );
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) program.error('--tls-cert and --tls-key go together');
  const sim = new AcquirerHostSimulator({
    host: opts.host,
    port: opts.port,
    ...(opts.ledger ? { ledgerPath: opts.ledger } : {}),
    keepLedger: false,
    behaviour: {
      misbehaviour: opts.misbehave ?? 'none',
      delayMs: opts.delayMs,
      lateMs: opts.lateMs,
      responseCodes,
      macFault: opts.macFault ?? 'none',
    },
    ...(opts.masterKeys ? { masterKeys: masterKeys(opts.masterKeys) } : {}),
    ...(opts.bdk ? { bdk: opts.bdk } : {}),
    ...(opts.pin ? { pins: opts.pin } : {}),
    ...(opts.tlsCert && opts.tlsKey
      ? {
          tls: {
            cert: readFileSync(opts.tlsCert),
            key: readFileSync(opts.tlsKey),
            ...(opts.tlsCa ? { ca: readFileSync(opts.tlsCa), requestCert: true } : {}),
          },
        }
      : {}),
  });
  for (const once of opts.answerOnce ?? []) sim.answerOnce(once);
  if (opts.settleDisagree) sim.setSettlementBehaviour({ disagree: opts.settleDisagree });
  if (opts.loseApproved) sim.loseNextApproved(opts.loseApproved);
  const address = await sim.start();
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', ...address, misbehave: opts.misbehave ?? 'none', answers: responseCodes, tls: Boolean(opts.tlsCert) })}\n`,
  );
  if (opts.control) {
    const lines = createInterface({ input: process.stdin, terminal: false });
    lines.on('line', (line) => {
      if (line.trim() !== '') process.stdout.write(`${JSON.stringify(runControlLine(sim, line))}\n`);
    });
  }
  const shutdown = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`pos-host-sim: ${(err as Error).message}\n`);
  process.exit(1);
});
