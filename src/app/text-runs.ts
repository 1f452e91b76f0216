// BERT run folders: each holds a Hugging Face-format model (config.json + model.safetensors, so
// `catkit import --from hf` and transformers read it) and report.json (settings, per-epoch
// numbers, the final metric and wall-clock seconds). A folder that already holds a report is never
// overwritten. Flows: pretrain (MLM on offline text) → finetune (a text task) → cat (see text-cat-run.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed, tidy } from '../tensor/index.js';
import { saveSafetensors } from '../nn/index.js';
import { CatkitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { bertBaseUncasedVocab, loadVocab, type Vocab } from '../data/text/vocab.js';
import { WordPieceTokenizer } from '../data/text/wordpiece.js';
import { loadBrown } from '../data/text/brown.js';
import { brownPretrainingText } from '../data/text/acceptability.js';
import { loadFineFoods } from '../data/text/fine-foods.js';
import {
  BertForMaskedLM, BertForSequenceClassification, TIED_KEYS, compactBertConfig, hubConfigJson, loadBertFromHub, type AnyBert, type BertConfig,
} from '../models/bert/index.js';
import { evaluateMlm, pretrainMlm } from '../train/text/mlm.js';
import { evaluateClassifier, finetune, prepareTask, type EvalResult, type PreparedTask } from '../train/text/finetune.js';
import { loadTextTask, type TaskOptions, type TextTaskName } from '../train/text/tasks.js';

export const REPORT_JSON = 'report.json';

export function claimRunFolder(out: string): void {
  if (existsSync(path.join(out, REPORT_JSON))) throw new CatkitError('run_exists', `${out} already holds a run (report.json); choose another --out`);
  mkdirSync(out, { recursive: true });
}

export function saveBertFolder(out: string, model: AnyBert, report: Record<string, unknown>): void {
  writeFileAtomic(path.join(out, 'config.json'), JSON.stringify(hubConfigJson(model), null, 2));
  // Tied copies (the MLM decoder is the word-embedding matrix) are left out, as transformers saves them.
  tidy(() => {
    const sd = model.stateDict();
    for (const k of TIED_KEYS) sd.delete(k);
    saveSafetensors(path.join(out, 'model.safetensors'), sd, { format: 'pt' });
  });
  writeFileAtomic(path.join(out, REPORT_JSON), JSON.stringify(report, null, 1));
}

export function readReport(dir: string): Record<string, unknown> {
  const file = path.join(dir, REPORT_JSON);
  if (!existsSync(file)) throw new CatkitError('no_such_file', `${dir}: no ${REPORT_JSON} (not a catkit BERT run folder)`);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function tokenizerFor(vocabFile?: string): WordPieceTokenizer {
  const v: Vocab = vocabFile ? loadVocab(vocabFile) : bertBaseUncasedVocab();
  return new WordPieceTokenizer(v);
}

const seconds = (t0: number): number => Math.round((Date.now() - t0) / 100) / 10;

export interface PretrainRunOptions {
  out: string; layers: number; hidden: number; heads?: number; steps: number; batchSize: number; maxLength: number;
  lr: number; warmupSteps: number; weightDecay: number; seed: number; vocab?: string; log?: (line: string) => void;
}

/** MLM pre-training of a compact BERT on Brown (minus brown_cola's dev files) + the fine_foods training reviews. */
export function pretrainRun(o: PretrainRunOptions): Record<string, unknown> {
  claimRunFolder(o.out);
  const t0 = Date.now();
  manualSeed(o.seed);
  const tok = tokenizerFor(o.vocab);
  const brown = loadBrown();
  const texts = [...brownPretrainingText(brown), ...loadFineFoods('train').examples.map((e) => e.a)];
  const heldOut = brown.filter((s) => Number(s.file.slice(2)) % 10 === 0).slice(0, 500).map((s) => s.words.join(' '));
  const config: BertConfig = compactBertConfig(o.layers, o.hidden, {
    vocabSize: tok.vocab.size, maxPositionEmbeddings: Math.max(128, o.maxLength), ...(o.heads ? { numAttentionHeads: o.heads } : {}),
  });
  const model = new BertForMaskedLM(config);
  try {
    const before = evaluateMlm(model, tok, heldOut, { maxLength: o.maxLength, batchSize: 64, seed: o.seed });
    const { losses } = pretrainMlm(model, tok, texts, {
      steps: o.steps, batchSize: o.batchSize, maxLength: o.maxLength, lr: o.lr, warmupSteps: o.warmupSteps, weightDecay: o.weightDecay, seed: o.seed,
      logEvery: 25, log: (s, l, lr) => o.log?.(`pretrain step ${s}/${o.steps}: MLM loss ${l.toFixed(3)}, lr ${lr.toExponential(2)}, ${seconds(t0)} s`),
    });
    const after = evaluateMlm(model, tok, heldOut, { maxLength: o.maxLength, batchSize: 64, seed: o.seed });
    const report = {
      kind: 'bert-pretrain', settings: { ...o, log: undefined }, texts: texts.length, parameters: model.numParameters(),
      lossEvery25Steps: losses, heldOut: { sentences: heldOut.length, before, after }, seconds: seconds(t0),
    };
    saveBertFolder(o.out, model, report);
    return report;
  } finally { model.dispose(); }
}

export interface FinetuneRunOptions {
  out: string; task: TextTaskName; taskOptions: TaskOptions; init?: string; layers?: number; hidden?: number; pooling?: 'cls' | 'mean';
  epochs: number; batchSize: number; lr: number; warmupRatio: number; weightDecay: number; maxLength: number; seed: number;
  vocab?: string; log?: (line: string) => void;
}

/** The classifier for a task: from a run/Hub folder (a new head if its labels differ), or a fresh compact BERT. */
export function classifierFor(init: string | undefined, labels: string[], o: { layers?: number; hidden?: number; vocabSize: number; pooling?: 'cls' | 'mean' }): BertForSequenceClassification {
  if (!init) return new BertForSequenceClassification(compactBertConfig(o.layers ?? 2, o.hidden ?? 128, { vocabSize: o.vocabSize, labels, pooling: o.pooling ?? 'cls' }));
  const { model } = loadBertFromHub(init, { head: 'classification', labels, pooling: o.pooling });
  return model as BertForSequenceClassification;
}

function formatEval(r: EvalResult): string {
  return `${r.metricName} ${r.metric.toFixed(4)} (accuracy ${r.accuracy.toFixed(4)}, MCC ${r.mcc.toFixed(4)}) on ${r.examples} dev examples`;
}
const strip = (r: EvalResult): Omit<EvalResult, 'predictions'> => { const { predictions: _p, ...rest } = r; return rest; };

export function finetuneRun(o: FinetuneRunOptions): Record<string, unknown> {
  claimRunFolder(o.out);
  const t0 = Date.now();
  manualSeed(o.seed);
  const tok = tokenizerFor(o.vocab);
  const task = loadTextTask(o.task, o.taskOptions);
  const prepared: PreparedTask = prepareTask(task, tok, o.maxLength);
  const model = classifierFor(o.init, task.labels, { layers: o.layers, hidden: o.hidden, vocabSize: tok.vocab.size, pooling: o.pooling });
  try {
    const epochs: Record<string, unknown>[] = [];
    finetune(model, prepared, {
      epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, warmupRatio: o.warmupRatio, weightDecay: o.weightDecay, maxLength: o.maxLength, seed: o.seed,
      log: (e, _s, loss) => o.log?.(`epoch ${e}/${o.epochs}: train loss ${loss.toFixed(4)}, ${seconds(t0)} s`),
      afterEpoch: (e) => {
        const r = evaluateClassifier(model, prepared, { batchSize: 64 });
        epochs.push({ epoch: e, ...strip(r), seconds: seconds(t0) });
        o.log?.(`epoch ${e}: ${formatEval(r)}`);
      },
    });
    const final = epochs.at(-1)!;
    const report = {
      kind: 'bert-finetune', task: o.task, settings: { ...o, log: undefined }, train: prepared.train.length, dev: prepared.dev.length,
      labels: task.labels, metric: task.metric, epochs, final, seconds: seconds(t0),
    };
    saveBertFolder(o.out, model, report);
    return report;
  } finally { model.dispose(); }
}

/** Evaluates a fine-tuned run folder on its task (or another). */
export function evalRun(dir: string, task: TextTaskName, taskOptions: TaskOptions, o: { maxLength: number; vocab?: string }): EvalResult {
  const tok = tokenizerFor(o.vocab);
  const t = loadTextTask(task, taskOptions);
  const { model } = loadBertFromHub(dir, { head: 'classification' });
  try {
    if ((model as BertForSequenceClassification).numLabels !== t.labels.length) {
      throw new CatkitError('bad_option', `${dir} classifies ${(model as BertForSequenceClassification).numLabels} labels, task ${task} has ${t.labels.length}`);
    }
    return evaluateClassifier(model as BertForSequenceClassification, prepareTask(t, tok, o.maxLength), { batchSize: 64 });
  } finally { model.dispose(); }
}
