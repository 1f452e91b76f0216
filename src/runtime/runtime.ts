// A runtime for .catk model files without libtorch: the layer graph is built on TensorFlow.js (cpu,
// wasm or webgl backend: whatever tf has set), activation sites quantize as the CAT run did, and each
// quantized feature map can be entropy-coded as it is produced (rANS with the map's own table, as a
// device would send it), decoded again and handed to the next layer from the decoded codes, with the
// bytes moved per site recorded raw and coded. Pure TypeScript: no Node or engine dependency.
import * as tf from '@tensorflow/tfjs';
import { decodeContainer, encodeContainerParts } from '../codec/container.js';
import { histogram, shannonEntropy } from '../codec/entropy.js';
import { readCatk, type CatkModel } from '../export/catk.js';
import { type GraphNode, type SiteSpec } from '../export/graph.js';
import { CatkitError } from '../errors.js';

/** Bytes one activation site moved for one forward pass. */
export interface SiteTraffic {
  site: string;
  /** NCHW shape of the feature map. */
  shape: number[];
  bits: number;
  elements: number;
  /** Raw b-bit packing. */
  rawBytes: number;
  /** The coded container (header, table, payload, CRC); null when coding was off. */
  codedBytes: number | null;
  /** Shannon entropy of the map's codes, bits per value (null when coding was off). */
  entropy: number | null;
}

export interface PredictOptions {
  /** Entropy-code every quantized feature map, decode it and continue from the decoded codes (default false). */
  code?: boolean;
}

export interface Prediction {
  /** Logits [n × classes], row-major. */
  logits: Float32Array;
  classes: number;
  /** Top-1 class per image. */
  top1: number[];
  /** Per quantized site, in execution order. */
  traffic: SiteTraffic[];
}

interface ConvParams { filter: tf.Tensor4D; bias: tf.Tensor1D | null; depthwise: boolean }

export class RuntimeError extends CatkitError {
  override name = 'RuntimeError';
  constructor(message: string) { super('runtime_unsupported', message); }
}

/** A loaded model: weights on the TF.js backend, ready to run. */
export class CatkRuntime {
  readonly model: CatkModel;
  private readonly conv = new Map<string, ConvParams>();
  private readonly bn = new Map<string, { scale: tf.Tensor1D; shift: tf.Tensor1D }>();
  private readonly linear = new Map<string, { weight: tf.Tensor2D; bias: tf.Tensor1D | null }>();
  private readonly sites: Map<string, SiteSpec>;

  /** Decodes and validates a .catk file (see readCatk) and uploads its weights. */
  static fromBytes(bytes: Uint8Array, file?: string): CatkRuntime { return new CatkRuntime(readCatk(bytes, file)); }

  constructor(model: CatkModel) {
    this.model = model;
    this.sites = new Map(model.graph.sites.map((s) => [s.name, s]));
    const values = (k: string) => model.tensors.get(k)!.values;
    const shapeOf = (k: string) => model.tensors.get(k)!.entry.shape;
    for (const n of model.graph.nodes) {
      if (n.op === 'conv') {
        const [o, ig, kh, kw] = shapeOf(n.weight) as [number, number, number, number];
        const cin = ig * n.groups;
        const depthwise = n.groups > 1;
        if (depthwise && !(ig === 1 && n.groups === cin && o % cin === 0)) {
          throw new RuntimeError(`node '${n.name}': grouped convolutions other than depthwise are not supported`);
        }
        // [out, in/groups, kh, kw] → TF.js [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]).
        const w = tf.tidy(() => {
          const t = tf.tensor4d(values(n.weight), [o, ig, kh, kw]);
          return depthwise ? t.reshape([cin, o / cin, kh, kw]).transpose([2, 3, 0, 1]) as tf.Tensor4D : t.transpose([2, 3, 1, 0]) as tf.Tensor4D;
        });
        this.conv.set(n.name, { filter: w, bias: n.bias ? tf.tensor1d(values(n.bias)) : null, depthwise });
      } else if (n.op === 'batchnorm') {
        const g = values(n.weight), b = values(n.bias), m = values(n.mean), v = values(n.variance);
        const scale = new Float32Array(g.length), shift = new Float32Array(g.length);
        for (let c = 0; c < g.length; c++) { scale[c] = g[c]! / Math.sqrt(v[c]! + n.eps); shift[c] = b[c]! - m[c]! * scale[c]!; }
        this.bn.set(n.name, { scale: tf.tensor1d(scale), shift: tf.tensor1d(shift) });
      } else if (n.op === 'linear') {
        const [o, i] = shapeOf(n.weight) as [number, number];
        this.linear.set(n.name, { weight: tf.tidy(() => tf.tensor2d(values(n.weight), [o, i]).transpose() as tf.Tensor2D), bias: n.bias ? tf.tensor1d(values(n.bias)) : null });
      }
    }
  }

