// BERT model inputs from text: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]` with segment ids 0 for
// A (and its [CLS]/[SEP]) and 1 for B and its [SEP]; longest-first truncation to a maximum length
// (as Hugging Face's truncation=True for pairs); padding to the longest sequence in the batch or
// to the maximum length, with an attention mask of 1 for tokens and 0 for padding.
import { tensor, type Tensor } from '../../tensor/index.js';
import type { WordPieceTokenizer } from './wordpiece.js';

export interface Encoded { inputIds: number[]; tokenTypeIds: number[]; attentionMask: number[] }

export interface EncodeOptions {
  /** Upper bound on the length with special tokens (default 128). */
  maxLength?: number;
  /** 'longest' pads to the batch's longest sequence, 'max_length' to maxLength, 'none' not at all. Default 'longest'. */
  padding?: 'longest' | 'max_length' | 'none';
}

/**
 * Removes tokens one at a time from the end of the longer sequence (B when they tie) until both
 * fit in `budget` tokens together, as transformers' 'longest_first' strategy.
 */
export function truncateLongestFirst(a: number[], b: number[] | null, budget: number): [number[], number[] | null] {
  const x = [...a], y = b ? [...b] : null;
  if (budget < 0) throw new RangeError(`maxLength leaves no room for the special tokens (budget ${budget})`);
  while (x.length + (y?.length ?? 0) > budget) {
    if (y && y.length >= x.length) y.pop();
    else x.pop();
  }
  return [x, y];
}

/** One example's ids: special tokens, segments and mask (no padding). */
export function encodePair(tok: WordPieceTokenizer, a: string, b: string | null = null, maxLength = 128): Encoded {
  const v = tok.vocab;
  const [x, y] = truncateLongestFirst(tok.encode(a), b === null ? null : tok.encode(b), maxLength - (b === null ? 2 : 3));
  const inputIds = [v.cls, ...x, v.sep];
  const tokenTypeIds = inputIds.map(() => 0);
  if (y) { inputIds.push(...y, v.sep); tokenTypeIds.push(...y.map(() => 1), 1); }
  return { inputIds, tokenTypeIds, attentionMask: inputIds.map(() => 1) };
}

/** Pads every example to the same length with [PAD] (segment 0, mask 0). */
export function pad(examples: readonly Encoded[], length: number, padId: number): Encoded[] {
  return examples.map((e) => {
    const n = length - e.inputIds.length;
    if (n < 0) throw new RangeError(`pad: example of length ${e.inputIds.length} exceeds ${length}`);
    const z = new Array<number>(n).fill(0);
    return { inputIds: [...e.inputIds, ...new Array<number>(n).fill(padId)], tokenTypeIds: [...e.tokenTypeIds, ...z], attentionMask: [...e.attentionMask, ...z] };
  });
}

export interface TextBatch { inputIds: Tensor; tokenTypeIds: Tensor; attentionMask: Tensor }

/** Pads encoded examples and stacks them into int64 tensors [B, T]. */
export function collate(examples: readonly Encoded[], padId: number, o: { length?: number } = {}): TextBatch {
  const len = o.length ?? Math.max(1, ...examples.map((e) => e.inputIds.length));
  const p = pad(examples, len, padId);
  const mk = (k: keyof Encoded): Tensor => tensor(p.flatMap((e) => e[k]), [p.length, len], { dtype: 'int64' });
  return { inputIds: mk('inputIds'), tokenTypeIds: mk('tokenTypeIds'), attentionMask: mk('attentionMask') };
}

/** Tokenizes, truncates and pads a batch of single texts or pairs into tensors. */
export function encodeBatch(tok: WordPieceTokenizer, texts: readonly (string | readonly [string, string])[], o: EncodeOptions = {}): TextBatch {
  const maxLength = o.maxLength ?? 128;
  const enc = texts.map((t) => (typeof t === 'string' ? encodePair(tok, t, null, maxLength) : encodePair(tok, t[0], t[1], maxLength)));
  const padding = o.padding ?? 'longest';
  if (padding === 'none' && new Set(enc.map((e) => e.inputIds.length)).size > 1) throw new RangeError("encodeBatch: padding 'none' needs equal lengths");
  return collate(enc, tok.vocab.pad, padding === 'max_length' ? { length: maxLength } : {});
}
