export * from './schema.js';
export * from './migrations/index.js';
export * from './stan.js';
export type { AttemptInput, MessageFacts } from './checks.js';
export * from './journal.js';
export * from './stores/anomalies.js';
export * from './card-data-guard.js';
export * from './export.js';
export * from './outside-record.js';
