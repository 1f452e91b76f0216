// Fine-tuning and evaluation of BertForSequenceClassification on a text task (inputs + loss +
// metric): AdamW, linear warm-up then decay, cross-entropy on the logits. The forward is a
// parameter so CAT can run the model through its own forward and add a rate penalty.
import { F, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../tensor/index.js';
import { mixSeed } from '../../data/random.js';
import { AdamW, LambdaLR, paramGroupsNoDecay } from '../../optim/index.js';
import type { TextBatch } from '../../data/text/encode.js';
import type { TextDataset } from '../../data/text/glue.js';
import type { WordPieceTokenizer } from '../../data/text/wordpiece.js';
import type { AnyModule } from '../../nn/index.js';
import type { BertInputs } from '../../models/bert/index.js';
import { computeMetric, accuracy, matthewsCorrelation, f1, type MetricName } from '../metrics.js';
import { batchOf, chunks, encodeDataset, epochOrder, type EncodedExample } from './batches.js';
import { linearWarmupDecay } from './mlm.js';
import type { LoopState } from './checkpoint.js';

/** A text classification task: its data, label names and the metric it is scored by. */
export interface TextTask { name: string; labels: string[]; metric: MetricName; train: TextDataset; dev: TextDataset }

/** What one forward gives the loop: logits [B, classes] and an optional penalty added to the loss. */
export type ClassifierForward = (x: BertInputs, training: boolean) => { logits: Tensor; penalty?: Tensor | null };

export interface FinetuneOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupRatio: number;
  weightDecay: number;
  maxLength: number;
  seed: number;
  /** Defaults to the model's own forward. */
  forward?: ClassifierForward;
  /** Parameters to optimise (default: the model's). */
  parameters?: AnyModule;
  log?: (epoch: number, step: number, loss: number, penalty: number) => void;
  /** After each epoch (e.g. an evaluation). */
  afterEpoch?: (epoch: number) => void;
  /** Continue from a checkpoint's state (its epochs, AdamW state and schedule). */
  start?: LoopState;
  /** After each epoch's afterEpoch: the state to checkpoint. */
  checkpoint?: (state: LoopState) => void;
  /** Stop after this many epochs of this call (an interruption, for tests). */
  stopAfter?: number;
  /** Wall-clock milliseconds of each optimizer step (forward, backward, update). */
  onStepTime?: (ms: number) => void;
}

/** libtorch's seed (dropout) for an epoch: a resumed run draws what an uninterrupted one would. */
const epochSeed = (seed: number, epoch: number): number => mixSeed(seed, 0x66740000 + epoch) % 2 ** 31;

export interface EvalResult { metric: number; metricName: MetricName; accuracy: number; mcc: number; f1: number; examples: number; predictions: number[] }

const inputs = (b: TextBatch): BertInputs => ({ inputIds: b.inputIds, tokenTypeIds: b.tokenTypeIds, attentionMask: b.attentionMask });

export interface PreparedTask { task: TextTask; train: EncodedExample[]; dev: EncodedExample[]; padId: number }
export function prepareTask(task: TextTask, tok: WordPieceTokenizer, maxLength: number): PreparedTask {
  return { task, train: encodeDataset(tok, task.train, maxLength), dev: encodeDataset(tok, task.dev, maxLength), padId: tok.vocab.pad };
}

export function finetune(model: AnyModule & { forward(x: BertInputs): Tensor }, p: PreparedTask, o: FinetuneOptions): { losses: number[] } {
  const fwd: ClassifierForward = o.forward ?? ((x) => ({ logits: model.forward(x) }));
  const stepsPerEpoch = Math.ceil(p.train.length / o.batchSize);
  const total = stepsPerEpoch * o.epochs;
  const opt = new AdamW(paramGroupsNoDecay(o.parameters ?? model), { lr: o.lr, weightDecay: o.weightDecay, betas: [0.9, 0.999], eps: 1e-6 });
  const sched = new LambdaLR(opt, linearWarmupDecay(Math.round(o.warmupRatio * total), total));
  if (o.start) { opt.loadStateDict(o.start.optimizer); sched.loadStateDict(o.start.schedule); }
  const first = o.start?.done ?? 0;
  const last = Math.min(o.epochs, o.stopAfter !== undefined ? first + o.stopAfter : o.epochs);
  const losses: number[] = [];
  let step = first * stepsPerEpoch;
  try {
    for (let epoch = first; epoch < last; epoch++) {
      manualSeed(epochSeed(o.seed, epoch));
      model.train();
      let sum = 0, pen = 0, n = 0;
      for (const idx of chunks(epochOrder(p.train.length, o.seed, epoch), o.batchSize)) {
        const t0 = performance.now();
        const [l, q] = tidy(() => {
          const b = batchOf(p.train, idx, p.padId);
          const y = tensor(idx.map((i) => p.train[i]!.label), [idx.length], { dtype: 'int64' });
          const { logits, penalty } = fwd(inputs(b), true);
          let loss = F.crossEntropy(logits, y);
          const pv = penalty ? penalty.item() : 0;
          if (penalty) loss = loss.add(penalty);
          loss.backward();
          return [loss.item(), pv];
        });
        opt.step();
        model.zeroGrad();
        sched.step();
        o.onStepTime?.(performance.now() - t0);
        step++;
        sum += l; pen += q; n++;
      }
      losses.push(sum / n);
      o.log?.(epoch + 1, step, sum / n, pen / n);
      model.eval();
      o.afterEpoch?.(epoch + 1);
      if (o.checkpoint) tidy(() => o.checkpoint!({ done: epoch + 1, optimizer: opt.stateDict(), schedule: sched.stateDict() }));
    }
  } finally { opt.dispose(); }
  model.eval();
  return { losses };
}

/** Predictions on the dev split and the task's metric, plus accuracy, MCC and F1. */
export function evaluateClassifier(model: AnyModule & { forward(x: BertInputs): Tensor }, p: PreparedTask, o: { batchSize: number; forward?: ClassifierForward }): EvalResult {
  const fwd: ClassifierForward = o.forward ?? ((x) => ({ logits: model.forward(x) }));
  model.eval();
  const predictions: number[] = [];
  noGrad(() => {
    for (const idx of chunks(epochOrder(p.dev.length, 0, 0, false), o.batchSize)) {
      tidy(() => {
        const { logits } = fwd(inputs(batchOf(p.dev, idx, p.padId)), false);
        predictions.push(...(logits.argmax(-1).toArray() as number[]));
      });
    }
  });
  const gold = p.dev.map((e) => e.label);
  const k = p.task.labels.length;
  return {
    metric: computeMetric(p.task.metric, predictions, gold, k), metricName: p.task.metric,
    accuracy: accuracy(predictions, gold), mcc: matthewsCorrelation(predictions, gold, k), f1: k === 2 ? f1(predictions, gold) : NaN,
    examples: gold.length, predictions,
  };
}
