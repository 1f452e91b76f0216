// BERT with Hugging Face names: config, modules, Hub folders.
export * from './config.js';
export * from './modeling.js';
export * from './hub.js';
