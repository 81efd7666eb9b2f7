/**
 * Fuzz: fleet command payloads from MQTT. Any bytes go through checkCommand (size, protobuf decode, signature,
 * allow-list; the generated commands are signed with the fleet key, so mutations mostly break the signature), which
 * must never throw and must refuse with one of the CommandErrors the fleet understands. What it keeps of the fleet's
 * text (command id, issuer, message) must be printable, bounded, and publishable in the CommandResult the publisher
 * sends back, i.e. free of card data.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertPublishable, scrubCardData } from '../../../src/telemetry/messages.js';
import { checkCommand, MAX_COMMAND_TEXT, type CommandCheck } from '../../../src/telemetry/commands.js';
import { COMMAND_NAMES, wire, type CommandNameText } from '../../../src/telemetry/wire.js';
import { signCommand } from '../../../src/telemetry/wire-signature.js';
import { CASES, fcParams, FuzzFailure, Tally, timeoutFor } from './budget.js';
import { applyByteMutations, biasedBytes, byteMutation, mutationList } from './mutate.js';

const SURFACE = 'mqtt-commands';
const { CommandError } = wire;
const KEY = Buffer.from('fuzz-fleet-command-key-0123456789abcdef');
const NAMES = Object.keys(COMMAND_NAMES) as CommandNameText[];
/** Field tags of Command (1..4, each wire type), group start/end, varint continuation, an invalid wire type. */
const PROTO_BYTES = [0x0a, 0x10, 0x18, 0x22, 0x08, 0x12, 0x0b, 0x0c, 0x0f, 0x80, 0xff, 0x01, 0x00, 0x7f];

/** Text a fleet operator, or an attacker, might put in command_id / issued_by: plain, unicode, long, card-like. */
const fleetText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ minLength: MAX_COMMAND_TEXT - 2, maxLength: MAX_COMMAND_TEXT + 40 }),
  fc
    .array(
      fc.constantFrom(
        '4111111111111111',
        '4111 1111 1111 1111',
        '%B4111111111111111^X^2812?',
        ';4111111111111111=2812101?',
        '5500-0000-0000-0004',
        ' ',
        '=',
        'D',
        '1234',
      ),
      { maxLength: 5 },
    )
    .map((parts) => parts.join('')),
);

const commandBytes = fc
  .record({
    commandId: fleetText,
    name: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer()),
    issuedAtMs: fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer()),
    issuedBy: fleetText,
  })
  .map((c) => signCommand(KEY, c));

const payload: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: commandBytes },
  {
    weight: 4,
    arbitrary: fc
      .tuple(commandBytes, mutationList(byteMutation))
      .map(([b, m]) => applyByteMutations(b, m, PROTO_BYTES)),
  },
  { weight: 1, arbitrary: fc.tuple(commandBytes, commandBytes).map(([a, b]) => Uint8Array.from([...a, ...b])) },
  { weight: 1, arbitrary: biasedBytes(PROTO_BYTES, 64) },
  // Runs of group starts and varint continuations: the decoder's recursion and length limits.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(0x0b, 0x80, 0xff, 0x0a), fc.integer({ min: 1, max: 5000 }))
      .map(([b, n]) => new Uint8Array(n).fill(b)),
  },
);

const limits = fc.record({
  maxBytes: fc.constantFrom(64, 256, 4096),
  allowed: fc.subarray(NAMES),
  key: fc.constant(KEY),
});

const PRINTABLE = /^[\x20-\x7e]*$/;

function checkText(text: string, what: string, input: Uint8Array): void {
  if (typeof text !== 'string' || text.length > MAX_COMMAND_TEXT || !PRINTABLE.test(text)) {
    throw new FuzzFailure(SURFACE, `${what} kept unsafe: ${JSON.stringify(text).slice(0, 120)}`, input);
  }
}

