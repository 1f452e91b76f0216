// Reading TensorFlow.js layers-model artifacts without TensorFlow.js: `model.json` (Keras
// topology + weights manifest) and its binary shards, including the uint8/uint16 affine and
// float16 quantized weights the tfjs converter writes. Also reads the bundled form nsfwjs ships
// (`model.min.js` + `group1-shard1of1.min.js`, UMD modules returning the JSON object and the
// base64 shard) by parsing their text: no input file is ever run. Every shard path stays inside the
// model folder and no read goes past the bytes the manifest declares. Engine-free: weights come out
// as Float32Array/Int32Array.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CatkitError } from '../errors.js';
import { bundleExport } from '../io/js-literal.js';
import { MAX_METADATA_BYTES, readFileBounded, regularFileSize, resolveInside } from '../io/safe-files.js';

export interface TfjsQuantization { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number }
export interface TfjsWeightSpec { name: string; shape: number[]; dtype: 'float32' | 'int32' | 'bool' | string; quantization?: TfjsQuantization }
export interface TfjsManifestGroup { paths: string[]; weights: TfjsWeightSpec[] }

/** A Keras layer as the topology lists it. */
export interface KerasLayer { class_name: string; config: Record<string, unknown> & { name: string }; name?: string; inbound_nodes?: unknown }

export interface TfjsWeight { name: string; shape: number[]; dtype: 'float32' | 'int32'; data: Float32Array | Int32Array; stored: string }

export interface TfjsModel {
  /** What was read (for messages). */
  source: string;
  /** Keras layers in topology order. */
  layers: KerasLayer[];
  weights: Map<string, TfjsWeight>;
  kerasVersion: string | null;
}

/** A malformed or unsupported artifact: names the file and the problem. */
export class TfjsFormatError extends CatkitError {
  override name = 'TfjsFormatError';
  constructor(message: string, o: { code?: string; file?: string } = {}) { super(o.code ?? 'tfjs_format', message, { file: o.file }); }
}

/** Weights of one model above this are refused before reading (tfjs models are far smaller). */
export const MAX_MODEL_BYTES = 4 * 1024 ** 3;

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** IEEE 754 half → float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Decodes the concatenated shard bytes of one manifest group into named tensors, in manifest order.
 * Quantized weights are dequantized as tfjs does: w = q·scale + min (float16: half → float).
 */
