export * from './taxonomy.js';
export * from './classifier.js';
