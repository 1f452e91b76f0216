// Text data: WordPiece vocabularies and tokenizer, BERT input encoding, corpora and GLUE-format tasks.
export * from './vocab.js';
export * from './wordpiece.js';
export * from './encode.js';
export * from './brown.js';
export * from './glue.js';
export * from './fine-foods.js';
export * from './acceptability.js';
