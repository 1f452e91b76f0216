// A CoLA-shaped acceptability task built deterministically from the Brown corpus: each chosen
// sentence appears once, either as written (label 1) or with one local corruption (label 0):
//   - agreement: a form of be/have/do swapped for the other number (is↔are, was↔were, has↔have,
//     does↔do), or a 3rd-person -s dropped from a present-tense verb (Brown tag vbz);
//   - word order: two adjacent words swapped (both alphabetic, different, not the sentence's first).
// Dev sentences come from every 10th Brown file and train from the others, so no document is in
// both; `brownPretrainingText` excludes the dev files too (MLM on them would leak the originals).
// Scored with MCC like CoLA. Written as CoLA's TSV layout by `writeColaTsv`.
//
// Two corruption sets. 'any' (task brown_cola) uses every site above; a compact BERT with little
// pre-training does not learn it (swapped content words such as "red big" need far more language
// knowledge than it has). 'function-word' (task brown_cola_fw) keeps only corruptions that break a
// frequent closed-class pattern: an adjacent swap where at least one of the two words is a function
// word (article, preposition, conjunction, pronoun, modal, be/have/do, determiner, wh-word), and a
// be/have/do agreement swap right after a subject pronoun ("they was", "he have").
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mulberry32, mixSeed } from '../random.js';
import type { BrownSentence } from './brown.js';
import type { TextDataset, TextExample } from './glue.js';

const AGREEMENT: Record<string, string> = {
  is: 'are', are: 'is', was: 'were', were: 'was', has: 'have', have: 'has', does: 'do', do: 'does',
  Is: 'Are', Are: 'Is', Was: 'Were', Were: 'Was', Has: 'Have', Have: 'Has', Does: 'Do', Do: 'Does',
};
const AGREEMENT_TAGS = new Set(['bez', 'ber', 'bedz', 'bed', 'hvz', 'hv', 'doz', 'do']);

// Brown tags of closed-class words (after dropping the -tl/-hl/-nc suffixes and a negation '*').
const FUNCTION_TAGS = new Set([
  'at', 'in', 'cc', 'cs', 'to', 'md', 'pps', 'ppss', 'ppo', 'pp$', 'ppl', 'ppls', 'ex', 'abn', 'ap', 'dt', 'dti', 'dts', 'dtx', 'wdt', 'wps', 'wrb',
  'be', 'bez', 'bedz', 'bed', 'ber', 'bem', 'ben', 'beg', 'hv', 'hvz', 'hvd', 'do', 'doz', 'dod',
]);
const SUBJECT_PRONOUN_TAGS = new Set(['pps', 'ppss']);
const baseTag = (tag: string): string => tag.replace(/(-(tl|hl|nc))+$/, '').replace(/\*$/, '');
export const isFunctionTag = (tag: string): boolean => FUNCTION_TAGS.has(baseTag(tag));

export type CorruptionSet = 'any' | 'function-word' | 'scramble' | 'initial';
export interface Corruption { words: string[]; kind: 'agreement' | 'order' }

/** One deterministic corruption of a tagged sentence, or null if none applies. */
export function corrupt(s: Pick<BrownSentence, 'words' | 'tags'>, rng: () => number, set: CorruptionSet = 'any'): Corruption | null {
  if (set === 'scramble') return scramble(s.words, rng);
  if (set === 'initial') {
    // the first two words swapped ("The man went …" → "man The went …"; uncased, so no capital gives it away)
    const [a, b] = s.words;
    if (a === undefined || b === undefined || !/^[A-Za-z]+$/.test(a) || !/^[A-Za-z]+$/.test(b) || a.toLowerCase() === b.toLowerCase()) return null;
    return { words: [b, a, ...s.words.slice(2)], kind: 'order' };
  }
  const fw = set === 'function-word';
  const agree: number[] = [], order: number[] = [];
  s.words.forEach((w, i) => {
    const tag = s.tags[i] ?? '';
    if (AGREEMENT_TAGS.has(tag) && AGREEMENT[w]) {
      if (!fw || (i > 0 && SUBJECT_PRONOUN_TAGS.has(baseTag(s.tags[i - 1] ?? '')))) agree.push(i);
    } else if (!fw && tag === 'vbz' && /^[a-z]{2,}[^s]s$/.test(w)) agree.push(i);
    const next = s.words[i + 1];
    if (i > 0 && next !== undefined && /^[A-Za-z]+$/.test(w) && /^[A-Za-z]+$/.test(next) && w.toLowerCase() !== next.toLowerCase()
      && (!fw || isFunctionTag(tag) || isFunctionTag(s.tags[i + 1] ?? ''))) order.push(i);
  });
  const useAgreement = agree.length > 0 && (order.length === 0 || rng() < 0.5);
  if (useAgreement) {
    const i = agree[Math.floor(rng() * agree.length)]!;
    const w = s.words[i]!;
    const words = [...s.words];
    words[i] = AGREEMENT[w] ?? w.slice(0, -1);
    return { words, kind: 'agreement' };
  }
  if (order.length === 0) return null;
  const i = order[Math.floor(rng() * order.length)]!;
  const words = [...s.words];
  [words[i], words[i + 1]] = [words[i + 1]!, words[i]!];
  return { words, kind: 'order' };
}

/**
 * 'scramble': the words of a window covering half the sentence (at least 4, the final punctuation
 * mark excluded) in a random order that differs from the original.
 */
