/** The nexo server's options from the loaded configuration (ecr.nexo and dataDir), for the composition root. */
import type { PosConfig } from '../config/index.js';
import type { NexoServerOptions } from './server.js';
import type { NexoHandler } from './types.js';

export function nexoServerOptions(
  config: PosConfig,
  handler: NexoHandler,
  hooks: Pick<NexoServerOptions, 'onBadInput' | 'onHandlerError' | 'limits' | 'clock'> = {},
): NexoServerOptions {
  const nexo = config.ecr.nexo;
  return {
    host: nexo.host,
    port: nexo.port,
    tls: {
      dataDir: config.dataDir,
      certFile: nexo.certFile,
      keyFile: nexo.keyFile,
      commonName: nexo.poiId || config.terminal.id,
    },
    securityKeys: nexo.securityKeys,
    allowPlain: nexo.allowPlain,
    handler,
    ...hooks,
    limits: {
      maxConnections: nexo.maxConnections,
      keepAliveTimeoutMs: nexo.idleTimeoutMs,
      requestTimeoutMs: nexo.requestTimeoutMs,
      maxBodyBytes: nexo.maxBodyBytes,
      ...hooks.limits,
    },
    // The register's rate limit (ecr.rateLimit) holds for a nexo client too, per client address.
    rateLimit: config.ecr.rateLimit,
  };
}
