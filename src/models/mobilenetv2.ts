// MobileNetV2 (Sandler et al. 2018) as torchvision 0.14 builds it, so its state dict loads by name:
// `features.0` is the stem conv-BN-ReLU6, `features.1 … features.17` the inverted residual blocks
// (`features.N.conv.M.K`), `features.18` the 1×1 conv to 1280 channels, `classifier.1` the Linear.
// Each ReLU6 is its own module (CAT quantizes each site: 35 at width 1). The projection conv + BN
// of every block is linear (no activation, paper.md §2.1), so it stays unquantized.
import { F, isGradEnabled, type Tensor } from '../tensor/index.js';
import { BatchNorm2d, Conv2d, Dropout, Linear, Module, ReLU, ReLU6, Sequential, evalFusionEnabled, init, registerTransient } from '../nn/index.js';

/** Rows [t, c, n, s]: expansion factor, output channels, repeats, stride of the first repeat. */
export type InvertedResidualSetting = readonly (readonly number[])[];

/** torchvision's (and the paper's Table 2) block table. */
export const MOBILENET_V2_SETTING: InvertedResidualSetting = Object.freeze([
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
].map((r) => Object.freeze(r)));

/**
 * torchvision's `_make_divisible` (from the TF slim reference): round `v` to the nearest multiple of
 * `divisor` (at least `minValue`), but never more than 10 % below `v`.
 */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let out = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

/** Python's round(): halves go to the even neighbour (torchvision's `int(round(inp * t))`). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Where stride-2 convolutions pad. 'torch': one pixel on every side (torchvision). 'keras': the
 * Keras application's ZeroPadding2D((0, 1), (0, 1)) before a 'valid' conv, i.e. only bottom and
 * right; its weights are only exact with this padding.
 */
export type PaddingStyle = 'torch' | 'keras';

/** Layer conventions that differ between torchvision and Keras MobileNetV2. */
export interface LayerStyle { padding?: PaddingStyle; bnEps?: number }

/** A 3×3 stride-2 convolution padded as Keras does (bottom/right only); names and weights as Conv2d. */
export class KerasStride2Conv2d extends Conv2d {
  override convolve(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    const padded = F.pad(x, [0, 1, 0, 1]);
    const y = F.conv2d(padded, weight, bias, { stride: this.stride, padding: 0, dilation: this.dilation, groups: this.groups });
    padded.dispose();
    return y;
  }
}

function conv(inC: number, outC: number, kernel: number, stride: number, groups: number, style: LayerStyle): Conv2d {
  if (style.padding === 'keras' && stride === 2) {
    if (kernel !== 3) throw new RangeError(`MobileNetV2: Keras padding is defined for 3×3 stride-2 convs, got ${kernel}×${kernel}`);
    return new KerasStride2Conv2d(inC, outC, kernel, { stride, padding: 0, groups, bias: false });
  }
  return new Conv2d(inC, outC, kernel, { stride, padding: (kernel - 1) >> 1, groups, bias: false });
}

/** torchvision's Conv2dNormActivation with ReLU6: children 0 (conv), 1 (BN), 2 (ReLU6). */
export class ConvBNReLU6 extends Sequential {
  constructor(inC: number, outC: number, kernel: number, o: { stride?: number; groups?: number } & LayerStyle = {}) {
    super(
      conv(inC, outC, kernel, o.stride ?? 1, o.groups ?? 1, o),
      new BatchNorm2d(outC, { eps: o.bnEps ?? 1e-5 }),
      new ReLU6(),
    );
  }
}

export class InvertedResidual extends Module {
  readonly useResConnect: boolean;
  readonly conv: Sequential;

  constructor(inC: number, outC: number, stride: number, expandRatio: number, style: LayerStyle = {}) {
    super();
    if (stride !== 1 && stride !== 2) throw new RangeError(`InvertedResidual: stride must be 1 or 2, got ${stride}`);
    const hidden = roundHalfEven(inC * expandRatio);
    this.useResConnect = stride === 1 && inC === outC;
    const layers = new Sequential();
    if (expandRatio !== 1) layers.add(new ConvBNReLU6(inC, hidden, 1, style)); // pointwise expansion
    layers.add(new ConvBNReLU6(hidden, hidden, 3, { ...style, stride, groups: hidden })); // depthwise
    layers.add(new Conv2d(hidden, outC, 1, { bias: false })); // linear bottleneck: no activation after it
    layers.add(new BatchNorm2d(outC, { eps: style.bnEps ?? 1e-5 }));
    this.conv = this.add('conv', layers);
  }

  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    if (!this.useResConnect) return y;
    // Without autograd the block's own output can take the sum in place (x + y = y + x exactly).
    return evalFusionEnabled() && !isGradEnabled() && y !== x ? y.add_(x) : x.add(y);
  }
}

export interface MobileNetV2Options {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Scales every channel count (then rounded by makeDivisible); the last conv never goes below 1280. */
  widthMultiplier?: number;
  /** Block table [t, c, n, s] (default MOBILENET_V2_SETTING). */
  invertedResidualSetting?: InvertedResidualSetting;
  /** Channel counts are rounded to multiples of this (1 turns rounding off). */
  roundNearest?: number;
  /** Dropout before the classifier (default 0.2). */
  dropout?: number;
  /** Input image channels (default 3; torchvision fixes 3). */
  inChannels?: number;
  /**
   * Hidden Linear+ReLU layers of the classifier head (default none: torchvision's single Linear).
   * Keras models with a dense head (nsfwjs: 256, 128) import with it; the classifier's children are
   * then Dropout, Linear, (ReLU, Dropout, Linear)… so `classifier.1` stays the first Linear.
   */
  hidden?: readonly number[];
  /** Stride-2 padding convention (default 'torch'); see PaddingStyle. */
  padding?: PaddingStyle;
  /** Batch-norm epsilon (torchvision 1e-5, Keras 1e-3). */
  bnEps?: number;
}

