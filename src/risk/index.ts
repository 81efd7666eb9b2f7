/** Pure risk checks (no I/O, time injected); the transaction flow wires them in and acts on their decisions. */
export * from './evidence.js';
export * from './card-key.js';
export * from './duplicates.js';
export * from './fraud.js';
export * from './pin-guard.js';
export * from './data-errors.js';
export * from './lockout.js';
export * from './client-lockout.js';
export * from './lockout-persistence.js';