export function decodeWeights(specs: readonly TfjsWeightSpec[], bytes: Uint8Array, source: string): TfjsWeight[] {
  const out: TfjsWeight[] = [];
  let offset = 0;
  for (const spec of specs) {
    const where = `${source}: weight '${spec.name}'`;
    if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new TfjsFormatError(`${where} has an invalid shape ${JSON.stringify(spec.shape)}`);
    }
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const stored = q?.dtype ?? spec.dtype;
    const width = BYTES[stored];
    if (width === undefined || (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool')) {
      throw new TfjsFormatError(`${where}: unsupported dtype ${spec.dtype}${q ? ` quantized as ${q.dtype}` : ''}`);
    }
    const size = n * width;
    if (offset + size > bytes.length) {
      throw new TfjsFormatError(`${where} needs bytes ${offset}..${offset + size} but the shards hold ${bytes.length}: truncated or mismatched shard`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
    const float = spec.dtype === 'float32';
    const data = float ? new Float32Array(n) : new Int32Array(n);
    if (q && q.dtype !== 'float16' && !(Number.isFinite(q.scale) && Number.isFinite(q.min))) {
      throw new TfjsFormatError(`${where}: ${q.dtype} quantization needs finite scale and min, got ${JSON.stringify(q)}`);
    }
    for (let i = 0; i < n; i++) {
      let v: number;
      switch (stored) {
        case 'float32': v = view.getFloat32(4 * i, true); break;
        case 'int32': v = view.getInt32(4 * i, true); break;
        case 'bool': v = view.getUint8(i) ? 1 : 0; break;
        case 'uint8': v = view.getUint8(i) * q!.scale! + q!.min!; break;
        case 'uint16': v = view.getUint16(2 * i, true) * q!.scale! + q!.min!; break;
        default: v = halfToFloat(view.getUint16(2 * i, true));
      }
      data[i] = float ? v : Math.round(v);
    }
    out.push({ name: spec.name, shape: [...spec.shape], dtype: float ? 'float32' : 'int32', data, stored });
    offset += size;
  }
  if (offset !== bytes.length) throw new TfjsFormatError(`${source}: the manifest describes ${offset} bytes but the shards hold ${bytes.length}`);
  return out;
}

interface ModelJson { modelTopology?: unknown; weightsManifest?: unknown }

function parseModelJson(json: ModelJson, source: string): { layers: KerasLayer[]; groups: TfjsManifestGroup[]; kerasVersion: string | null } {
  const topo = json.modelTopology as { model_config?: { config?: { layers?: unknown } }; config?: { layers?: unknown }; keras_version?: string } | undefined;
  if (!topo || typeof topo !== 'object') throw new TfjsFormatError(`${source}: no modelTopology (is this a tfjs layers model? graph models are not supported)`);
  const layers = (topo.model_config?.config?.layers ?? topo.config?.layers) as KerasLayer[] | undefined;
  if (!Array.isArray(layers) || !layers.every((l) => l && typeof l.class_name === 'string' && typeof l.config?.name === 'string')) {
    throw new TfjsFormatError(`${source}: modelTopology holds no Keras layer list (model_config.config.layers)`);
  }
  const groups = json.weightsManifest as TfjsManifestGroup[] | undefined;
  if (!Array.isArray(groups) || !groups.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))) {
    throw new TfjsFormatError(`${source}: weightsManifest must be a list of {paths, weights} groups`);
  }
  return { layers, groups, kerasVersion: topo.keras_version ?? null };
}

