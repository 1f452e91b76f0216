// BERT run folders: each holds a Hugging Face-format model (config.json + model.safetensors, so
// `catkit import --from hf` and transformers read it) and report.json (settings, per-epoch
// numbers, the final metric and wall-clock seconds). A folder that already holds a report is never
// overwritten without --force. A run takes the folder's lock (src/io/run-lock.ts) and checkpoints as it
// goes (text-checkpoint.*: every N steps of pre-training, every epoch of fine-tuning and CAT);
// `--resume` continues an interrupted run from its last checkpoint to the same result, bit for bit.
// The checkpoint is deleted once the finished folder is written. Flows: pretrain (MLM on offline
// text) → finetune (a text task) → cat (see text-cat-run.ts).
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { manualSeed, tidy } from '../tensor/index.js';
import { saveSafetensors } from '../nn/index.js';
import { CatkitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { readFileBounded } from '../io/safe-files.js';
import { acquireRunLock, type RunLock } from '../io/run-lock.js';
import { refuseOutputIsInput } from '../io/same-path.js';
import type { Json } from '../optim/index.js';
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
import {
  TEXT_RUN_FILES, TEXT_CHECKPOINT_JSON, hasTextCheckpoint, loadTextCheckpoint, readTextCheckpointMeta, saveTextCheckpoint,
  type LoopState, type TextCheckpointMeta, type TextRunKind,
} from '../train/text/checkpoint.js';

export const REPORT_JSON = 'report.json';

/** How a run treats a folder that already holds one. */
export interface RunFolderOptions { force?: boolean; resume?: boolean }

/** Options as saved and compared on resume: JSON values with sorted keys, without the run-control ones. */
export function runSettings(o: object): { [k: string]: Json } {
  const sortKeys = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v);
  const { log: _l, force: _f, resume: _r, stopAfter: _s, ...rest } = o as Record<string, unknown>;
  return JSON.parse(JSON.stringify(sortKeys(rest))) as { [k: string]: Json };
}

/**
 * Takes `out`'s run lock and decides what the run does there, under the lock (so two runs started
 * at once cannot both pass): a new run in an empty folder; a finished (report.json) or interrupted
 * (text-checkpoint.json) run is replaced only with --force; --resume continues an interrupted run
 * of the same kind and settings. The caller releases the lock.
 */
export function openTextRun(out: string, kind: TextRunKind, settings: { [k: string]: Json }, o: RunFolderOptions & { init?: string }): { lock: RunLock; resume: TextCheckpointMeta | null } {
  refuseOutputIsInput([['--out', out]], [['--init', o.init]]);
  const lock = acquireRunLock(out, { force: o.force });
  try {
    const finished = existsSync(path.join(out, REPORT_JSON));
    const interrupted = hasTextCheckpoint(out);
    if (o.resume) {
      if (finished) throw new CatkitError('run_complete', `${out} holds a finished run (report.json): there is nothing to resume`, { hint: 'choose another --out, or pass --force (without --resume) to replace it' });
      if (!interrupted) throw new CatkitError('no_checkpoint', `--resume: no ${TEXT_CHECKPOINT_JSON} in ${out}`);
      const meta = readTextCheckpointMeta(out);
      if (meta.kind !== kind) throw new CatkitError('bad_option', `--resume: ${out} holds an interrupted ${meta.kind} run, not a ${kind} run`);
      const keys = [...new Set([...Object.keys(meta.settings), ...Object.keys(settings)])];
      const differ = keys.filter((k) => JSON.stringify(meta.settings[k]) !== JSON.stringify(settings[k]));
      if (differ.length) {
        throw new CatkitError('bad_option', `--resume: ${out} was started with other settings (${differ.map((k) => `${k}: ${JSON.stringify(meta.settings[k])} there, ${JSON.stringify(settings[k])} now`).join('; ')})`,
          { hint: 'rerun the command that started it, with --resume' });
      }
      return { lock, resume: meta };
    }
    if (finished || interrupted) {
      if (!o.force) {
        throw new CatkitError('run_exists', `${out} already holds a run${finished ? '' : ` (interrupted after ${readTextCheckpointMeta(out).done} ${kind === 'bert-pretrain' ? 'steps' : 'epochs'})`}`,
          { hint: 'pass --resume to continue an interrupted run, --force to replace it, or choose another --out' });
      }
      for (const f of readdirSync(out)) if (TEXT_RUN_FILES.test(f)) rmSync(path.join(out, f), { force: true });
    }
    return { lock, resume: null };
  } catch (e) { lock.release(); throw e; }
}

