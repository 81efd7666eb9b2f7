/** Limits a register API keeps under abuse, shared by every front end that listens for registers. */
export * from './bad-input-tally.js';
export * from './client-key.js';
export * from './idle-watch.js';
export * from './lockout-file.js';
export * from './token-bucket.js';
