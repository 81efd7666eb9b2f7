/**
 * The fleet consumer's session and command settings (config key `session`): how long the broker keeps pos-fleet's
 * session while it is away (MQTT 5 session expiry; with MQTT 3.1.1 the broker's own setting decides), whether it
 * publishes its presence for the terminals, and the fleet's command key that signs every command it sends.
 */
import { z } from 'zod';

const expected = 'a number of seconds from 0 to 4294967295 (MQTT 5 session expiry)';

export const sessionConfigSchema = z.strictObject(
  {
    expirySeconds: z
      .number({ error: expected })
      .int({ error: expected })
      .min(0, { error: expected })
      .max(0xffff_ffff, { error: expected }),
    presence: z.boolean({ error: 'true or false' }),
    commandKeyFile: z
      .string({ error: 'a file path or null' })
      .min(1, { error: 'a file path or null' })
      .max(4096, { error: 'a file path or null' })
      .nullable(),
  },
  { error: 'an object' },
);

export type SessionConfig = z.infer<typeof sessionConfigSchema>;

/** A day of backlog kept by the broker; presence on; no key (commands cannot be sent until one is given). */
export const SESSION_DEFAULTS = { expirySeconds: 86_400, presence: true, commandKeyFile: null };

/** The command key from this variable wins over session.commandKeyFile. */
export const COMMAND_KEY_ENV = 'POS_FLEET_COMMAND_KEY';
