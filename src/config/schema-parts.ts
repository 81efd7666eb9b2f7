/** The building blocks of the configuration schema: typed fields with the phrases their errors use. */
import { isIPv6 } from 'node:net';
import { z } from 'zod';

/** setTimeout fires at once for delays above this, so no timeout may exceed it. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Splits `name:port`, `1.2.3.4:port` or `[::1]:port`. Port 0 is allowed (an ephemeral port for a local listener). */
export function parseHostAddress(address: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(address);
  const plain = /^([A-Za-z0-9._-]+):(\d{1,5})$/.exec(address);
  const host = bracketed?.[1] ?? plain?.[1];
  const portText = bracketed?.[2] ?? plain?.[2];
  if (host === undefined || portText === undefined || (bracketed && !isIPv6(host))) {
    throw new Error(
      `invalid host address ${JSON.stringify(address)}: expected host:port, e.g. 127.0.0.1:8583 or [::1]:8583`,
    );
  }
  const port = Number(portText);
  if (port > 65535) throw new Error(`invalid host address ${JSON.stringify(address)}: port must be 0 to 65535`);
  return { host, port };
}

export function isHostAddress(value: string): boolean {
  try {
    parseHostAddress(value);
    return true;
  } catch {
    return false;
  }
}

/** An integer in [min, max]; timer-sized maxima are left out of the phrase since nobody configures near them. */
export function int(min: number, max: number) {
  const expected = max >= MAX_TIMER_MS ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(min, { error: expected })
    .max(max, { error: `an integer from ${min} to ${max}` });
}

export const ms = (min: number) => int(min, MAX_TIMER_MS);

export function str(expected: string, min = 1, max = 4096) {
  return z.string({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

export function pattern(re: RegExp, expected: string) {
  return z.string({ error: expected }).regex(re, { error: expected });
}

export const bool = z.boolean({ error: 'true or false' });
export const filePathOrNull = str('a file path or null').nullable();
export const stringOrNull = str('a non-empty string or null').nullable();

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}

export function obj<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: 'an object' });
}

/** USB ids are usually written in hex, which JSON lacks, so "0x0801" is accepted alongside 2049. */
export const usbId = z.preprocess(
  (v) => (typeof v === 'string' && /^0x[0-9a-f]{1,4}$/i.test(v) ? Number.parseInt(v.slice(2), 16) : v),
  z
    .number({ error: 'an integer from 0 to 65535 or a hex string like "0x0801"' })
    .int({ error: 'an integer from 0 to 65535 or a hex string like "0x0801"' })
    .min(0, { error: 'an integer from 0 to 65535 or a hex string like "0x0801"' })
    .max(0xffff, { error: 'an integer from 0 to 65535 or a hex string like "0x0801"' }),
);

export const serialPort = obj({
  path: str('a serial device path like "/dev/ttyS1"'),
  baudRate: int(300, 4_000_000),
});

/** Both halves of a client certificate or neither: one alone is a half-done setup that fails at connect time. */
export function certPairCheck(v: { certFile: string | null; keyFile: string | null }, ctx: z.core.$RefinementCtx) {
  if (v.certFile !== null && v.keyFile === null) {
    ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'a key file path when certFile is set' });
  }
  if (v.keyFile !== null && v.certFile === null) {
    ctx.addIssue({ code: 'custom', path: ['certFile'], message: 'a certificate file path when keyFile is set' });
  }
}
