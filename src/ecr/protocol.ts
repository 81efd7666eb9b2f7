/**
 * The ECR (cash register) API protocol: one JSON object per line in each direction. Requests are validated here,
 * replies are only typed; the terminal logic behind them lives in the handler.
 *
 * Validation errors read `field: expected <what>, found <value>` (as config errors do), so a register integrator
 * can fix a request from the error alone.
 */
import { z } from 'zod';
import type { Screen } from '../../hal/display/contract.js';
import { isPlausiblePan } from '../util/card-schemes.js';
import { luhnValidPan } from '../util/pan.js';
import { NUMERIC_CURRENCY_CODE, NUMERIC_CURRENCY_EXPECTED, type TransactionOutcome } from '../vocabulary/index.js';

export const ECR_COMMANDS = [
  'sale',
  'refund',
  'void',
  'cancel',
  'confirm',
  'status',
  'reprint',
  'slip',
  'drawer.open',
  'unlock',
  'selftest',
  'selftest.answer',
  'settle',
  'preauth',
  'preauth.increment',
  'preauth.complete',
  'preauth.cancel',
  'tipAdjust',
  'sim.card',
  'sim.fault',
  'sim.remove',
  'sim.pin',
  'sim.tip',
] as const;

export type EcrCommand = (typeof ECR_COMMANDS)[number];

export { ECR_ERROR_CODES, type EcrErrorCode } from './error-codes.js';
import type { EcrErrorCode } from './error-codes.js';

export const SIM_FAULT_DEVICES = ['printer', 'card-reader', 'display', 'host', 'network'] as const;
export type SimFaultDevice = (typeof SIM_FAULT_DEVICES)[number];

/** Amounts on the ECR are integer minor units of the currency (its ISO 4217 exponent says how many make one unit). */
export const MAX_AMOUNT = 99_999_999;
export const MAX_STAN = 999_999;

/** Simulator commands drive the mock devices; a production terminal refuses them. */
export function isSimulatorCommand(cmd: EcrCommand): cmd is Extract<EcrCommand, `sim.${string}`> {
  return cmd.startsWith('sim.');
}

// ---------------------------------------------------------------------------------------------------------------
// Request schemas. Each check's message is the `expected` phrase of the error reply.

/** Beyond 2^53 a numeric id would come back altered, so only safe integers are taken as numbers. */
const ID_EXPECTED = 'a string of 1 to 64 characters or an integer';
const ID_NOT_CARD = 'an id that is not a card number';
const idSchema = z
  .union([z.string().min(1).max(64), z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)], {
    error: ID_EXPECTED,
  })
  .transform((v) => String(v))
  // Echoed in every reply and kept in the journal: see idHoldsCardNumber.
  .refine((v) => !idHoldsCardNumber(v), { error: ID_NOT_CARD });

function int(min: number, max: number) {
  const expected = `an integer from ${min} to ${max}`;
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(min, { error: expected })
    .max(max, { error: expected });
}

