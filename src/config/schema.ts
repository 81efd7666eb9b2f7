/**
 * The terminal configuration schema. Every default lives in config/default.json (the readable reference), not here:
 * this file only says what a valid value looks like. Objects are strict so a misspelt key is refused, not ignored.
 *
 * Each check carries an `expected` phrase as its zod message; load.ts turns issues into
 * `path: expected <message>, found <value>` lines.
 */
import { z } from 'zod';
import { isLoopbackHost } from '../util/loopback.js';
import { NUMERIC_CURRENCY_CODE, NUMERIC_CURRENCY_EXPECTED } from '../vocabulary/index.js';
import { FLEET_COMMANDS } from '../vocabulary/fleet-commands.js';
import { isTimeZone, LANGUAGES } from '../i18n/index.js';

import { nexo } from './nexo-schema.js';
import { emv, pinPad } from './emv-schema.js';
import { display } from './display-schema.js';
import { journal, settlement } from './settlement-schema.js';
import { preauth, tips } from './preauth-schema.js';
import { printer } from './printer-schema.js';
import {
  bool,
  certPairCheck,
  filePathOrNull,
  int,
  isHostAddress,
  ms,
  obj,
  oneOf,
  parseHostAddress,
  pattern,
  serialPort,
  str,
  stringOrNull,
} from './schema-parts.js';
import { hidReaderSchema } from './hid-schema.js';

export { MAX_TIMER_MS, parseHostAddress } from './schema-parts.js';

/** ISO 8583 "ans": printable ASCII, fixed length. */
const ans = (length: number, field: number) =>
  pattern(new RegExp(`^[\\x20-\\x7e]{${length}}$`), `${length} printable ASCII characters (ISO 8583 field ${field})`);

/** ISO 8583 fields 32/33: n..11. */
const institutionId = (field: number) =>
  pattern(/^\d{1,11}$/, `1 to 11 digits (ISO 8583 field ${field}) or null`).nullable();

const terminal = obj({
  id: ans(8, 41),
  merchantId: ans(15, 42),
  /**
   * Legacy: field 22's third digit now follows the attached PIN pad (`hal.pinPad.driver`). When given, it must agree,
   * so a configuration that says otherwise is refused instead of making the messages lie.
   */
  pinPad: bool.optional(),
  fleet: pattern(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'lowercase letters, digits and "-", 1 to 63 characters, not starting with "-"',
  ),
  currency: pattern(NUMERIC_CURRENCY_CODE, NUMERIC_CURRENCY_EXPECTED),
  label: str('a shop name of 1 to 64 characters', 1, 64),
  addressLines: z
    .array(str('a receipt header line of 1 to 64 characters', 1, 64), { error: 'a list of receipt header lines' })
    .max(8, { error: 'at most 8 receipt header lines' })
    .optional(),
  /** The language of screens and receipts (default English). */
  language: oneOf(LANGUAGES).optional(),
  /** The IANA zone receipt times are printed in (default the system's). */
  timeZone: z
    .string({ error: 'an IANA time zone like "Europe/Paris"' })
    .refine(isTimeZone, { error: 'an IANA time zone like "Europe/Paris"' })
    .optional(),
});

const log = obj({
  level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});

const hostTls = obj({
  enabled: bool,
  caFile: filePathOrNull,
  certFile: filePathOrNull,
  keyFile: filePathOrNull,
  serverName: stringOrNull,
  rejectUnauthorized: bool,
}).superRefine(certPairCheck);

const host = obj({
  address: z
    .string({ error: 'host:port, e.g. 127.0.0.1:8583 or [::1]:8583' })
    .refine(isHostAddress, { error: 'host:port, e.g. 127.0.0.1:8583 or [::1]:8583' }),
  connectTimeoutMs: ms(100),
  responseTimeoutMs: ms(100),
  reconnect: obj({
    initialDelayMs: ms(10),
    maxDelayMs: ms(10),
  }).superRefine((v, ctx) => {
    if (v.maxDelayMs < v.initialDelayMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxDelayMs'],
        message: `an integer >= host.reconnect.initialDelayMs (${v.initialDelayMs})`,
      });
    }
  }),
  maxFrameBytes: int(64, 65535),
  /** Response timeouts in a row after which the host is taken as down (sales go offline at once); 0 = never. */
  downAfterTimeouts: int(0, 1000),
  /** While the host is down, an echo this often; any answer brings it back. */
  downProbeIntervalMs: ms(100),
  /** ISO 8583 field 32 (and its place in field 90), given by the acquirer; null: not sent, zeros in field 90. */
  acquiringInstitutionId: institutionId(32),
  /** Field 33, when a forwarding institution sits between terminal and acquirer; null: not sent. */
  forwardingInstitutionId: institutionId(33),
  tls: hostTls,
  /** ISO 9797-1 MAC (field 64/128) on financial, advice and reversal messages, keys from a sign-on under the TMK. */
  mac: oneOf(['required', 'off']),
  /** How a pre-authorization is completed: a 0220 completion advice, or a 0200 for hosts that want one. */
  completionMessage: oneOf(['0220', '0200']),
  simulator: obj({
    embedded: bool,
  }),
}).superRefine((v, ctx) => {
  // Port 0 only makes sense when this process listens there itself.
  if (!v.simulator.embedded && isHostAddress(v.address) && parseHostAddress(v.address).port === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['address'],
      message: 'a non-zero port unless host.simulator.embedded is true',
    });
  }
});

