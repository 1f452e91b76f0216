// Tokenized text examples and seeded mini-batches for BERT tasks: the tokenizer runs once per
// example; each epoch shuffles with its own seed (mulberry32 over (seed, epoch)), so runs and
// resumed runs see the same order.
import { mulberry32, mixSeed } from '../../data/random.js';
import { collate, encodePair, type Encoded, type TextBatch } from '../../data/text/encode.js';
import type { WordPieceTokenizer } from '../../data/text/wordpiece.js';
import type { TextDataset } from '../../data/text/glue.js';

export interface EncodedExample extends Encoded { label: number }

export function encodeDataset(tok: WordPieceTokenizer, ds: TextDataset, maxLength: number): EncodedExample[] {
  return ds.examples.map((e) => ({ ...encodePair(tok, e.a, e.b, maxLength), label: e.label }));
}

/** Index order for one epoch: a seeded Fisher–Yates shuffle, or 0…n−1. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  const rng = mulberry32(mixSeed(seed, epoch));
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rng() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
  return order;
}

/** Batches of indices in `order` (the last one may be short). */
export function chunks(order: readonly number[], batchSize: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

export function batchOf(examples: readonly Encoded[], idx: readonly number[], padId: number): TextBatch {
  return collate(idx.map((i) => examples[i]!), padId);
}
