/** The HAL's public surface: device contracts, their mock drivers, and the shared fault, clock and event types. */
export * from './fault.js';
export * from './clock.js';
export * from './events.js';
export * from './mock/fault-script.js';

export * from './card-reader/contract.js';
export * from './card-reader/mock.js';
export * from './pin-pad/contract.js';
export * from './pin-pad/mock.js';
export * from './printer/contract.js';
export * from './printer/mock.js';
export * from './display/contract.js';
export * from './display/mock.js';
export * from './network/contract.js';
export * from './network/mock.js';