function scramble(words: readonly string[], rng: () => number): Corruption | null {
  const body = words.length - 1;
  const k = Math.max(4, Math.ceil(body / 2));
  if (body < k) return null;
  const start = Math.floor(rng() * (body - k + 1));
  for (let attempt = 0; attempt < 4; attempt++) {
    const win = words.slice(start, start + k);
    for (let i = k - 1; i > 0; i--) { const j = Math.floor(rng() * (i + 1)); [win[i], win[j]] = [win[j]!, win[i]!]; }
    if (win.some((w, i) => w !== words[start + i])) return { words: [...words.slice(0, start), ...win, ...words.slice(start + k)], kind: 'order' };
  }
  return null;
}

export interface AcceptabilityOptions {
  trainSize?: number; devSize?: number; seed?: number; minWords?: number; maxWords?: number; corruptions?: CorruptionSet;
  /**
   * Minimal pairs: every chosen sentence appears twice, as written and with its corruption (still
   * one sentence per example, classified alone). Without it each sentence appears once, either way.
   */
  pairs?: boolean;
}

const isDevFile = (file: string): boolean => Number(file.slice(2)) % 10 === 0;

/** Sentences usable for the task: 6–30 words, starting with a capital, ending in . ! or ?. */
function usable(s: BrownSentence, min: number, max: number): boolean {
  const n = s.words.length;
  return n >= min && n <= max && /^[A-Z]/.test(s.words[0]!) && /^[.!?]$/.test(s.words[n - 1]!);
}

function build(sentences: readonly BrownSentence[], size: number, seed: number, set: CorruptionSet, pairs: boolean): { examples: TextExample[]; sources: string[]; kinds: number } {
  const rng = mulberry32(seed);
  const order = sentences.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rng() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
  const examples: TextExample[] = [], sources: string[] = [];
  let agreement = 0;
  for (const idx of order) {
    if (examples.length >= size) break;
    const s = sentences[idx]!;
    if (pairs) {
      const c = corrupt(s, rng, set);
      if (!c) continue;
      if (c.kind === 'agreement') agreement++;
      examples.push({ a: s.words.join(' '), b: null, label: 1 }, { a: c.words.join(' '), b: null, label: 0 });
      sources.push(s.file, s.file);
      continue;
    }
    const bad = examples.length % 2 === 1; // alternate: exactly balanced
    if (!bad) { examples.push({ a: s.words.join(' '), b: null, label: 1 }); sources.push(s.file); continue; }
    const c = corrupt(s, rng, set);
    if (!c) continue;
    if (c.kind === 'agreement') agreement++;
    examples.push({ a: c.words.join(' '), b: null, label: 0 });
    sources.push(s.file);
  }
  // pairs: an odd size ends on a sentence as written (one more acceptable than unacceptable)
  return { examples: examples.slice(0, size), sources: sources.slice(0, size), kinds: agreement };
}

export interface AcceptabilityTask { train: TextDataset; dev: TextDataset; sources: { train: string[]; dev: string[] } }

export function brownAcceptability(brown: readonly BrownSentence[], o: AcceptabilityOptions = {}): AcceptabilityTask {
  const min = o.minWords ?? 6, max = o.maxWords ?? 30, seed = o.seed ?? 0;
  const pool = brown.filter((s) => usable(s, min, max));
  const set = o.corruptions ?? 'any';
  const pairs = o.pairs ?? false;
  const tr = build(pool.filter((s) => !isDevFile(s.file)), o.trainSize ?? 8000, mixSeed(seed, 1), set, pairs);
  const dv = build(pool.filter((s) => isDevFile(s.file)), o.devSize ?? 1000, mixSeed(seed, 2), set, pairs);
  const labels = ['unacceptable', 'acceptable'];
  const name = { any: 'brown_cola', 'function-word': 'brown_cola_fw', scramble: 'brown_cola_scramble', initial: 'brown_cola_initial' }[set] + (pairs ? '_pairs' : '');
  return {
    train: { name: `${name}/train`, labels, examples: tr.examples, file: 'brown' },
    dev: { name: `${name}/dev`, labels, examples: dv.examples, file: 'brown' },
    sources: { train: tr.sources, dev: dv.sources },
  };
}

/** Brown sentences for masked-LM pre-training, without the acceptability task's dev files. */
export function brownPretrainingText(brown: readonly BrownSentence[]): string[] {
  return brown.filter((s) => !isDevFile(s.file)).map((s) => s.words.join(' '));
}

/** Writes train.tsv / dev.tsv in CoLA's layout (source, label, '*' mark when unacceptable, sentence). */
export function writeColaTsv(dir: string, task: AcceptabilityTask): void {
  mkdirSync(dir, { recursive: true });
  for (const [split, ds, src] of [['train', task.train, task.sources.train], ['dev', task.dev, task.sources.dev]] as const) {
    const lines = ds.examples.map((e, i) => `${src[i]}\t${e.label}\t${e.label === 0 ? '*' : ''}\t${e.a.replace(/[\t\r\n]/g, ' ')}`);
    const file = path.join(dir, `${split}.tsv`);
    writeFileSync(`${file}.tmp-${process.pid}`, lines.join('\n') + '\n');
    renameSync(`${file}.tmp-${process.pid}`, file); // a reader never sees half a file
  }
}
