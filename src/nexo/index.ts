export { nexoFailure, type NexoErrorCondition } from './failure.js';
export { nexoServerOptions } from './from-config.js';
export {
  NexoKeyRing,
  NexoSecurityError,
  open,
  seal,
  type NexoSecurityFailure,
  type NexoSecurityKeyConfig,
} from './security.js';
export {
  DEFAULT_NEXO_LIMITS,
  startNexoServer,
  type NexoBadInput,
  type NexoLimits,
  type NexoServerOptions,
  type RunningNexoServer,
} from './server.js';
export { loadNexoTls, NexoTlsError, type NexoTls } from './tls.js';
export type { NexoContext, NexoHandler } from './types.js';