/** Loads the checkpoint's weights into `model`; returns the loop state to continue from. */
export function restoreFromCheckpoint(out: string, model: AnyBert): { meta: TextCheckpointMeta; state: LoopState; dispose: () => void } {
  const ck = loadTextCheckpoint(out);
  model.loadStateDict(ck.model);
  for (const t of ck.model.values()) t.dispose();
  return { meta: ck.meta, state: ck.state, dispose: () => { for (const t of ck.state.optimizer.tensors.values()) t.dispose(); } };
}

/** Writes the finished run folder, then drops the checkpoint it no longer needs. */
export function finishTextRun(out: string, model: AnyBert, report: Record<string, unknown>): void {
  saveBertFolder(out, model, report);
  for (const f of ['text-checkpoint.safetensors', TEXT_CHECKPOINT_JSON]) rmSync(path.join(out, f), { force: true });
}

export { saveTextCheckpoint };

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

/** Wall-clock seconds of a run across its sessions (a resumed run adds to the saved total). */
function clock(prior = 0): () => number {
  const t0 = Date.now();
  return () => Math.round(prior * 10 + (Date.now() - t0) / 100) / 10;
}

export interface PretrainRunOptions extends RunFolderOptions {
  out: string; layers: number; hidden: number; heads?: number; steps: number; batchSize: number; maxLength: number;
  lr: number; warmupSteps: number; weightDecay: number; seed: number; checkpointEvery: number; vocab?: string;
  /** A UTF-8 file, one text per line, instead of the offline corpus (every 10th line is held out). */
  textFile?: string;
  log?: (line: string) => void;
  /** Stop after this many steps without finishing the folder (an interruption, for tests). */
  stopAfter?: number;
}

const MAX_TEXT_FILE_BYTES = 1 << 30;

/** Training and held-out texts: Brown (minus brown_cola's dev files) + fine_foods training reviews, or a user's file. */
function pretrainingTexts(textFile?: string): { texts: string[]; heldOut: string[] } {
  if (textFile) {
    const lines = readFileBounded(textFile, { maxBytes: MAX_TEXT_FILE_BYTES, what: `--text-file ${textFile}` }).toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (lines.length < 2) throw new CatkitError('bad_data', `--text-file ${textFile}: needs at least 2 non-empty lines (one text per line)`, { file: textFile });
    return { texts: lines.filter((_, i) => i % 10 !== 0), heldOut: lines.filter((_, i) => i % 10 === 0).slice(0, 500) };
  }
  const brown = loadBrown();
  return {
    texts: [...brownPretrainingText(brown), ...loadFineFoods('train').examples.map((e) => e.a)],
    heldOut: brown.filter((s) => Number(s.file.slice(2)) % 10 === 0).slice(0, 500).map((s) => s.words.join(' ')),
  };
}

/** MLM pre-training of a compact BERT; checkpoints every `checkpointEvery` steps. Returns the report (null if stopped early). */
export function pretrainRun(o: PretrainRunOptions): Record<string, unknown> | null {
  const settings = runSettings(o);
  const { lock, resume } = openTextRun(o.out, 'bert-pretrain', settings, o);
  try {
    const elapsed = clock(resume ? Number(resume.extra.seconds) : 0);
    manualSeed(o.seed);
    const tok = tokenizerFor(o.vocab);
    const { texts, heldOut } = pretrainingTexts(o.textFile);
    const config: BertConfig = compactBertConfig(o.layers, o.hidden, {
      vocabSize: tok.vocab.size, maxPositionEmbeddings: Math.max(128, o.maxLength), ...(o.heads ? { numAttentionHeads: o.heads } : {}),
    });
    const model = new BertForMaskedLM(config);
    try {
      const restored = resume ? restoreFromCheckpoint(o.out, model) : null;
      const before = restored ? restored.meta.extra.before as { loss: number; accuracy: number } : evaluateMlm(model, tok, heldOut, { maxLength: o.maxLength, batchSize: 64, seed: o.seed });
      if (restored) o.log?.(`resuming ${o.out} after step ${restored.state.done}/${o.steps}`);
      let done: number;
      let losses: number[];
      try {
        ({ losses, done } = pretrainMlm(model, tok, texts, {
          steps: o.steps, batchSize: o.batchSize, maxLength: o.maxLength, lr: o.lr, warmupSteps: o.warmupSteps, weightDecay: o.weightDecay, seed: o.seed,
          logEvery: 25, log: (s, l, lr) => o.log?.(`pretrain step ${s}/${o.steps}: MLM loss ${l.toFixed(3)}, lr ${lr.toExponential(2)}, ${elapsed()} s`),
          start: restored?.state, losses: restored ? restored.meta.history as number[] : [], stopAfter: o.stopAfter,
          checkpointEvery: o.checkpointEvery,
          checkpoint: (state, ls) => saveTextCheckpoint(o.out, { kind: 'bert-pretrain', settings, history: ls, extra: { before, seconds: elapsed() } }, model.stateDict(), state),
        }));
      } finally { restored?.dispose(); }
      if (done < o.steps) return null;
      const after = evaluateMlm(model, tok, heldOut, { maxLength: o.maxLength, batchSize: 64, seed: o.seed });
      const report = {
        kind: 'bert-pretrain', settings, texts: texts.length, parameters: model.numParameters(),
        lossEvery25Steps: losses, heldOut: { sentences: heldOut.length, before, after }, seconds: elapsed(),
      };
      finishTextRun(o.out, model, report);
      return report;
    } finally { model.dispose(); }
  } finally { lock.release(); }
}

