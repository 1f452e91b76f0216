// Keras MobileNetV2 (tf.keras.applications naming, as tfjs converts it) → catkit's MobileNetV2 with
// torchvision names. The Keras graph differs from torchvision's in three ways the import keeps:
// stride-2 convs pad only bottom/right (ZeroPadding2D before a 'valid' conv), BN epsilon is 1e-3,
// and a model may carry its own dense head (nsfwjs: 256-ReLU, 128-ReLU, 5-softmax). Kernels are
// transposed from Keras's HWIO (depthwise HWCM, dense IO) to PyTorch's OIHW / [out, in].
import { dispose, tensor, type Tensor } from '../tensor/index.js';
import { MobileNetV2, makeDivisible, MOBILENET_V2_SETTING, type PaddingStyle } from './mobilenetv2.js';
import { ImportError, loadTorchStateDict, type ImportResult } from './import.js';
import { readTfjsModel, TfjsFormatError, type KerasLayer, type TfjsModel, type TfjsWeight } from './tfjs-artifacts.js';

export interface KerasImportOptions {
  /**
   * Classes of the classifier. Default: keep the model's own dense head. A different count (or a
   * model without a head) gets a new Linear classifier, initialised as torchvision does.
   */
  numClasses?: number;
  /** Input channels. 1 with RGB weights sums the stem kernel over colour (same as feeding grey as R=G=B). */
  inChannels?: number;
}

export interface KerasMobileNetV2 {
  model: MobileNetV2;
  /** Options that rebuild the same architecture (registry model 'mobilenet_v2_keras' when hidden is empty). */
  architecture: { widthMultiplier: number; padding: PaddingStyle; bnEps: number; hidden: number[]; numClasses: number; inChannels: number };
  result: ImportResult;
}

