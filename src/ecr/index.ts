/** The ECR (cash register) API: protocol types and validation, and the socket server that carries them. */
export * from './protocol.js';
export * from './server.js';
export * from './line-reader.js';
export * from './limits/index.js';