describe('fuzz: MQTT fleet command payloads', () => {
  it(
    `${CASES} payloads through checkCommand: never throws, typed refusals only, publishable text`,
    () => {
      const tally = new Tally(SURFACE);
      fc.assert(
        fc.property(payload, limits, (bytes, limit) => {
          tally.begin();
          let check: CommandCheck;
          try {
            check = checkCommand(bytes, limit);
          } catch (err) {
            throw new FuzzFailure(SURFACE, 'checkCommand threw', bytes, err);
          }
          checkText(check.commandId, 'command id', bytes);
          checkText(check.issuedBy, 'issuer', bytes);
          const tooLarge = bytes.byteLength > limit.maxBytes;
          if (check.ok) {
            if (tooLarge || !limit.allowed.includes(check.name) || COMMAND_NAMES[check.name] !== check.wireName) {
              throw new FuzzFailure(SURFACE, `accepted ${check.name} against ${JSON.stringify(limit)}`, bytes);
            }
            tally.add('accepted');
          } else {
            const known = [
              CommandError.COMMAND_ERROR_TOO_LARGE,
              CommandError.COMMAND_ERROR_MALFORMED,
              CommandError.COMMAND_ERROR_NOT_ALLOWED,
              CommandError.COMMAND_ERROR_UNAUTHENTICATED,
            ];
            if (!known.includes(check.error) || typeof check.message !== 'string')
              throw new FuzzFailure(SURFACE, `untyped refusal ${JSON.stringify(check)}`, bytes);
            if ((check.error === CommandError.COMMAND_ERROR_TOO_LARGE) !== tooLarge)
              throw new FuzzFailure(SURFACE, 'size check wrong', bytes);
            const anomaly =
              check.error === CommandError.COMMAND_ERROR_NOT_ALLOWED ||
              check.error === CommandError.COMMAND_ERROR_UNAUTHENTICATED
                ? 'unauthorized-operation'
                : 'invalid-input';
            if (check.anomaly !== anomaly) throw new FuzzFailure(SURFACE, `journaled as ${check.anomaly}`, bytes);
            tally.add(`error:${CommandError[check.error]}`);
          }
          // The answer the publisher sends back must pass its card-data guard and encode, or the fleet never hears.
          const result = {
            commandId: check.commandId,
            name: check.wireName,
            ok: check.ok,
            error: check.ok ? CommandError.COMMAND_ERROR_NONE : check.error,
            message: scrubCardData(check.ok ? 'done' : check.message),
          };
          try {
            assertPublishable(result, 'command result');
            wire.CommandResult.encode(result).finish();
          } catch (err) {
            throw new FuzzFailure(SURFACE, 'the command result could not be published', bytes, err);
          }
        }),
        fcParams(SURFACE, CASES),
      );
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      for (const e of [
        'COMMAND_ERROR_TOO_LARGE',
        'COMMAND_ERROR_MALFORMED',
        'COMMAND_ERROR_NOT_ALLOWED',
        'COMMAND_ERROR_UNAUTHENTICATED',
      ])
        expect([...tally.counts.keys()]).toContain(`error:${e}`);
    },
    timeoutFor(CASES, 1),
  );

  // Found by this fuzz: one scrub pass masked "1111 1111 1111 4111" and left "4111 1111 1111 1111" behind it, and
  // cutting a 20-digit run at 200 characters left a card number at the end. Either made the anomaly journal and the
  // command result refuse the text, and put the number in the log.
  it.each([
    ['grouped numbers that overlap', '1111 1111 1111 4111 1111 1111 1111'],
    ['a long digit run cut at the limit', `${'x'.repeat(184)}41111111111111112222`],
  ])('regression: %s leave no card number in the kept text', (_name, commandId) => {
    const bytes = wire.Command.encode({
      commandId,
      name: COMMAND_NAMES['run-self-test'],
      issuedBy: commandId,
    }).finish();
    const check = checkCommand(bytes, { maxBytes: 4096, allowed: ['run-self-test'] });
    expect(() =>
      assertPublishable({ commandId: check.commandId, issuedBy: check.issuedBy }, 'kept text'),
    ).not.toThrow();
  });
});
