/**
 * The shared words of the terminal: transaction kinds, outcomes and receipt states, host error codes, money. A
 * leaf: it imports nothing of src/ or hal/, so every layer may import it without an arrow back.
 */
export * from './host-errors.js';
export * from './money.js';
export * from './transaction.js';
export * from './fleet-commands.js';
