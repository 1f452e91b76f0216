// BERT's tokenizer: a basic tokenizer (clean-up, CJK characters as words, whitespace split,
// lower-casing with accent stripping, punctuation split) followed by greedy longest-match-first
// WordPiece with `##` continuations; a word with an unmatched remainder, or longer than 100
// characters, becomes [UNK] as a whole. Behaviour follows Google's tokenization.py and Hugging
// Face's BertTokenizer (uncased), written from their documented rules.
import type { Vocab } from './vocab.js';

export interface TokenizerOptions {
  /** Lower-case and strip accents (uncased models). Default true. */
  lowerCase?: boolean;
  /** Words longer than this many characters become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
}

const CONTROL = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
const PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARK = /\p{Mn}/gu;

export const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE_SEPARATOR.test(ch);
export const isControl = (ch: string): boolean => ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch);
/** Unicode punctuation, and every ASCII non-letter non-digit symbol ($, +, <, ^, `, | …), as BERT treats them. */
export function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return PUNCTUATION.test(ch);
}
/** The CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana, which are written with spaces). */
export function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f)
    || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** Drops NUL, U+FFFD and control characters; maps every whitespace character to a space; puts spaces around CJK ideographs. */
function clean(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) out += ' ';
    else if (isCjk(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out;
}

/** Splits a word into runs of non-punctuation and single punctuation characters. */
function splitPunctuation(word: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of word) {
    if (isPunctuation(ch)) {
      if (cur) out.push(cur);
      out.push(ch);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

export const stripAccents = (s: string): string => s.normalize('NFD').replace(NONSPACING_MARK, '');

export class WordPieceTokenizer {
  readonly lowerCase: boolean;
  readonly maxInputCharsPerWord: number;
  /** Special tokens kept whole by the basic tokenizer ([CLS], [SEP], [MASK], …). */
  readonly #neverSplit: Set<string>;

  constructor(readonly vocab: Vocab, o: TokenizerOptions = {}) {
    this.lowerCase = o.lowerCase ?? true;
    this.maxInputCharsPerWord = o.maxInputCharsPerWord ?? 100;
    this.#neverSplit = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  }

  /** The basic tokenizer: words and punctuation marks, lower-cased and accent-stripped when uncased. */
  basicTokenize(text: string): string[] {
    const out: string[] = [];
    for (const raw of clean(text.normalize('NFC')).split(' ')) {
      if (!raw) continue;
      if (this.#neverSplit.has(raw)) { out.push(raw); continue; }
      const word = this.lowerCase ? stripAccents(raw.toLowerCase()) : raw;
      out.push(...splitPunctuation(word));
    }
    return out;
  }

  /** Greedy longest-match-first pieces of one word; [UNK] if any remainder has no piece or the word is too long. */
  wordPiece(word: string): string[] {
    const chars = [...word];
    if (chars.length > this.maxInputCharsPerWord) return ['[UNK]'];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | null = null;
      while (start < end) {
        const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        if (this.vocab.has(sub)) { found = sub; break; }
        end--;
      }
      if (found === null) return ['[UNK]'];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const w of this.basicTokenize(text)) {
      if (this.#neverSplit.has(w)) out.push(w);
      else out.push(...this.wordPiece(w));
    }
    return out;
  }

  /** Token ids of `text` (no [CLS]/[SEP]). */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.vocab.id(t) ?? this.vocab.unk);
  }

  /** Tokens back to text: continuations joined to their word (lossy, as BERT's decode). */
  decode(ids: readonly number[], o: { skipSpecial?: boolean } = {}): string {
    const toks = ids.filter((id) => !(o.skipSpecial && this.vocab.isSpecial(id))).map((id) => this.vocab.token(id));
    return toks.join(' ').replace(/ ##/g, '');
  }
}