const BN_SUFFIX: Record<string, string> = { gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' };

/** Keras layer name → torchvision module path, for the standard 17-block table. */
function modulePath(layer: string, lastFeature: number): string | null {
  const fixed: Record<string, string> = {
    Conv1: 'features.0.0', bn_Conv1: 'features.0.1',
    expanded_conv_depthwise: 'features.1.conv.0.0', expanded_conv_depthwise_BN: 'features.1.conv.0.1',
    expanded_conv_project: 'features.1.conv.1', expanded_conv_project_BN: 'features.1.conv.2',
    Conv_1: `features.${lastFeature}.0`, Conv_1_bn: `features.${lastFeature}.1`,
  };
  if (fixed[layer]) return fixed[layer]!;
  const m = /^block_(\d+)_(expand|depthwise|project)(_BN)?$/.exec(layer);
  if (!m) return null;
  const block = `features.${Number(m[1]) + 1}.conv`;
  const bn = Boolean(m[3]);
  switch (m[2]) {
    case 'expand': return `${block}.0.${bn ? 1 : 0}`;
    case 'depthwise': return `${block}.1.${bn ? 1 : 0}`;
    default: return `${block}.${bn ? 3 : 2}`;
  }
}

const byName = (layers: KerasLayer[], name: string): KerasLayer | undefined => layers.find((l) => l.config.name === name);

function need(w: Map<string, TfjsWeight>, name: string, source: string): TfjsWeight {
  const t = w.get(name);
  if (!t) throw new TfjsFormatError(`${source}: weight '${name}' is missing; is this a Keras MobileNetV2?`);
  return t;
}

/** Width multiplier whose channel rounding gives the model's stem and last-block widths. */
function inferWidth(stemFilters: number, projectFilters: number, source: string): number {
  for (const a of [1, 0.35, 0.5, 0.75, 1.3, 1.4, 0.25, 1.5, 2]) {
    if (makeDivisible(32 * a, 8) === stemFilters && makeDivisible(320 * a, 8) === projectFilters) return a;
  }
  throw new TfjsFormatError(`${source}: stem ${stemFilters} / last block ${projectFilters} filters match no width multiplier`);
}

/** Keras pads each stride-2 conv explicitly; all must use one convention catkit implements. */
function paddingStyle(layers: KerasLayer[], source: string): PaddingStyle {
  const pads = layers.filter((l) => l.class_name === 'ZeroPadding2D').map((l) => JSON.stringify(l.config.padding));
  if (pads.length === 0) return 'torch';
  if (pads.every((p) => p === '[[0,1],[0,1]]')) return 'keras';
  if (pads.every((p) => p === '[[1,1],[1,1]]')) return 'torch';
  throw new TfjsFormatError(`${source}: mixed ZeroPadding2D paddings ${[...new Set(pads)].join(', ')}; only uniform ((0,1),(0,1)) or ((1,1),(1,1)) are supported`);
}

/** The dense layers after the backbone: hidden sizes (ReLU) and the classifier, or null without a head. */
function denseHead(layers: KerasLayer[], source: string): { names: string[]; hidden: number[]; classes: number } | null {
  const dense = layers.filter((l) => l.class_name === 'Dense');
  if (dense.length === 0) return null;
  dense.slice(0, -1).forEach((l) => {
    if (l.config.activation !== 'relu') throw new TfjsFormatError(`${source}: hidden dense layer ${l.config.name} has activation '${String(l.config.activation)}'; only relu is supported`);
  });
  const last = dense[dense.length - 1]!;
  if (!['softmax', 'linear'].includes(String(last.config.activation))) {
    throw new TfjsFormatError(`${source}: final dense layer ${last.config.name} has activation '${String(last.config.activation)}'; expected softmax or linear`);
  }
  return { names: dense.map((l) => l.config.name), hidden: dense.slice(0, -1).map((l) => Number(l.config.units)), classes: Number(last.config.units) };
}

/** Keras HWIO / HWCM / IO layouts → PyTorch's, as engine tensors (the caller disposes them). */
function toTorchLayout(w: TfjsWeight, kind: 'conv' | 'depthwise' | 'dense' | 'vector'): Tensor {
  const t = tensor(w.data, w.shape);
  let out: Tensor;
  if (kind === 'conv') out = t.permute([3, 2, 0, 1]).contiguous();
  else if (kind === 'depthwise') {
    const [kh, kw, c, mult] = w.shape as [number, number, number, number];
    out = t.permute([2, 3, 0, 1]).contiguous().reshape([c * mult, 1, kh, kw]); // channel i·mult + m, as PyTorch groups=C
  } else if (kind === 'dense') out = t.permute([1, 0]).contiguous();
  else return t;
  t.dispose();
  return out;
}

/** Builds the state dict (torchvision names) from Keras weights; the caller disposes the tensors. */
function mapWeights(m: TfjsModel, lastFeature: number, head: ReturnType<typeof denseHead>, keepHead: boolean, inChannels: number, notes: string[]): Map<string, Tensor> {
  const sd = new Map<string, Tensor>();
  const unexpected: string[] = [];
  const headIndex = new Map(head?.names.map((n, i) => [n, 1 + 3 * i]) ?? []); // Dropout, Linear, ReLU, Dropout, Linear, …
  try {
    for (const w of m.weights.values()) {
      const slash = w.name.lastIndexOf('/');
      const layer = w.name.slice(0, slash), leaf = w.name.slice(slash + 1);
      if (headIndex.has(layer)) {
        if (!keepHead) continue;
        const key = `classifier.${headIndex.get(layer)}.${leaf === 'kernel' ? 'weight' : leaf}`;
        sd.set(key, toTorchLayout(w, leaf === 'kernel' ? 'dense' : 'vector'));
        continue;
      }
      const mod = modulePath(layer, lastFeature);
      const suffix = leaf === 'kernel' || leaf === 'depthwise_kernel' ? 'weight' : BN_SUFFIX[leaf];
      if (!mod || !suffix) { unexpected.push(w.name); continue; }
      let t = toTorchLayout(w, leaf === 'kernel' ? 'conv' : leaf === 'depthwise_kernel' ? 'depthwise' : 'vector');
      if (mod === 'features.0.0' && t.shape[1] !== inChannels) {
        if (inChannels !== 1) {
          t.dispose();
          throw new ImportError(`--in-channels ${inChannels} does not fit the stem kernel ${w.name} [${w.shape.join(', ')}]; use ${t.shape[1]} or 1 (grey: the kernel is summed over colour)`);
        }
        const grey = t.sum([1], true);
        t.dispose();
        t = grey;
        notes.push(`stem ${w.name}: ${w.shape[2]} input channels summed into 1 (grey input)`);
      }
      sd.set(`${mod}.${suffix}`, t);
    }
    if (unexpected.length) {
      throw new TfjsFormatError(`${m.source}: ${unexpected.length} weights have no MobileNetV2 counterpart: ${unexpected.slice(0, 8).join(', ')}${unexpected.length > 8 ? ', …' : ''}`);
    }
    return sd;
  } catch (e) {
    dispose([...sd.values()]);
    throw e;
  }
}

/** Imports a Keras MobileNetV2 already read from tfjs artifacts. The caller disposes `model`. */
export function kerasMobileNetV2(m: TfjsModel, o: KerasImportOptions = {}): KerasMobileNetV2 {
  const src = m.source;
  for (const name of ['Conv1', 'Conv_1', 'block_16_project']) if (!byName(m.layers, name)) throw new TfjsFormatError(`${src}: no layer '${name}'; this is not a Keras MobileNetV2`);
  if (m.layers.some((l) => /^block_(1[7-9]|[2-9]\d)_/.test(l.config.name))) throw new TfjsFormatError(`${src}: more than 16 inverted-residual blocks; only the standard MobileNetV2 table is supported`);
  const stem = need(m.weights, 'Conv1/kernel', src);
  const width = inferWidth(stem.shape[3]!, need(m.weights, 'block_16_project/kernel', src).shape[3]!, src);
  const bnEps = Number(byName(m.layers, 'bn_Conv1')?.config.epsilon ?? 1e-3);
  const padding = paddingStyle(m.layers, src);
  const head = denseHead(m.layers, src);
  const keepHead = head !== null && (o.numClasses === undefined || o.numClasses === head.classes);
  const numClasses = o.numClasses ?? head?.classes;
  if (numClasses === undefined) throw new ImportError(`${src} has no dense head; give the number of classes (--num-classes)`);
  const inChannels = o.inChannels ?? stem.shape[2]!;
  const hidden = keepHead ? head!.hidden : [];
  const lastFeature = 1 + MOBILENET_V2_SETTING.reduce((n, r) => n + r[2]!, 0);
  const notes = [`${m.weights.size} Keras tensors (${[...new Set([...m.weights.values()].map((w) => w.stored))].join(', ')} storage; dequantized to float32)`,
    `Keras conventions kept: BN eps ${bnEps}, stride-2 padding '${padding}', width ${width}`];
  if (head && !keepHead) notes.push(`dense head ${head.names.join(', ')} (${head.classes} classes) not imported: a new ${numClasses}-class Linear classifier is initialised`);

  const sd = mapWeights(m, lastFeature, head, keepHead, inChannels, notes);
  try {
    const model = new MobileNetV2({ numClasses, inChannels, widthMultiplier: width, padding, bnEps, hidden });
    try {
      const result = loadTorchStateDict(model, sd, src, { allowMissing: (k) => !keepHead && k.startsWith('classifier.'), notes });
      return { model, architecture: { widthMultiplier: width, padding, bnEps, hidden: [...hidden], numClasses, inChannels }, result };
    } catch (e) {
      model.dispose();
      throw e;
    }
  } finally {
    dispose([...sd.values()]);
  }
}

/** Reads tfjs artifacts (model.json, folder, or `nsfwjs:mobilenet_v2`) and imports the Keras MobileNetV2. */
export function importKerasMobileNetV2(source: string, o: KerasImportOptions = {}): KerasMobileNetV2 {
  return kerasMobileNetV2(readTfjsModel(source), o);
}