function str(expected: string, min: number, max: number) {
  return z.string({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

const amount = int(1, MAX_AMOUNT);
const currency = z
  .string({ error: NUMERIC_CURRENCY_EXPECTED })
  .regex(NUMERIC_CURRENCY_CODE, { error: NUMERIC_CURRENCY_EXPECTED });
const stan = int(1, MAX_STAN);

const common = {
  id: idSchema,
  token: str('a token string of at most 256 characters', 0, 256).optional(),
};

// Objects are strict: a misspelt optional field (say "currnecy") would otherwise be dropped and the terminal default
// used without anyone noticing.
function command<C extends EcrCommand, S extends z.core.$ZodLooseShape>(cmd: C, shape: S) {
  return z.strictObject({ ...common, cmd: z.literal(cmd), ...shape });
}

/** A tip in minor units; 0 is no tip. */
const tip = int(0, MAX_AMOUNT);
const saleSchema = command('sale', { amount, currency: currency.optional(), tip: tip.optional() });
// Hospitality: a hold, named later by the `preauthId` its result carries.
const preauthId = z
  .string({ error: 'a pre-authorization id (the preauthId of its result)' })
  .regex(/^[A-Za-z0-9-]{1,100}$/, { error: 'a pre-authorization id (the preauthId of its result)' });
const preauthSchema = command('preauth', { amount, currency: currency.optional() });
const preauthIncrementSchema = command('preauth.increment', { preauthId, amount });
const preauthCompleteSchema = command('preauth.complete', { preauthId, amount, tip: tip.optional() });
const preauthCancelSchema = command('preauth.cancel', { preauthId });
const tipAdjustSchema = command('tipAdjust', { stan: int(1, MAX_STAN), tip: int(1, MAX_AMOUNT) });
const supervisorPin = str('a PIN string of 1 to 16 characters', 1, 16);
const refundSchema = command('refund', {
  amount,
  currency: currency.optional(),
  supervisorPin: supervisorPin.optional(),
});
const voidSchema = command('void', { stan, supervisorPin: supervisorPin.optional() });
const unlockSchema = command('unlock', { supervisorPin: supervisorPin.optional() });
// Opens the cash drawer on the printer's connector (no sale): journaled; refused when no drawer is configured.
const drawerOpenSchema = command('drawer.open', {});
const cancelSchema = command('cancel', {});
const confirmSchema = command('confirm', {});
const statusSchema = command('status', {});
const reprintSchema = command('reprint', { stan: stan.optional() });
const slipSchema = command('slip', {
  code: z
    .string({ error: 'an anomaly code like "E301"' })
    .regex(/^E\d{3}$/, { error: 'an anomaly code like "E301"' })
    .optional(),
});
// UnifiedPOS checkHealth levels: internal (default), external (test page, reader asked), interactive (operator confirms).
const HEALTH_LEVEL_NAMES = ['internal', 'external', 'interactive'] as const;
const selftestSchema = command('selftest', {
  level: z.enum(HEALTH_LEVEL_NAMES, { error: 'one of "internal", "external", "interactive"' }).optional(),
});
// The operator's answer to the interactive check's question ("did the test page print?").
const selftestAnswerSchema = command('selftest.answer', {
  answer: z.enum(['yes', 'no'], { error: 'one of "yes", "no"' }),
});
// End of day: settle the open batch with the host.
const settleSchema = command('settle', {});
// The simulated cardholder takes a card out when the terminal asks, unless told to leave it in (`stays`).
const simCardSchema = command('sim.card', {
  name: str('a test card name of 1 to 64 characters', 1, 64).optional(),
  stays: z.boolean({ error: 'true or false' }).optional(),
});
const simFaultSchema = command('sim.fault', {
  device: z.enum(SIM_FAULT_DEVICES, { error: `one of ${SIM_FAULT_DEVICES.map((d) => JSON.stringify(d)).join(', ')}` }),
  code: str('a fault code string of 1 to 64 characters', 1, 64),
  atStep: int(1, 1_000_000).optional(),
  times: int(1, 1_000_000).optional(),
});
const simRemoveSchema = command('sim.remove', {});
// The simulated cardholder at the tip prompt: types a tip in minor units (0: no tip), or presses cancel.
const simTipSchema = command('sim.tip', {
  amount: int(0, 999_999_999_999).optional(),
  cancel: z.boolean({ error: 'true or false' }).optional(),
});
// The simulated cardholder at the PIN pad: types a PIN (4 to 12 digits), or presses cancel.
const simPinSchema = command('sim.pin', {
  pin: z
    .string({ error: 'a PIN of 4 to 12 digits' })
    .regex(/^\d{4,12}$/, { error: 'a PIN of 4 to 12 digits' })
    .optional(),
  cancel: z.boolean({ error: 'true or false' }).optional(),
});

export const ecrRequestSchema = z.discriminatedUnion('cmd', [
  saleSchema,
  refundSchema,
  voidSchema,
  cancelSchema,
  confirmSchema,
  statusSchema,
  reprintSchema,
  slipSchema,
  drawerOpenSchema,
  unlockSchema,
  selftestSchema,
  selftestAnswerSchema,
  settleSchema,
  preauthSchema,
  preauthIncrementSchema,
  preauthCompleteSchema,
  preauthCancelSchema,
  tipAdjustSchema,
  simCardSchema,
  simFaultSchema,
  simRemoveSchema,
  simPinSchema,
  simTipSchema,
]);

/** A validated request; `id` is always a string (numeric ids are converted). */
export type EcrRequest = z.output<typeof ecrRequestSchema>;
export type EcrRequestOf<C extends EcrCommand> = Extract<EcrRequest, { cmd: C }>;

// A Map, not an object: a `cmd` such as "toString" or "__proto__" must not find anything.
const SCHEMAS = new Map<string, z.ZodType>(ecrRequestSchema.options.map((schema) => [schema.shape.cmd.value, schema]));

// ---------------------------------------------------------------------------------------------------------------
// Replies.

export interface EcrAckReply {
  id: string;
  type: 'ack';
  cmd: EcrCommand;
}

export interface EcrStateReply {
  id: string;
  type: 'state';
  state: string;
}

export interface EcrScreenReply {
  id: string;
  type: 'screen';
  screen: Screen;
}

export interface EcrAnomaly {
  code: string;
  name: string;
  message: string;
}

/** The last message of a transaction command (sale, refund, void, and the pre-authorization and tip commands). */
export interface EcrResultReply {
  id: string;
  type: 'result';
  outcome: TransactionOutcome;
  stan?: number;
  responseCode?: string;
  responseText?: string;
  approvalCode?: string;
  maskedPan?: string;
  /** Minor units of `currency` (ISO 4217 numeric code), as in the request. */
  amount?: number;
  currency?: string;
  anomaly?: EcrAnomaly;
  txnRef?: string;
  [key: string]: unknown;
}

/**
 * During a sale: the host approved only part of the amount. The register answers confirm (the customer pays the
 * rest another way) or cancel (the approved part is reversed); no answer in time reverses too.
 */
export interface EcrPartialReply {
  id: string;
  type: 'partial';
  requestedAmount: number;
  approvedAmount: number;
  currency: string;
}

/** The one reply to status (and any other query-like command). */
export interface EcrStatusReply {
  id: string;
  type: 'status';
  [key: string]: unknown;
}

/** The one reply to reprint, selftest, sim.*, cancel and confirm. */
export interface EcrDoneReply {
  id: string;
  type: 'done';
  [key: string]: unknown;
}

/** `id` is null when the line had no usable id (invalid JSON, line too long, bad id). */
export interface EcrErrorReply {
  id: string | null;
  type: 'error';
  code: EcrErrorCode;
  message: string;
  field?: string;
}

export type EcrReply =
  | EcrAckReply
  | EcrStateReply
  | EcrScreenReply
  | EcrResultReply
  | EcrPartialReply
  | EcrStatusReply
  | EcrDoneReply
  | EcrErrorReply;

export function ecrError(id: string | null, code: EcrErrorCode, message: string, field?: string): EcrErrorReply {
  return field === undefined ? { id, type: 'error', code, message } : { id, type: 'error', code, message, field };
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing.

export type ParseResult = { ok: true; request: EcrRequest } | { ok: false; error: EcrErrorReply };

/** Field names and values echoed in messages are clipped: an error reply must stay small whatever came in. */
const MAX_ECHO = 40;

/** Secrets are described by type only, so they never reach a reply or a log. */
const SECRET_FIELDS = new Set(['token', 'supervisorPin']);

function clip(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}...` : text;
}

// The shapes the journal's guard looks for: 13-19 digit runs, the grouped print forms, track sentinels.
const DIGIT_RUN = /(?<!\d)\d{13,19}(?!\d)/g;
const GROUPED = /(?<!\d)(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\d)/g;
const TRACK = /%B\d|;\d{12,19}=|\d{12}[=D]\d{4}/;

function holdsCardData(text: string, isCardNumber: (digits: string) => boolean): boolean {
  if (TRACK.test(text)) return true;
  return [...text.matchAll(DIGIT_RUN), ...text.matchAll(GROUPED)].some((m) => isCardNumber(m[0].replace(/[ -]/g, '')));
}

/**
 * A request id is echoed in every reply and kept in the journal: one a card scheme could have issued is refused
 * (never echoed), while ids made from a clock or a counter, which pass Luhn one time in ten, are taken.
 */
export function idHoldsCardNumber(id: string): boolean {
  return holdsCardData(id, isPlausiblePan);
}

function describe(value: unknown, field: string): string {
  if (value === undefined) return 'nothing';
  // Echoed text is free text: any Luhn-valid run is kept out of the reply.
  if ((typeof value === 'string' || typeof value === 'number') && holdsCardData(String(value), luhnValidPan))
    return 'a value holding card data (not repeated)';
  if (value === null) return 'null';
  // Objects and arrays are never stringified: a deeply nested value would overflow JSON.stringify's stack.
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (SECRET_FIELDS.has(field))
    return typeof value === 'string' ? `a string of ${value.length} characters` : `a ${typeof value}`;
  if (typeof value === 'string') return JSON.stringify(clip(value));
  return String(value);
}

function fieldError(id: string | null, raw: Record<string, unknown>, field: string, expected: string): EcrErrorReply {
  if (!Object.hasOwn(raw, field)) {
    return ecrError(id, 'missing-field', `${field}: expected ${expected}, found nothing`, field);
  }
  return ecrError(id, 'invalid-request', `${field}: expected ${expected}, found ${describe(raw[field], field)}`, field);
}

function issueError(id: string, cmd: string, raw: Record<string, unknown>, issue: z.core.$ZodIssue): EcrErrorReply {
  if (issue.code === 'unrecognized_keys') {
    const key = clip(issue.keys[0] ?? '');
    return ecrError(id, 'invalid-request', `${key}: not a field of "${cmd}"`, key);
  }
  const top = issue.path[0];
  if (typeof top !== 'string') return ecrError(id, 'invalid-request', `request: expected ${issue.message}`);
  return fieldError(id, raw, top, issue.message);
}

/** Parses and validates one request line (without its newline). Pure and total: never throws. */
export function parseRequestLine(line: string): ParseResult {
  try {
    return parse(line);
  } catch {
    // Nothing below is expected to throw; this keeps the connection alive if something ever does.
    return { ok: false, error: ecrError(null, 'invalid-request', 'the request could not be read') };
  }
}

function parse(line: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: ecrError(null, 'invalid-json', 'the line is not valid JSON') };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const found = describe(raw, '');
    return {
      ok: false,
      error: ecrError(null, 'invalid-request', `request: expected a JSON object with "id" and "cmd", found ${found}`),
    };
  }
  const obj = raw as Record<string, unknown>;

  const idResult = idSchema.safeParse(Object.hasOwn(obj, 'id') ? obj.id : undefined);
  if (!idResult.success) {
    if (idResult.error.issues[0]?.message === ID_NOT_CARD) {
      return {
        ok: false,
        error: ecrError(
          null,
          'invalid-request',
          `id: expected ${ID_NOT_CARD}, found a card number (not repeated)`,
          'id',
        ),
      };
    }
    return { ok: false, error: fieldError(null, obj, 'id', ID_EXPECTED) };
  }
  const id = idResult.data;

  if (!Object.hasOwn(obj, 'cmd') || typeof obj.cmd !== 'string') {
    return { ok: false, error: fieldError(id, obj, 'cmd', 'a command name such as "sale"') };
  }
  const cmd = obj.cmd;
  const schema = SCHEMAS.get(cmd);
  if (!schema) {
    return {
      ok: false,
      error: ecrError(
        id,
        'unknown-command',
        `cmd: expected one of ${ECR_COMMANDS.join(', ')}, found ${describe(cmd, 'cmd')}`,
        'cmd',
      ),
    };
  }

  const result = schema.safeParse(obj);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (!issue) return { ok: false, error: ecrError(id, 'invalid-request', `the "${cmd}" request is not valid`) };
    return { ok: false, error: issueError(id, cmd, obj, issue) };
  }
  return { ok: true, request: result.data as EcrRequest };
}
