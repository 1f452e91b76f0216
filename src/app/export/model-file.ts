// Exporting a run to a file, and evaluating a .catk model file with the native engine: the model is
// rebuilt from the file's registry name and spec, its sites get the file's quantizer settings, and
// its weights are the file's dequantized values (no second quantization), so evaluation sees the
// exact numbers the run evaluated with.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dispose, tensor, type Tensor } from '../../tensor/index.js';
import { CatkitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { buildSession, disposeSession } from '../../train/session.js';
import { TRAIN_DEFAULTS, type RunConfig } from '../../train/config.js';
import { measure } from '../run.js';
import type { Progress } from '../../train/progress.js';
import type { RunReport } from '../../report/index.js';
import { writeCatk, type CatkModel } from '../../export/catk.js';
import { loadModelFile } from '../../export/catk-file.js';

export { loadModelFile, MAX_MODEL_FILE_BYTES } from '../../export/catk-file.js';
import { exportContent, evaluationConfig, openRun } from './run-model.js';
import { attachFileSites } from './sites.js';

/** Largest model file read into memory. */

export interface ExportOptions {
  format: 'catk' | 'onnx';
  out: string;
  /** Re-quantize weights with one grid per output channel (the run used one per tensor). */
  perChannel?: boolean;
  /** Replace an existing --out file. */
  force?: boolean;
  data?: string;
}

export interface ExportSummary { out: string; bytes: number; format: 'catk' | 'onnx'; nodes: number; sites: number; tensors: number }

/** Refuses to write over the run's own files or, without force, over an existing file. */
function checkOutput(run: string, out: string, force: boolean): void {
  const runDir = path.resolve(run.endsWith('.json') ? path.dirname(run) : run);
  const target = path.resolve(out);
  if (target === runDir || (path.dirname(target) === runDir && /^(checkpoint.*|report\.json|eval-report\.json)$/.test(path.basename(target)))) {
    throw new CatkitError('output_is_input', `--out ${out} would overwrite the run it exports from; choose another file`);
  }
  if (existsSync(target) && !force) throw new CatkitError('output_exists', `--out ${out} already exists; pass --force to replace it`);
}

/** `catkit export`: writes the run as a .catk model file or an ONNX model with Q/DQ nodes. */
export async function exportRun(run: string, o: ExportOptions): Promise<ExportSummary> {
  checkOutput(run, o.out, o.force ?? false);
  const { session, dir } = openRun(run, { data: o.data });
  try {
    const content = await exportContent(session, dir, { perChannel: o.perChannel });
    let bytes: Uint8Array;
    if (o.format === 'onnx') {
      const { writeOnnx } = await import('../../export/onnx.js');
      bytes = writeOnnx(content.graph, content.tensors, { producer: 'catkit', docString: `${content.meta.model} on ${content.meta.dataset}` });
    } else {
      bytes = writeCatk(content.graph, content.tensors, content.meta);
    }
    writeFileAtomic(o.out, bytes);
    return { out: o.out, bytes: bytes.length, format: o.format, nodes: content.graph.nodes.length, sites: content.graph.sites.length, tensors: content.tensors.length };
  } finally { await disposeSession(session); }
}

/** The run config a model file recorded (the dataset and loader settings evaluation needs). */
function fileConfig(m: CatkModel, file: string): RunConfig {
  const c = m.meta.config as Partial<RunConfig> | undefined;
  if (!c || typeof c !== 'object' || typeof c.model !== 'string' || typeof c.dataset !== 'string') {
    throw new CatkitError('catk_header', `${file}: meta.config (the run's settings) is missing; evaluation needs the dataset it names`);
  }
  if (c.model !== m.meta.model) throw new CatkitError('catk_header', `${file}: meta.config names model '${c.model}', meta.model '${m.meta.model}'`);
  return { ...TRAIN_DEFAULTS, ...c } as RunConfig;
}

export interface ModelFileEvalOptions { codedBatches?: number; data?: string; progress?: Progress }

/** `catkit eval --model-file`: accuracy and bits of the model a .catk file holds, on its run's test split. */
export async function evaluateModelFile(file: string, o: ModelFileEvalOptions = {}): Promise<RunReport> {
  const m = loadModelFile(file);
  const saved = fileConfig(m, file);
  // A float model of the same structure; the file's sites and weights go in below.
  const session = buildSession({ ...evaluationConfig(saved, o.data), task: 'train' });
  const weights = new Map<string, Tensor>();
  try {
    if (session.numClasses !== m.meta.spec.numClasses) throw new CatkitError('catk_mismatch', `${file}: the model has ${m.meta.spec.numClasses} classes, dataset ${saved.dataset} has ${session.numClasses}`);
    session.cat = attachFileSites(session.model, m.graph.sites);
    for (const [k, t] of m.tensors) weights.set(k, tensor(t.values, t.entry.shape));
    session.model.loadStateDict(weights, { source: file, allowMissing: (k) => k.endsWith('.num_batches_tracked') || k.endsWith('.clip') });
    session.config = { ...session.config, task: saved.task, actBits: saved.actBits, weightBits: saved.weightBits, quantizeLinear: saved.quantizeLinear, lambda: saved.lambda };
    return await measure(session, 'eval', [], 0, o.codedBatches);
  } finally {
    dispose([...weights.values()]);
    await disposeSession(session);
  }
}
