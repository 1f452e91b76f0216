export * from './report.js';
export * from './read.js';
export * from './schema.js';