const ecr = obj({
  host: str('a listen address like "127.0.0.1"', 1, 255),
  port: int(0, 65535),
  /** The ECR Unix socket; a relative path is taken inside dataDir. null: TCP only. */
  socketPath: filePathOrNull,
  maxLineBytes: int(1024, 16 * 1024 * 1024),
  tokens: z.array(pattern(/^\S{16,256}$/, 'a token of 16 to 256 characters without spaces'), {
    error: 'a list of tokens',
  }),
  nexo,
  /** Open register connections at most; beyond, a new one is refused with a reply and closed. */
  maxConnections: int(1, 65_536),
  /** A connection silent this long (no command running) is closed. */
  idleTimeoutMs: ms(1_000),
  /**
   * Requests per client (a token or an address, all its connections together; nexo clients too): a token bucket of
   * `burst`, refilled at `perSecond`.
   */
  rateLimit: obj({ burst: int(1, 100_000), perSecond: int(1, 100_000) }),
  /** Bad lines are journaled as one anomaly per client per this interval, with counts by kind. */
  badInputReportMs: ms(1_000),
  /** A client refused this many times within windowMs (wrong token, wrong supervisor PIN) is locked out. */
  clientLockout: obj({ refusals: int(1, 1_000), windowMs: ms(1_000), lockoutMs: ms(1_000) }),
}).superRefine((v, ctx) => {
  // Beyond loopback anyone on the network can reach the API: it must ask for a token.
  if (!isLoopbackHost(v.host) && v.tokens.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['tokens'],
      message: `at least one token when ecr.host (${v.host}) is not a loopback address`,
    });
  }
});

const MQTT_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const mqttUrlExpected = 'an mqtt://, mqtts://, ws:// or wss:// URL';

/** Fleet commands the terminal can obey; which of them it does is the mqtt.commands allow-list. */
export const MQTT_COMMANDS = FLEET_COMMANDS;

function mqttUrl(v: string): URL | undefined {
  try {
    const url = new URL(v);
    return MQTT_SCHEMES.includes(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}

const mqtt = obj({
  url: z.string({ error: mqttUrlExpected }).refine((v) => mqttUrl(v) !== undefined, { error: mqttUrlExpected }),
  embeddedBroker: bool,
  clientId: stringOrNull,
  username: stringOrNull,
  password: stringOrNull,
  tls: obj({
    caFile: filePathOrNull,
    certFile: filePathOrNull,
    keyFile: filePathOrNull,
    rejectUnauthorized: bool,
  }).superRefine(certPairCheck),
  healthIntervalMs: ms(1000),
  connectTimeoutMs: ms(100),
  /** MQTT keep-alive; the broker fires the last will after 1.5 times this of silence. */
  keepaliveS: int(5, 65535),
  reconnect: obj({
    initialDelayMs: ms(10),
    maxDelayMs: ms(10),
  }).superRefine((v, ctx) => {
    if (v.maxDelayMs < v.initialDelayMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxDelayMs'],
        message: `an integer >= mqtt.reconnect.initialDelayMs (${v.initialDelayMs})`,
      });
    }
  }),
  /** Fleet commands obeyed; anything else is answered NOT_ALLOWED and journaled. */
  commands: z
    .array(oneOf(MQTT_COMMANDS), { error: 'a list of command names' })
    .refine((v) => new Set(v).size === v.length, { error: 'a list without repeated names' }),
  maxCommandBytes: int(16, 1024 * 1024),
  /**
   * Fleet commands are run only when signed with the fleet's key (HMAC-SHA256; the key from POS_MQTT_COMMAND_KEY or
   * keyFile) and issued at most maxAgeMs from this clock; ids are remembered across restarts.
   */
  commandAuth: obj({ keyFile: filePathOrNull, maxAgeMs: ms(1_000) }),
  /** One change-driven Health per burst (burstMs), never closer than minSpacingMs to the previous Health. */
  healthCoalesce: obj({ burstMs: int(0, 600_000), minSpacingMs: int(0, 3_600_000) }),
  /** Telemetry kept on disk while the broker is away; at the bound old health goes first, events last. */
  outbox: obj({
    maxMessages: int(10, 10_000_000),
  }),
}).superRefine((v, ctx) => {
  // Port 0 only makes sense when this process listens there itself.
  if (!v.embeddedBroker && mqttUrl(v.url)?.port === '0') {
    ctx.addIssue({ code: 'custom', path: ['url'], message: 'a non-zero port unless mqtt.embeddedBroker is true' });
  }
});

