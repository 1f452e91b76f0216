// Masked-language-model pre-training of BertForMaskedLM, as BERT does it: 15 % of the real tokens
// of each sequence (at least one) are chosen; of those 80 % become [MASK], 10 % a random
// vocabulary token, 10 % stay; the loss is cross-entropy on the chosen positions only (the
// vocabulary projection runs on those rows, not on every token). AdamW with decoupled weight
// decay (none on biases and LayerNorm weights) and Hugging Face's linear warm-up then linear decay.
import { F, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../tensor/index.js';
import { AdamW, LambdaLR, paramGroupsNoDecay } from '../../optim/index.js';
import { mulberry32, mixSeed } from '../../data/random.js';
import { encodePair, type Encoded } from '../../data/text/encode.js';
import type { WordPieceTokenizer } from '../../data/text/wordpiece.js';
import type { Vocab } from '../../data/text/vocab.js';
import type { BertForMaskedLM } from '../../models/bert/index.js';
import { chunks, epochOrder } from './batches.js';
import type { LoopState } from './checkpoint.js';

export interface MaskedBatch { inputIds: Tensor; tokenTypeIds: Tensor; attentionMask: Tensor; positions: Tensor; targets: Tensor }

/** Masks a padded batch of encoded sequences; `rng` makes it deterministic. Specials are never chosen. */
export function maskBatch(examples: readonly Encoded[], vocab: Vocab, rng: () => number, prob = 0.15): MaskedBatch {
  const len = Math.max(...examples.map((e) => e.inputIds.length));
  const ids: number[] = [], types: number[] = [], mask: number[] = [], positions: number[] = [], targets: number[] = [];
  const firstWord = 999; // bert-base: ids below are [PAD], [unusedN], [UNK], [CLS], [SEP], [MASK]
  examples.forEach((e, b) => {
    const row = [...e.inputIds, ...new Array<number>(len - e.inputIds.length).fill(vocab.pad)];
    const candidates = e.inputIds.map((id, i) => (vocab.isSpecial(id) ? -1 : i)).filter((i) => i >= 0);
    let chosen = candidates.filter(() => rng() < prob);
    if (chosen.length === 0 && candidates.length > 0) chosen = [candidates[Math.floor(rng() * candidates.length)]!];
    for (const i of chosen) {
      positions.push(b * len + i);
      targets.push(row[i]!);
      const r = rng();
      if (r < 0.8) row[i] = vocab.mask;
      else if (r < 0.9) row[i] = Math.min(vocab.size - 1, Math.max(vocab.size > firstWord ? firstWord : 0, Math.floor(rng() * vocab.size)));
    }
    ids.push(...row);
    types.push(...e.tokenTypeIds, ...new Array<number>(len - e.inputIds.length).fill(0));
    mask.push(...e.attentionMask, ...new Array<number>(len - e.inputIds.length).fill(0));
  });
  const n = examples.length;
  return {
    inputIds: tensor(ids, [n, len], { dtype: 'int64' }), tokenTypeIds: tensor(types, [n, len], { dtype: 'int64' }),
    attentionMask: tensor(mask, [n, len], { dtype: 'int64' }), positions: tensor(positions, [positions.length], { dtype: 'int64' }),
    targets: tensor(targets, [targets.length], { dtype: 'int64' }),
  };
}

/** Cross-entropy of the MLM head on the masked positions only. */
export function mlmLoss(model: BertForMaskedLM, b: MaskedBatch): Tensor {
  const h = model.bert.forward({ inputIds: b.inputIds, tokenTypeIds: b.tokenTypeIds, attentionMask: b.attentionMask }).lastHiddenState;
  const rows = h.reshape([-1, h.shape[2]!]).indexSelect(0, b.positions);
  return F.crossEntropy(model.cls.forward(rows), b.targets);
}

/** Hugging Face's get_linear_schedule_with_warmup factor at optimizer step `s`. */
export const linearWarmupDecay = (warmup: number, total: number) => (s: number): number =>
  (s < warmup ? s / Math.max(1, warmup) : Math.max(0, (total - s) / Math.max(1, total - warmup)));

export interface PretrainOptions {
  steps: number;
  batchSize: number;
  maxLength: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  seed: number;
  /** Called every `logEvery` steps with the mean loss since the last call. */
  log?: (step: number, loss: number, lr: number) => void;
  logEvery?: number;
  /** Continue from a checkpoint's state (its step count, AdamW state and schedule). */
  start?: LoopState;
  /** Called every `checkpointEvery` steps (a multiple of logEvery) and after the last one. */
  checkpoint?: (state: LoopState, losses: number[]) => void;
  checkpointEvery?: number;
  /** Loss windows logged before `start` (they are part of the returned list). */
  losses?: number[];
  /** Stop after this many steps of this call (an interruption, for tests). */
  stopAfter?: number;
}

/** libtorch's seed (dropout) and the masking RNG for optimizer step `step`: a resumed run draws the same. */
const stepSeed = (seed: number, step: number): number => mixSeed(seed, 0x6d6c6d + step) % 2 ** 31;

/**
 * Pre-trains in place on `texts` (single segments); returns the mean loss of each logged window.
 * Step s reads batch s mod (batches per epoch) of epoch ⌊s / batches per epoch⌋ and is seeded from
 * (seed, s), so the run can stop at any checkpoint and continue identically.
 */
export function pretrainMlm(model: BertForMaskedLM, tok: WordPieceTokenizer, texts: readonly string[], o: PretrainOptions): { losses: number[]; done: number } {
  const encoded = texts.map((t) => encodePair(tok, t, null, o.maxLength)).filter((e) => e.inputIds.length > 3);
  const logEvery = o.logEvery ?? 50;
  const every = o.checkpointEvery ?? 0;
  if (every % logEvery !== 0) throw new Error(`internal: checkpointEvery ${every} is not a multiple of logEvery ${logEvery}`);
  const opt = new AdamW(paramGroupsNoDecay(model), { lr: o.lr, weightDecay: o.weightDecay, betas: [0.9, 0.999], eps: 1e-6 });
  const sched = new LambdaLR(opt, linearWarmupDecay(o.warmupSteps, o.steps));
  if (o.start) { opt.loadStateDict(o.start.optimizer); sched.loadStateDict(o.start.schedule); }
  const perEpoch = Math.ceil(encoded.length / o.batchSize);
  const losses: number[] = [...(o.losses ?? [])];
  let step = o.start?.done ?? 0, acc = 0, accN = 0, order: number[][] = [], orderEpoch = -1;
  const last = Math.min(o.steps, o.stopAfter !== undefined ? step + o.stopAfter : o.steps);
  model.train();
  try {
    while (step < last) {
      const epoch = Math.floor(step / perEpoch);
      if (epoch !== orderEpoch) { order = chunks(epochOrder(encoded.length, o.seed, epoch), o.batchSize); orderEpoch = epoch; }
      const idx = order[step % perEpoch]!;
      manualSeed(stepSeed(o.seed, step));
      const rng = mulberry32(stepSeed(o.seed, step));
      const loss = tidy(() => {
        const b = maskBatch(idx.map((i) => encoded[i]!), tok.vocab, rng);
        const l = mlmLoss(model, b);
        l.backward();
        return l.item();
      });
      opt.step();
      model.zeroGrad();
      sched.step();
      step++;
      acc += loss; accN++;
      if (step % logEvery === 0 || step === o.steps) {
        losses.push(acc / accN);
        o.log?.(step, acc / accN, opt.paramGroups[0]!.lr);
        acc = 0; accN = 0;
      }
      if (o.checkpoint && ((every > 0 && step % every === 0) || step === o.steps)) {
        tidy(() => o.checkpoint!({ done: step, optimizer: opt.stateDict(), schedule: sched.stateDict() }, losses));
      }
    }
  } finally { opt.dispose(); }
  model.eval();
  return { losses, done: step };
}

/** Masked-token accuracy and loss on held-out texts (fixed masks from `seed`). */
export function evaluateMlm(model: BertForMaskedLM, tok: WordPieceTokenizer, texts: readonly string[], o: { maxLength: number; batchSize: number; seed: number }): { loss: number; accuracy: number } {
  const encoded = texts.map((t) => encodePair(tok, t, null, o.maxLength)).filter((e) => e.inputIds.length > 3);
  const rng = mulberry32(mixSeed(o.seed, 0x65766c));
  let loss = 0, correct = 0, n = 0;
  model.eval();
  noGrad(() => {
    for (const idx of chunks(epochOrder(encoded.length, 0, 0, false), o.batchSize)) {
      tidy(() => {
        const b = maskBatch(idx.map((i) => encoded[i]!), tok.vocab, rng);
        const h = model.bert.forward({ inputIds: b.inputIds, tokenTypeIds: b.tokenTypeIds, attentionMask: b.attentionMask }).lastHiddenState;
        const logits = model.cls.forward(h.reshape([-1, h.shape[2]!]).indexSelect(0, b.positions));
        const k = b.targets.shape[0]!;
        loss += F.crossEntropy(logits, b.targets, { reduction: 'sum' }).item();
        correct += logits.argmax(-1).eq(b.targets).sum().item();
        n += k;
      });
    }
  });
  return { loss: loss / n, accuracy: correct / n };
}
