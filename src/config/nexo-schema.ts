/** The nexo Retailer endpoint's configuration (`ecr.nexo`). */
import { z } from 'zod';
import { isLoopbackHost } from '../util/loopback.js';
import { bool, certPairCheck, filePathOrNull, int, ms, obj, str } from './schema-parts.js';

/** The nexo Retailer endpoint (HTTPS, /nexo/); message security with the shared keys of the registers. */
export const nexo = obj({
  enabled: bool,
  host: str('a listen address like "127.0.0.1"', 1, 255),
  port: int(0, 65535),
  /** The POIID answered in MessageHeaders; null or "": the terminal id. */
  poiId: z
    .string({ error: 'a POI id of up to 64 characters or null' })
    .max(64, { error: 'at most 64 characters' })
    .nullable(),
  /** A relative path is taken inside dataDir; both null: a self-signed certificate made there at first start. */
  certFile: filePathOrNull,
  keyFile: filePathOrNull,
  securityKeys: z.array(
    obj({
      keyIdentifier: str('a key identifier of 1 to 64 characters', 1, 64),
      keyVersion: int(0, 2_147_483_647),
      passphrase: str('a passphrase of 8 to 256 characters', 8, 256),
    }),
    { error: 'a list of { keyIdentifier, keyVersion, passphrase }' },
  ),
  /** Accept unsealed requests; only on loopback. */
  allowPlain: bool,
  /** Open connections at most; one more is dropped at accept. */
  maxConnections: int(1, 65_536),
  /** A kept-alive connection with no request this long is closed (as is one that never sent a request). */
  idleTimeoutMs: ms(100),
  /** Time to receive a whole request, headers and body, from its first byte: a slow (slowloris) sender is closed. */
  requestTimeoutMs: ms(100),
  /** Longest accepted body; a longer one is answered 413 and the connection closed. */
  maxBodyBytes: int(1024, 16 * 1024 * 1024),
}).superRefine((v, ctx) => {
  certPairCheck(v, ctx);
  const ids = v.securityKeys.map((k) => `${k.keyIdentifier}/${k.keyVersion}`);
  if (new Set(ids).size !== ids.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['securityKeys'],
      message: 'a list without a repeated keyIdentifier and keyVersion',
    });
  }
  // Beyond loopback anyone on the network can reach the endpoint: every message must be sealed with a known key.
  if (v.enabled && !isLoopbackHost(v.host)) {
    if (v.allowPlain) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowPlain'],
        message: `false when ecr.nexo.host (${v.host}) is beyond loopback`,
      });
    }
    if (v.securityKeys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['securityKeys'],
        message: `at least one key when ecr.nexo.host (${v.host}) is beyond loopback`,
      });
    }
  }
});
