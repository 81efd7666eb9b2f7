/**
 * Who a request comes from, for limits and lockouts: a register that presented a configured token is that token's
 * holder (`token:2`, never the token itself), whatever its address; anyone else is its address (`tcp:10.0.0.7`, the
 * port left out so reconnecting does not make a new client; `unix` for the local socket).
 */
export function addressKey(connectionId: string): string {
  if (connectionId.startsWith('unix:')) return 'unix';
  const lastColon = connectionId.lastIndexOf(':');
  return lastColon > 'tcp:'.length ? connectionId.slice(0, lastColon) : connectionId;
}

export function principalOf(connectionId: string, tokenIndex: number | undefined): string {
  return tokenIndex === undefined ? addressKey(connectionId) : `token:${tokenIndex}`;
}

export { isLoopbackHost } from '../../util/loopback.js';
