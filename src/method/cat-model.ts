// Turning a float model into a CAT model and reading the CAT terms back out of it.
import { Tensor, noGrad, tidy } from '../tensor/index.js';
import { ReLU, ReLU6, type AnyModule, type Module } from '../nn/index.js';
import { ActQuant, type ActQuantOptions, type CodeSink } from './act-quant.js';

export interface AttachOptions extends Omit<ActQuantOptions, 'kind'> {
  /** Leave the last activation site unquantized and uncounted (reference --noQuantEdges). */
  noQuantEdges?: boolean;
}

/**
 * Replaces every ReLU / ReLU6 site of `model` (in module order, input to output) with an
 * ActQuant of the same kind. Returns the quantizers in that order.
 */
export function attachActQuant(model: AnyModule, o: AttachOptions): ActQuant[] {
  const sites = model.namedModules().filter(([, m]) => m instanceof ReLU || m instanceof ReLU6);
  if (sites.length === 0) throw new Error('attachActQuant: the model has no ReLU/ReLU6 modules to quantize');
  const quantizers = sites.map(([path, m]) => {
    const q = new ActQuant({ ...o, kind: m instanceof ReLU6 ? 'relu6' : 'relu' });
    q.site = path;
    q.train(m.training);
    model.setSubmodule(path, q);
    return q;
  });
  if (o.noQuantEdges) quantizers[quantizers.length - 1]!.passThrough = true;
  return quantizers;
}

/** The model's activation quantizers, input to output. */
export function actQuantizers(model: AnyModule): ActQuant[] {
  return model.namedModules().flatMap(([path, m]) => {
    if (!(m instanceof ActQuant)) return [];
    if (!m.site) m.site = path;
    return [m];
  });
}

/**
 * λ_a term: Σ n_l·H_l / Σ n_l over sites that produced a regularizer in the last training forward
 * (n_l = full tensor numel, H_l from the sample). Also returns the per-site values for logging.
 */
export function activationRegularizer(quantizers: readonly ActQuant[]): { term: Tensor | null; perSite: { site: string; value: number; numel: number }[] } {
  const active = quantizers.filter((q) => q.lastRegularizer !== null);
  if (active.length === 0) return { term: null, perSite: [] };
  let numel = 0;
  let total: Tensor | null = null;
  for (const q of active) {
    const h = q.lastRegularizer!.mul(q.lastNumel);
    total = total ? total.add(h) : h;
    numel += q.lastNumel;
  }
  const perSite = active.map((q) => ({ site: q.site, value: q.lastRegularizer!.item(), numel: q.lastNumel }));
  return { term: total!.div(numel), perSite };
}

export type ClipInit = 'mean+3std' | 'aciq-laplace' | 'aciq-gauss';
/** ACIQ α tables (reference main.py, commented out there): c = mean + α_b · b. */
export const ACIQ_LAPLACE: Record<number, number> = { 1: 2.83, 2: 3.89, 3: 5.05, 4: 6.2, 5: 7.41, 6: 8.64, 7: 9.89, 8: 11.16 };
export const ACIQ_GAUSS: Record<number, number> = { 1: 1.71, 2: 2.15, 3: 2.55, 4: 2.93, 5: 3.28, 6: 3.61, 7: 3.92, 8: 4.2 };

/** The clip value a calibration rule gives for one site's statistics. */
export function clipFromStats(q: ActQuant, rule: ClipInit): number {
  const s = q.correctedStats();
  if (rule === 'mean+3std') return s.mean + 3 * s.std;
  const table = rule === 'aciq-laplace' ? ACIQ_LAPLACE : ACIQ_GAUSS;
  const alpha = table[Math.min(8, q.bits)]!;
  // Laplace scale b is the mean absolute deviation; the Gaussian table is in units of σ.
  return s.mean + alpha * (rule === 'aciq-laplace' ? s.meanAbsDev : s.std);
}

/**
 * Calibration pass: runs `batches` through the model in eval mode without quantizing, collecting
 * each site's running statistics (momentum 0.9), then sets every learned clip by `rule`.
 */
export function calibrateClips(model: Module, quantizers: readonly ActQuant[], batches: Iterable<Tensor>, rule: ClipInit = 'mean+3std'): { site: string; clip: number }[] {
  const end = beginCalibration(model, quantizers);
  try {
    noGrad(() => { for (const x of batches) tidy(() => { model.forward(x); }); });
  } finally { end(); }
  return setClipsFromStats(quantizers, rule);
}

/**
 * calibrateClips over a stream of inputs (e.g. batches decoded by worker threads), forwarding
 * each as it arrives so only one is held at a time. The producer owns (and disposes) the inputs.
 */
export async function calibrateClipsAsync(model: Module, quantizers: readonly ActQuant[], batches: Iterable<Tensor> | AsyncIterable<Tensor>,
  rule: ClipInit = 'mean+3std'): Promise<{ site: string; clip: number }[]> {
  const end = beginCalibration(model, quantizers);
  try {
    for await (const x of batches) noGrad(() => tidy(() => { model.forward(x); }));
  } finally { end(); }
  return setClipsFromStats(quantizers, rule);
}

/** Eval mode, statistics reset, quantizers collecting; returns the undo. */
function beginCalibration(model: Module, quantizers: readonly ActQuant[]): () => void {
  const wasTraining = model.training;
  model.eval();
  for (const q of quantizers) { q.resetStats(); q.calibrating = true; }
  return () => {
    for (const q of quantizers) q.calibrating = false;
    model.train(wasTraining);
  };
}

function setClipsFromStats(quantizers: readonly ActQuant[], rule: ClipInit): { site: string; clip: number }[] {
  return quantizers.filter((q) => q.clip && !q.passThrough).map((q) => {
    const clip = clipFromStats(q, rule);
    if (clip > 0) q.setClip(clip);
    return { site: q.site, clip };
  });
}

/** Gradual quantization: sites 0..stage quantize in training, the rest pass through unquantized. */
export function setGradualStage(quantizers: readonly ActQuant[], stage: number): void {
  quantizers.forEach((q, i) => { q.quantizeInTraining = i <= stage; });
}

/** Routes every quantizer's integer codes to `sink` (null to stop). */
export function setCodeSink(quantizers: readonly ActQuant[], sink: CodeSink | null): void {
  for (const q of quantizers) q.codeSink = sink;
}