const cardReader = obj({
  driver: oneOf(['mock', 'hid', 'serial']),
  hid: hidReaderSchema.optional(),
  serial: serialPort.optional(),
}).superRefine((v, ctx) => {
  if (v.driver === 'hid' && v.hid === undefined) {
    ctx.addIssue({ code: 'custom', path: ['hid'], message: 'an object { vendorId, productId } when driver is "hid"' });
  }
  if (v.driver === 'serial' && v.serial === undefined) {
    ctx.addIssue({ code: 'custom', path: ['serial'], message: 'an object { path, baudRate } when driver is "serial"' });
  }
});

const hal = obj({
  cardReader,
  printer,
  display,
  pinPad,
  network: obj({
    driver: oneOf(['mock', 'linux']),
    // null: follow whichever interface carries the default route.
    interface: str('a network interface name like "eth0" or null', 1, 15).nullable(),
  }),
});

/** Amounts are in minor units (cents), never floats. */
const transaction = obj({
  cardWaitTimeoutMs: ms(1000),
  readRetries: int(0, 10),
  // How long the register has to accept a partial approval (code 10) before it is reversed.
  partialApprovalTimeoutMs: ms(1000),
  minAmount: int(1, Number.MAX_SAFE_INTEGER),
  maxAmount: int(1, Number.MAX_SAFE_INTEGER),
  /** After the outcome, a card still in the reader this long gets the "remove card" alert... */
  cardRemovalAlertMs: ms(1000),
  /** ...and this long (counted from the outcome too) the card-left-in-reader anomaly. */
  cardRemovalAnomalyMs: ms(1000),
}).superRefine((v, ctx) => {
  if (v.maxAmount < v.minAmount) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxAmount'],
      message: `an integer >= transaction.minAmount (${v.minAmount})`,
    });
  }
  if (v.cardRemovalAnomalyMs < v.cardRemovalAlertMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['cardRemovalAnomalyMs'],
      message: `an integer >= transaction.cardRemovalAlertMs (${v.cardRemovalAlertMs})`,
    });
  }
});

/** Supervisor rights (void, refund, unlock): the PIN is kept only as an scrypt hash (`pos-terminal hash-pin`). */
const supervisor = obj({
  pinHash: pattern(
    /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
    'an scrypt PIN hash made by `pos-terminal hash-pin`',
  ),
});

export const OFFLINE_ENTRY_MODES = ['chip', 'contactless', 'swipe', 'manual', 'fallback-swipe'] as const;

/** Store-and-forward: approving a sale without the host. Limits are the merchant's risk, so each is explicit. */
const offline = obj({
  enabled: bool,
  /** Largest single sale approved offline, in minor units. */
  floorLimit: int(0, Number.MAX_SAFE_INTEGER),
  maxCount: int(0, Number.MAX_SAFE_INTEGER),
  maxTotal: int(0, Number.MAX_SAFE_INTEGER),
  /** A queued item older than this blocks new offline sales until the host has it. */
  maxAgeMs: int(1, Number.MAX_SAFE_INTEGER),
  entryModes: z.array(oneOf(OFFLINE_ENTRY_MODES), { error: 'a list of entry modes' }),
  allowRefunds: bool,
  /** AES-256-GCM key of the queue's card data; a relative path is taken inside dataDir. */
  keyFile: str('a file path'),
  createKeyIfMissing: bool,
});

/** Retry backoff for reversals and advices, and the interval of the periodic drain. */
const forwarding = obj({
  initialDelayMs: ms(10),
  maxDelayMs: ms(10),
  intervalMs: ms(100),
}).superRefine((v, ctx) => {
  if (v.maxDelayMs < v.initialDelayMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxDelayMs'],
      message: `an integer >= forwarding.initialDelayMs (${v.initialDelayMs})`,
    });
  }
});

/** Self-test on boot, on demand and on an interval; the host echo probe's interval. */
const selftest = obj({
  intervalMs: ms(60_000),
  timeLimitMs: ms(100),
  echoIntervalMs: ms(1_000),
  minFreeBytes: int(0, Number.MAX_SAFE_INTEGER),
});

export const configSchema = obj({
  terminal,
  dataDir: str('a directory path'),
  log,
  host,
  ecr,
  mqtt,
  hal,
  transaction,
  supervisor,
  offline,
  forwarding,
  selftest,
  emv,
  settlement,
  journal,
  preauth,
  tips,
}).superRefine((v, ctx) => {
  const attached = v.hal.pinPad.driver !== 'none';
  if (v.terminal.pinPad !== undefined && v.terminal.pinPad !== attached) {
    ctx.addIssue({
      code: 'custom',
      path: ['terminal', 'pinPad'],
      message: `${attached} or absent: hal.pinPad.driver is "${v.hal.pinPad.driver}" (field 22 follows the attached PIN pad)`,
    });
  }
});

export type PosConfig = z.infer<typeof configSchema>;
