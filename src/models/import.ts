// Importing PyTorch weights: a state dict saved as safetensors with torchvision's names
// (`layer1.0.conv1.weight`, `features.3.conv.1.0.weight`, …) loads into the catkit model of the
// same architecture by name. Loading is strict (every problem in one StateDictError) with two
// allowances for real exports: BN `num_batches_tracked` counters may be absent (some exporters drop
// them; they only matter for momentum=None BN), and float16/float64 tensors are widened/narrowed
// to the model's float32. A `module.` prefix on every key (nn.DataParallel) is stripped.
import { dispose, isFloating, type Tensor } from '../tensor/index.js';
import { loadSafetensors, type AnyModule, type Module } from '../nn/index.js';
import { buildModel, modelIO, type ModelSpec } from './registry.js';
import { CatkitError } from '../errors.js';

export interface ImportResult {
  /** The file read. */
  source: string;
  /** Tensors in the file. */
  tensors: number;
  /** Tensors copied into the model (parameters + buffers). */
  loaded: number;
  /** Parameter tensors loaded and their total element count. */
  parameterTensors: number;
  parameters: number;
  /** Buffers loaded (BN running statistics and counters). */
  buffers: number;
  /** Model keys the file lacks but that may be absent (BN num_batches_tracked, a replaced head); they keep their initial value. */
  missing: string[];
  /** Keys whose dtype was converted to the model's (e.g. 'fc.weight: float16 → float32'). */
  converted: string[];
  /** Prefix removed from every key ('module.' for DataParallel exports), or null. */
  strippedPrefix: string | null;
  /** Format-specific adaptations worth a line each (dequantized weights, a replaced head, …). */
  notes: string[];
}

export interface LoadTorchOptions {
  strippedPrefix?: string | null;
  /** Model keys the weights may lack besides BN counters (e.g. a classifier that is being replaced). */
  allowMissing?: (key: string) => boolean;
  notes?: string[];
}

/** A mistake in what was asked for (class count that contradicts the weights): a one-line CLI error. */
export class ImportError extends CatkitError {
  override name = 'ImportError';
  constructor(message: string) { super('import_mismatch', message); }
}

const MAY_BE_MISSING = (key: string): boolean => key.endsWith('.num_batches_tracked');

/** Reads a safetensors state dict, stripping a DataParallel `module.` prefix. The caller disposes the tensors. */
export function readTorchStateDict(file: string): { tensors: Map<string, Tensor>; strippedPrefix: string | null } {
  const { tensors } = loadSafetensors(file);
  const keys = [...tensors.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith('module.'))) return { tensors, strippedPrefix: null };
  return { tensors: new Map([...tensors].map(([k, v]) => [k.slice('module.'.length), v])), strippedPrefix: 'module.' };
}

/**
 * Copies a torchvision-named state dict into `model` in place. Throws the model's StateDictError
 * (naming the file and listing missing, unexpected and mismatched keys) if it does not fit.
 * The caller keeps ownership of `sd`.
 */
export function loadTorchStateDict(model: AnyModule, sd: ReadonlyMap<string, Tensor>, source: string, o: LoadTorchOptions = {}): ImportResult {
  const targets = model.stateDict();
  const converted: string[] = [];
  const cast = new Map<string, Tensor>();
  try {
    // Only floating tensors change dtype; integer counters and shape problems are left for the check to report.
    for (const [key, src] of sd) {
      const target = targets.get(key);
      if (target && src.dtype !== target.dtype && isFloating(src.dtype) && isFloating(target.dtype)) {
        cast.set(key, src.to(target.dtype));
        converted.push(`${key}: ${src.dtype} → ${target.dtype}`);
      }
    }
    const input = cast.size ? new Map([...sd].map(([k, v]) => [k, cast.get(k) ?? v])) : sd;
    model.loadStateDict(input, { allowMissing: (k) => MAY_BE_MISSING(k) || (o.allowMissing?.(k) ?? false), source });
    const missing = [...targets.keys()].filter((k) => !sd.has(k)); // only allowed ones get here: the load is strict
    const params = model.namedParameters().filter(([k]) => sd.has(k));
    const loaded = [...targets.keys()].filter((k) => sd.has(k)).length;
    return {
      source, tensors: sd.size, loaded,
      parameterTensors: params.length, parameters: params.reduce((n, [, t]) => n + t.size, 0),
      buffers: loaded - params.length, missing, converted, strippedPrefix: o.strippedPrefix ?? null, notes: o.notes ?? [],
    };
  } finally {
    dispose([...targets.values(), ...cast.values()]);
  }
}

/**
 * The spec of registry model `name` that fits the state dict: input channels from the stem conv's
 * weight, classes from the classifier's. An explicit `numClasses` must agree with the weights
 * (as torchvision's builders refuse num_classes that contradict the weights' categories).
 */
export function specFromStateDict(name: string, sd: ReadonlyMap<string, Tensor>, o: Partial<ModelSpec> = {}): ModelSpec {
  const io = modelIO(name);
  const stem = sd.get(io.stem), head = sd.get(io.head);
  const fromWeights = { inChannels: stem?.rank === 4 ? stem.shape[1] : undefined, numClasses: head?.rank === 2 ? head.shape[0] : undefined };
  for (const [what, flag, key] of [['numClasses', '--num-classes', io.head], ['inChannels', '--in-channels', io.stem]] as const) {
    const asked = o[what], found = fromWeights[what];
    if (asked !== undefined && found !== undefined && asked !== found) {
      throw new ImportError(`${flag} ${asked} contradicts the weights: ${key} has shape [${sd.get(key)!.shape.join(', ')}] (${what} ${found})`);
    }
  }
  // Missing stem/head keys fall back to ImageNet's 3 → 1000; the load then lists those keys as missing.
  return {
    inChannels: o.inChannels ?? fromWeights.inChannels ?? 3,
    numClasses: o.numClasses ?? fromWeights.numClasses ?? 1000,
    widthMultiplier: o.widthMultiplier ?? 1,
  };
}

/** Builds registry model `name` to fit the weights in `file` and loads them; the caller disposes the model. */
export function importTorchModel(name: string, file: string, o: Partial<ModelSpec> = {}): { model: Module; spec: ModelSpec; result: ImportResult } {
  const { tensors, strippedPrefix } = readTorchStateDict(file);
  try {
    const spec = specFromStateDict(name, tensors, o);
    const model = buildModel(name, spec);
    try {
      return { model, spec, result: loadTorchStateDict(model, tensors, file, { strippedPrefix }) };
    } catch (e) {
      model.dispose();
      throw e;
    }
  } finally {
    dispose([...tensors.values()]);
  }
}

/** One line for the CLI: what loaded and what was adapted. */
export function formatImport(r: ImportResult): string {
  const parts = [`loaded ${r.loaded} of ${r.tensors} tensors from ${r.source}: ${r.parameters.toLocaleString('en-US')} parameters in ${r.parameterTensors} tensors, ${r.buffers} buffers`];
  const counters = r.missing.filter(MAY_BE_MISSING).length;
  if (counters) parts.push(`${counters} BN num_batches_tracked absent (left at 0)`);
  if (r.converted.length) parts.push(`${r.converted.length} tensors converted (${r.converted[0]}${r.converted.length > 1 ? ', …' : ''})`);
  if (r.strippedPrefix) parts.push(`'${r.strippedPrefix}' prefix stripped`);
  return [parts.join('; '), ...r.notes.map((n) => `  ${n}`)].join('\n');
}
