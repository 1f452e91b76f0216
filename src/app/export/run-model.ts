// A saved run as the exporter sees it: its session (data sources for the input shape and the
// normalisation, the model with its trained weights and CAT sites), and the export description —
// graph, tensors (quantized where the run quantized them) and metadata.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dispose, noGrad, tidy } from '../../tensor/index.js';
import type { Module } from '../../nn/index.js';
import { isImageFolderDataset } from '../../data/index.js';
import { fakeQuantizeDynamic, toCodeArray } from '../../method/index.js';
import { buildSession, disposeSession, type Session } from '../../train/session.js';
import { IN_MEMORY_OPTIONS_OFF, type RunConfig } from '../../train/config.js';
import { loadCheckpoint, CheckpointError } from '../../train/checkpoint.js';
import { nodeTensors, type Graph } from '../../export/graph.js';
import { quantize } from '../../export/weights.js';
import type { CatkMeta, TensorInput } from '../../export/catk.js';
import { traceGraph } from './trace.js';
import { isQuantizedWeight, weightQuantization } from './sites.js';

/** A run's config as evaluation uses it (training-only settings off, data where the run recorded it). */
export function evaluationConfig(saved: RunConfig, data?: string): RunConfig {
  const config: RunConfig = { ...saved, init: undefined, data: data ?? saved.data };
  if (isImageFolderDataset(config.dataset)) Object.assign(config, IN_MEMORY_OPTIONS_OFF);
  return config;
}

/** Builds the run's session and loads its checkpoint into the model. The caller disposes the session. */
export function openRun(run: string, o: { data?: string } = {}): { session: Session; dir: string } {
  const ck = loadCheckpoint(run);
  try {
    const session = buildSession(evaluationConfig(ck.meta.config, o.data));
    try {
      session.model.loadStateDict(ck.model, { source: run });
    } catch (e) {
      void disposeSession(session);
      throw new CheckpointError(`checkpoint ${run} does not fit model '${ck.meta.config.model}': ${(e as Error).message}`);
    }
    return { session, dir: ck.dir };
  } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }
}

/** [C, H, W] of the inputs the session's test source feeds the model. */
export async function inputShape(s: Session): Promise<[number, number, number]> {
  for await (const b of s.test.batches(0)) {
    const shape = b.x.shape;
    dispose(b);
    return [shape[1]!, shape[2]!, shape[3]!];
  }
  throw new CheckpointError('the run\'s test split is empty; cannot tell the input shape');
}

/** Test accuracy the run reported (report.json), if present. */
function reportedAccuracy(dir: string): CatkMeta['accuracy'] {
  const file = path.join(dir, 'report.json');
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { accuracy?: unknown; testSamples?: unknown };
    return typeof r.accuracy === 'number' && typeof r.testSamples === 'number' ? { top1: r.accuracy, n: r.testSamples } : null;
  } catch { return null; }
}

export interface ExportContent { graph: Graph; tensors: TensorInput[]; meta: CatkMeta }

/**
 * The graph, tensors and metadata of a session's model. Weights the run quantized are stored as the
 * codes the run evaluated with (per tensor, computed by the method's own quantizer), or re-quantized
 * per output channel when asked; every other tensor is float32.
 */
export async function exportContent(s: Session, dir: string, o: { perChannel?: boolean } = {}): Promise<ExportContent> {
  const wq = weightQuantization(s.config);
  const { graph, tensors } = modelContent(s.model, await inputShape(s), wq, o);
  const c = s.config;
  const norm = (s.train as { normalization?: { mean: number[]; std: number[] } }).normalization;
  const meta: CatkMeta = {
    model: c.model, spec: { inChannels: graph.input.shape[0], numClasses: s.numClasses, widthMultiplier: c.widthMultiplier },
    dataset: c.dataset, classNames: s.classNames, normalization: norm ? { mean: [...norm.mean], std: [...norm.std] } : { mean: [0], std: [1] },
    preprocess: { padTo: c.padTo, resize: c.resize ?? 0 }, accuracy: reportedAccuracy(dir),
    actBits: c.task === 'cat' ? c.actBits ?? null : null, weightBits: wq?.bits ?? null,
    weightGrid: o.perChannel ? 'per-channel' : 'per-tensor', lambda: c.lambda, config: c as unknown as Record<string, unknown>,
    createdBy: 'catkit 0.1.0',
  };
  return { graph, tensors, meta };
}

/**
 * The graph and tensors of a model (sites as attached, weights quantized as `wq` says: the method's
 * per-tensor codes, or per output channel when asked).
 */
export function modelContent(model: Module, shape: [number, number, number], wq: { bits: number; includeLinear: boolean } | null,
  o: { perChannel?: boolean } = {}): { graph: Graph; tensors: TensorInput[] } {
  const graph = traceGraph(model, shape);
  const layers = new Map(model.namedModules());
  const tensors: TensorInput[] = [];
  for (const n of graph.nodes) {
    for (const { role, key } of nodeTensors(n)) {
      const t = tensorOf(model, key);
      const shape = [...t.shape];
      const values = noGrad(() => tidy(() => t.to('float32').contiguous().dataSync() as Float32Array)).slice();
      if (role === 'weight' && wq && isQuantizedWeight(layers.get(n.name)!, wq)) {
        tensors.push({ name: key, shape, quantized: o.perChannel ? quantize(values, shape, wq.bits, 0) : runWeightCodes(model, key, values, wq.bits) });
      } else {
        tensors.push({ name: key, shape, values });
      }
    }
  }
  return { graph, tensors };
}

function tensorOf(model: Module, key: string) {
  const sd = new Map([...model.namedParameters(), ...model.namedBuffers()]);
  const t = sd.get(key);
  if (!t) throw new CheckpointError(`model has no tensor '${key}'`);
  return t;
}

/**
 * The run's per-tensor weight codes, from the method's own weight quantizer, with the grid (min,
 * inv, step) in the same float32 arithmetic, so the file dequantizes to exactly the weights the run
 * evaluated with (test/export/export-run.test.ts checks this bit for bit).
 */
function runWeightCodes(model: Module, key: string, values: Float32Array, bits: number) {
  const grid = quantize(values, [values.length], bits, null);
  const codes = noGrad(() => tidy(() => toCodeArray(fakeQuantizeDynamic(tensorOf(model, key), bits, { codes: true }).codes!, bits)));
  return { ...grid, codes };
}