/** Bytes a group's weights occupy in its shards, from the manifest alone (checked before any shard is read). */
function declaredBytes(specs: readonly TfjsWeightSpec[], source: string): number {
  let total = 0;
  for (const spec of specs) {
    if (!Array.isArray(spec?.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TfjsFormatError(`${source}: weight '${String(spec?.name)}' has an invalid shape ${JSON.stringify(spec?.shape)}`);
    }
    const width = BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (width === undefined) throw new TfjsFormatError(`${source}: weight '${spec.name}': unsupported dtype ${spec.dtype}${spec.quantization ? ` quantized as ${spec.quantization.dtype}` : ''}`);
    total += spec.shape.reduce((a, b) => a * b, 1) * width;
  }
  if (!(total <= MAX_MODEL_BYTES)) throw new TfjsFormatError(`${source}: the manifest declares ${total} bytes of weights, above the ${MAX_MODEL_BYTES}-byte limit`);
  return total;
}

/** One manifest group's shards, concatenated: `read(path, budget)` returns a shard of at most `budget` bytes. */
type ShardReader = (p: string, budget: number) => Uint8Array;

function assemble(source: string, json: ModelJson, shard: ShardReader): TfjsModel {
  const { layers, groups, kerasVersion } = parseModelJson(json, source);
  const weights = new Map<string, TfjsWeight>();
  for (const g of groups) {
    const where = `${source} [${g.paths.join(', ')}]`;
    const declared = declaredBytes(g.weights, where);
    const parts: Uint8Array[] = [];
    let size = 0;
    for (const p of g.paths) {
      if (typeof p !== 'string') throw new TfjsFormatError(`${source}: a weightsManifest path is ${JSON.stringify(p)}, not a file name`);
      const part = shard(p, declared - size);
      parts.push(part);
      size += part.length;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const p of parts) { bytes.set(p, at); at += p.length; }
    for (const w of decodeWeights(g.weights, bytes, where)) {
      if (weights.has(w.name)) throw new TfjsFormatError(`${source}: weight '${w.name}' appears twice in the manifest`);
      weights.set(w.name, w);
    }
  }
  return { source, layers, weights, kerasVersion };
}

function readJson(file: string): ModelJson {
  const text = readFileBounded(file, { maxBytes: MAX_METADATA_BYTES }).toString('utf8');
  try {
    return JSON.parse(text) as ModelJson;
  } catch (e) {
    throw new TfjsFormatError(`${file}: not readable JSON (${(e as Error).message})`, { file });
  }
}

/** A shard the manifest names, kept inside the model folder and read up to the bytes still declared. */
function readShard(dir: string, source: string, name: string, budget: number): Uint8Array {
  const file = resolveInside(dir, name, source, { what: 'shard', listedIn: 'the manifest' });
  const size = regularFileSize(file, `${source}: shard ${name}`);
  if (size > budget) {
    throw new TfjsFormatError(`${source}: shard ${name} holds ${size} bytes, more than the ${budget} the manifest still declares (mismatched shard)`, { file });
  }
  return readFileBounded(file, { maxBytes: budget, what: `${source}: shard ${name}` });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Room for the bundle's wrapper code around a base64 shard. */
const BUNDLE_WRAPPER_BYTES = 64 * 1024;

/**
 * The nsfwjs bundle form: browserify UMD files whose first module exports the model JSON object
 * (model.min.js) or one base64 shard (group1-shardXofY.min.js). Parsed as text, never run.
 */
function readBundle(dir: string): TfjsModel {
  const modelFile = path.join(dir, 'model.min.js');
  const json = bundleExport(readFileBounded(modelFile, { maxBytes: MAX_METADATA_BYTES }).toString('utf8'), modelFile);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TfjsFormatError(`${modelFile}: the bundle does not export a model object`, { file: modelFile });
  return assemble(modelFile, json as ModelJson, (p, budget) => {
    const name = `${p}.min.js`;
    const file = resolveInside(dir, name, modelFile, { what: 'shard', listedIn: 'the manifest' });
    const text = readFileBounded(file, { maxBytes: Math.ceil(budget / 3) * 4 + BUNDLE_WRAPPER_BYTES, what: `${modelFile}: shard ${name}` }).toString('latin1');
    const b64 = bundleExport(text, file);
    if (typeof b64 !== 'string' || !BASE64.test(b64)) throw new TfjsFormatError(`${file}: expected a bundle exporting a base64 string`, { file });
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length > budget) throw new TfjsFormatError(`${file}: decodes to ${bytes.length} bytes, more than the ${budget} the manifest still declares`, { file });
    return bytes;
  });
}

/**
 * Resolves `spec` to a directory or model.json. `nsfwjs:<model>` (e.g. `nsfwjs:mobilenet_v2`) finds
 * the model bundled with an installed nsfwjs package.
 */
export function resolveTfjsSource(spec: string, from: string = process.cwd()): string {
  const m = /^nsfwjs:([\w-]+)$/.exec(spec);
  if (!m) return spec;
  let root: string;
  try {
    // The package's `exports` block deep requires, so locate its package.json through the main entry.
    const main = createRequire(path.join(from, 'noop.js')).resolve('nsfwjs');
    root = main.slice(0, main.lastIndexOf(`${path.sep}dist${path.sep}`));
  } catch {
    throw new TfjsFormatError(`${spec}: the nsfwjs package is not installed (npm install nsfwjs@4.4.0)`);
  }
  return path.join(root, 'dist', 'models', m[1]!);
}

/** Reads a tfjs layers model from model.json, a folder holding model.json, or an nsfwjs model folder. */
export function readTfjsModel(spec: string): TfjsModel {
  const where = resolveTfjsSource(spec);
  if (!existsSync(where)) throw new TfjsFormatError(`${where}: no such file or folder`);
  if (statSync(where).isDirectory()) {
    if (existsSync(path.join(where, 'model.json'))) return readTfjsModel(path.join(where, 'model.json'));
    if (existsSync(path.join(where, 'model.min.js'))) return readBundle(where);
    throw new TfjsFormatError(`${where}: expected model.json (tfjs layers model) or model.min.js (nsfwjs bundle) in this folder`);
  }
  const dir = path.dirname(where);
  return assemble(where, readJson(where), (p, budget) => readShard(dir, where, p, budget));
}