  get classNames(): string[] { return this.model.meta.classNames; }
  get inputShape(): [number, number, number] { return this.model.graph.input.shape; }

  /**
   * Normalised input [C, H, W] from an image's pixels (interleaved H × W × C bytes, or RGBA when
   * `rgba` is set: grey models read the mean of R, G, B), as the run's loader did.
   */
  preprocess(pixels: ArrayLike<number>, o: { rgba?: boolean } = {}): Float32Array {
    const [c, h, w] = this.inputShape;
    const { padTo, resize } = this.model.meta.preprocess;
    if (padTo || resize) throw new RuntimeError(`preprocess: the run padded (${padTo}) or resized (${resize}) its images; pass a normalised [${c}, ${h}, ${w}] input to predict()`);
    const stride = o.rgba ? 4 : c;
    if (pixels.length !== h * w * stride) throw new RuntimeError(`preprocess: expected ${h}×${w}×${stride} values, got ${pixels.length}`);
    const { mean, std } = this.model.meta.normalization;
    const out = new Float32Array(c * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (y * w + x) * stride;
        for (let k = 0; k < c; k++) {
          const v = o.rgba && c === 1 ? (pixels[p]! + pixels[p + 1]! + pixels[p + 2]!) / 3 : pixels[p + k]!;
          out[(k * h + y) * w + x] = (v / 255 - mean[k % mean.length]!) / std[k % std.length]!;
        }
      }
    }
    return out;
  }

  /**
   * Runs `n` images given as normalised NCHW float32 values. Quantizer ranges in 'tensor' and
   * 'channel' mode span the whole batch, as in the CAT run's evaluation of that batch.
   */
  predict(input: Float32Array, n: number, o: PredictOptions = {}): Prediction {
    const [c, h, w] = this.inputShape;
    if (!Number.isInteger(n) || n < 1 || input.length !== n * c * h * w) throw new RuntimeError(`predict: expected ${n} × ${c}×${h}×${w} values, got ${input.length}`);
    const traffic: SiteTraffic[] = [];
    const values = new Map<string, tf.Tensor>();
    try {
      values.set(this.model.graph.input.name, tf.tidy(() => tf.tensor4d(input, [n, c, h, w]).transpose([0, 2, 3, 1])));
      // Free each value after its last use.
      const lastUse = new Map<string, number>();
      this.model.graph.nodes.forEach((node, i) => node.inputs.forEach((x) => lastUse.set(x, i)));
      this.model.graph.nodes.forEach((node, i) => {
        const out = this.run(node, node.inputs.map((x) => values.get(x)!), o, traffic);
        values.set(node.name, out);
        for (const x of new Set(node.inputs)) if (lastUse.get(x) === i && x !== this.model.graph.output) { values.get(x)!.dispose(); values.delete(x); }
      });
      const logits = values.get(this.model.graph.output)!.dataSync() as Float32Array;
      const classes = logits.length / n;
      const top1 = Array.from({ length: n }, (_, i) => {
        let best = 0;
        for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
        return best;
      });
      return { logits: Float32Array.from(logits), classes, top1, traffic };
    } finally { for (const t of values.values()) t.dispose(); }
  }

  private run(node: GraphNode, ins: tf.Tensor[], o: PredictOptions, traffic: SiteTraffic[]): tf.Tensor {
    const x = ins[0]!;
    switch (node.op) {
      case 'conv': return tf.tidy(() => {
        const p = this.conv.get(node.name)!;
        const [t, l, b, r] = node.pads;
        const padded = t || l || b || r ? tf.pad(x as tf.Tensor4D, [[0, 0], [t, b], [l, r], [0, 0]]) : x as tf.Tensor4D;
        const y = p.depthwise
          ? tf.depthwiseConv2d(padded, p.filter, node.stride, 'valid', 'NHWC', node.dilation)
          : tf.conv2d(padded, p.filter, node.stride, 'valid', 'NHWC', node.dilation);
        return p.bias ? y.add(p.bias) : y;
      });
      case 'batchnorm': return tf.tidy(() => { const p = this.bn.get(node.name)!; return x.mul(p.scale).add(p.shift); });
      case 'act': return this.activation(node, x, o, traffic);
      case 'add': return tf.add(x, ins[1]!);
      case 'maxpool': return tf.tidy(() => {
        const [t, l, b, r] = node.pads;
        const padded = t || l || b || r ? tf.pad(x as tf.Tensor4D, [[0, 0], [t, b], [l, r], [0, 0]], -Infinity) : x as tf.Tensor4D;
        return tf.maxPool(padded, node.kernel, node.stride, 'valid');
      });
      case 'globalavgpool': return tf.mean(x, [1, 2], true);
      case 'flatten': return tf.tidy(() => (x.shape[1] === 1 && x.shape[2] === 1 ? x.reshape([x.shape[0]!, -1]) : x.transpose([0, 3, 1, 2]).reshape([x.shape[0]!, -1])));
      case 'linear': return tf.tidy(() => { const p = this.linear.get(node.name)!; const y = tf.matMul(x as tf.Tensor2D, p.weight); return p.bias ? y.add(p.bias) : y; });
    }
  }

  /** ReLU/ReLU6 with the learned clip, then the site's quantizer (and, when asked, the real coding). */
  private activation(node: Extract<GraphNode, { op: 'act' }>, x: tf.Tensor, o: PredictOptions, traffic: SiteTraffic[]): tf.Tensor {
    const site = node.site === null ? null : this.sites.get(node.site)!;
    const upper = node.kind === 'relu6' ? Math.min(6, site?.clip ?? 6) : site?.clip ?? null;
    const y = upper === null ? tf.relu(x) : tf.clipByValue(x, 0, upper);
    if (!site || !site.quantize) return y;
    const levels = 2 ** site.bits - 1;
    // Grid per tensor (clip or batch min/max) or per channel (min/max over batch and positions).
    let lo: tf.Tensor, span: tf.Tensor;
    if (site.range === 'channel') {
      lo = tf.min(y, [0, 1, 2]); span = tf.tidy(() => tf.max(y, [0, 1, 2]).sub(lo));
    } else if (site.range === 'clip') {
      lo = tf.scalar(0); span = tf.scalar(site.clip!);
    } else {
      lo = tf.min(y); span = tf.tidy(() => tf.max(y).sub(lo));
    }
    const live = tf.tidy(() => span.greater(0));
    // catkit's float32 arithmetic, operation for operation (src/method/quantize.ts), so codes and
    // values match the native engine's bit for bit whenever the inputs do: per channel,
    // round((y − lo)/span·levels) and back codes·span/levels + lo; per tensor and clip,
    // s = levels·(1/span), round((y − lo)·s) and back codes/s + lo, added straight-through as y + (… − y).
    const safeSpan = tf.tidy(() => tf.where(live, span, tf.onesLike(span)));
    const perChannel = site.range === 'channel';
    const inv = perChannel ? null : tf.tidy(() => tf.reciprocal(safeSpan).mul(levels));
    const codes = tf.tidy(() => (perChannel ? y.sub(lo).div(safeSpan).mul(levels) : y.sub(lo).mul(inv!)).round().clipByValue(0, levels));
    try {
      let used = codes;
      const shape = [y.shape[0]!, y.shape[3]!, y.shape[1]!, y.shape[2]!];
      const elements = shape.reduce((a, b) => a * b, 1);
      const entry: SiteTraffic = { site: site.name, shape, bits: site.bits, elements, rawBytes: Math.ceil((elements * site.bits) / 8), codedBytes: null, entropy: null };
      if (o.code) {
        const data = codes.dataSync();
        const sym = site.bits <= 8 ? Uint8Array.from(data) : Uint16Array.from(data);
        entry.entropy = shannonEntropy(histogram(sym, levels + 1));
        const parts = encodeContainerParts(sym, { codec: 'rans', alphabetSize: levels + 1 });
        entry.codedBytes = parts.bytes.length;
        // The next layer runs on what the receiver decodes.
        used = tf.tensor(Float32Array.from(decodeContainer(parts.bytes, { maxElements: elements })), codes.shape);
      }
      traffic.push(entry);
      const out = tf.tidy(() => {
        const value = perChannel ? used.mul(safeSpan).div(levels).add(lo) : y.add(used.div(inv!).add(lo).sub(y));
        // Channels (or tensors) with max == min pass through unquantized, as catkit's quantizer does.
        return site.range === 'clip' ? value : tf.where(live.broadcastTo(value.shape), value, y);
      });
      if (used !== codes) used.dispose();
      return out;
    } finally { tf.dispose([y, lo, span, live, safeSpan, codes, ...(inv ? [inv] : [])]); }
  }

  dispose(): void {
    for (const p of this.conv.values()) tf.dispose([p.filter, ...(p.bias ? [p.bias] : [])]);
    for (const p of this.bn.values()) tf.dispose([p.scale, p.shift]);
    for (const p of this.linear.values()) tf.dispose([p.weight, ...(p.bias ? [p.bias] : [])]);
  }
}