/** Checks the table row by row, so a bad entry is reported with its position and value. */
function checkSetting(setting: InvertedResidualSetting): void {
  if (!Array.isArray(setting) || setting.length === 0) {
    throw new RangeError(`MobileNetV2: invertedResidualSetting must be a non-empty list of [t, c, n, s] rows, got ${JSON.stringify(setting)}`);
  }
  setting.forEach((row, i) => {
    const where = `MobileNetV2: invertedResidualSetting[${i}]`;
    if (!Array.isArray(row) || row.length !== 4) throw new RangeError(`${where} must be [t, c, n, s], got ${JSON.stringify(row)}`);
    const [t, c, n, s] = row as number[];
    if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) throw new RangeError(`${where}: expansion t must be a positive number, got ${JSON.stringify(t)}`);
    if (!Number.isInteger(c) || c! < 1) throw new RangeError(`${where}: channels c must be a positive integer, got ${JSON.stringify(c)}`);
    if (!Number.isInteger(n) || n! < 1) throw new RangeError(`${where}: repeats n must be a positive integer, got ${JSON.stringify(n)}`);
    if (s !== 1 && s !== 2) throw new RangeError(`${where}: stride s must be 1 or 2, got ${JSON.stringify(s)}`);
  });
}

export class MobileNetV2 extends Module {
  readonly config: Required<Omit<MobileNetV2Options, 'invertedResidualSetting' | 'hidden'>> & { invertedResidualSetting: InvertedResidualSetting; hidden: number[] };
  readonly lastChannel: number;

  constructor(o: MobileNetV2Options = {}) {
    super();
    const width = o.widthMultiplier ?? 1;
    if (!(width > 0) || !Number.isFinite(width)) throw new RangeError(`MobileNetV2: widthMultiplier must be a positive number, got ${width}`);
    const roundNearest = o.roundNearest ?? 8;
    if (!Number.isInteger(roundNearest) || roundNearest < 1) throw new RangeError(`MobileNetV2: roundNearest must be a positive integer, got ${roundNearest}`);
    const setting = o.invertedResidualSetting ?? MOBILENET_V2_SETTING;
    checkSetting(setting);
    const hiddenSizes = [...(o.hidden ?? [])];
    for (const [what, v] of [['numClasses', o.numClasses ?? 1000], ['inChannels', o.inChannels ?? 3], ...hiddenSizes.map((h) => ['hidden', h] as const)] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`MobileNetV2: ${what} must be a positive integer, got ${v}`);
    }
    if (o.padding !== undefined && o.padding !== 'torch' && o.padding !== 'keras') throw new RangeError(`MobileNetV2: padding must be 'torch' or 'keras', got ${String(o.padding)}`);
    const bnEps = o.bnEps ?? 1e-5;
    if (!(bnEps > 0)) throw new RangeError(`MobileNetV2: bnEps must be positive, got ${bnEps}`);
    this.config = {
      numClasses: o.numClasses ?? 1000, widthMultiplier: width, roundNearest, dropout: o.dropout ?? 0.2, inChannels: o.inChannels ?? 3,
      invertedResidualSetting: setting.map((r) => [...r]), hidden: hiddenSizes, padding: o.padding ?? 'torch', bnEps,
    };
    const style: LayerStyle = { padding: this.config.padding, bnEps };

    let inC = makeDivisible(32 * width, roundNearest);
    this.lastChannel = makeDivisible(1280 * Math.max(1, width), roundNearest);
    const features = new Sequential(new ConvBNReLU6(this.config.inChannels, inC, 3, { ...style, stride: 2 }));
    for (const [t, c, n, s] of setting as number[][]) {
      const outC = makeDivisible(c! * width, roundNearest);
      for (let i = 0; i < n!; i++) {
        features.add(new InvertedResidual(inC, outC, i === 0 ? s! : 1, t!, style));
        inC = outC;
      }
    }
    features.add(new ConvBNReLU6(inC, this.lastChannel, 1, style));
    this.add('features', features);
    const classifier = new Sequential(new Dropout(this.config.dropout));
    let headIn = this.lastChannel;
    for (const h of hiddenSizes) {
      classifier.add(new Linear(headIn, h));
      classifier.add(new ReLU());
      classifier.add(new Dropout(this.config.dropout));
      headIn = h;
    }
    classifier.add(new Linear(headIn, this.config.numClasses));
    this.add('classifier', classifier);

    // torchvision's init: Kaiming-normal (fan_out) convs, BN γ=1 β=0, Linear N(0, 0.01) with zero bias.
    for (const m of this.modules()) {
      if (m instanceof Conv2d) { init.kaimingNormal_(m.weight, { mode: 'fan_out' }); if (m.bias) init.zeros_(m.bias); }
      else if (m instanceof BatchNorm2d) { init.ones_(m.param('weight')); init.zeros_(m.param('bias')); }
      else if (m instanceof Linear) { init.normal_(m.weight, 0, 0.01); if (m.bias) init.zeros_(m.bias); }
    }
  }

  forward(x: Tensor): Tensor {
    const y = this.child('features').forward(x);
    // torchvision pools functionally (no module), so no extra name enters the tree.
    return this.child('classifier').forward(F.adaptiveAvgPool2d(y, 1).flatten(1));
  }
}

export const mobilenetV2 = (o: MobileNetV2Options = {}): MobileNetV2 => new MobileNetV2(o);

// Blocks keep nothing and return fresh tensors (or their input), so `features` may free each output once consumed.
registerTransient({ leaves: [KerasStride2Conv2d], containers: [ConvBNReLU6, InvertedResidual] });
