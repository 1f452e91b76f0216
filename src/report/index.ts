export * from './report.js';
export * from './tables.js';