export interface FinetuneRunOptions extends RunFolderOptions {
  out: string; task: TextTaskName; taskOptions: TaskOptions; init?: string; layers?: number; hidden?: number; pooling?: 'cls' | 'mean';
  epochs: number; batchSize: number; lr: number; warmupRatio: number; weightDecay: number; maxLength: number; seed: number;
  vocab?: string; log?: (line: string) => void;
  /** Stop after this many epochs without finishing the folder (an interruption, for tests). */
  stopAfter?: number;
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

/** Fine-tunes a classifier on a task; checkpoints every epoch. Returns the report (null if stopped early). */
export function finetuneRun(o: FinetuneRunOptions): Record<string, unknown> | null {
  const settings = runSettings(o);
  const { lock, resume } = openTextRun(o.out, 'bert-finetune', settings, o);
  try {
    const elapsed = clock(resume ? Number(resume.extra.seconds) : 0);
    manualSeed(o.seed);
    const tok = tokenizerFor(o.vocab);
    const task = loadTextTask(o.task, o.taskOptions);
    const prepared: PreparedTask = prepareTask(task, tok, o.maxLength);
    const model = classifierFor(o.init, task.labels, { layers: o.layers, hidden: o.hidden, vocabSize: tok.vocab.size, pooling: o.pooling });
    try {
      const restored = resume ? restoreFromCheckpoint(o.out, model) : null;
      if (restored) o.log?.(`resuming ${o.out} after epoch ${restored.state.done}/${o.epochs}`);
      const epochs = (restored?.meta.history ?? []) as Record<string, Json>[];
      let stepTime = { ms: 0, steps: 0 };
      try {
        finetune(model, prepared, {
          epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, warmupRatio: o.warmupRatio, weightDecay: o.weightDecay, maxLength: o.maxLength, seed: o.seed,
          start: restored?.state, stopAfter: o.stopAfter,
          log: (e, _s, loss) => o.log?.(`epoch ${e}/${o.epochs}: train loss ${loss.toFixed(4)}, ${elapsed()} s`),
          onStepTime: (ms) => { stepTime.ms += ms; stepTime.steps++; },
          afterEpoch: (e) => {
            const r = evaluateClassifier(model, prepared, { batchSize: 64 });
            epochs.push({ epoch: e, ...strip(r), msPerStep: stepTime.ms / Math.max(1, stepTime.steps), seconds: elapsed() } as Record<string, Json>);
            stepTime = { ms: 0, steps: 0 };
            o.log?.(`epoch ${e}: ${formatEval(r)}`);
          },
          checkpoint: (state) => saveTextCheckpoint(o.out, { kind: 'bert-finetune', settings, history: epochs, extra: { seconds: elapsed() } }, model.stateDict(), state),
        });
      } finally { restored?.dispose(); }
      if (epochs.length < o.epochs) return null;
      const final = epochs.at(-1)!;
      const report = {
        kind: 'bert-finetune', task: o.task, settings, train: prepared.train.length, dev: prepared.dev.length,
        labels: task.labels, metric: task.metric, epochs, final, seconds: elapsed(),
      };
      finishTextRun(o.out, model, report);
      return report;
    } finally { model.dispose(); }
  } finally { lock.release(); }
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
