// MobileNetV3-Large's feature layers as torchvision 0.14 builds them (names `features.N.block.M.K`,
// squeeze-excitation `fc1`/`fc2`), used as the SSDLite backbone. Every activation is its own module:
// ReLU in the early blocks (CAT sites), Hardswish in the later ones and the stem, Hardsigmoid as the
// SE gate. `reducedTail` halves the last stage (torchvision does so when no pretrained classifier
// backbone is loaded, e.g. for SSDLite). BN eps/momentum are parameters (SSDLite: 0.001 / 0.03).
import { F, type Tensor } from '../tensor/index.js';
import { BatchNorm2d, Conv2d, Hardsigmoid, Hardswish, Module, ReLU, ReLU6, Sequential, type AnyModule } from '../nn/index.js';
import { makeDivisible } from './mobilenetv2.js';

export interface NormStyle { bnEps?: number; bnMomentum?: number }
export type Activation = 'relu' | 'hardswish' | 'relu6' | null;

/** torchvision's Conv2dNormActivation: children 0 (conv, no bias), 1 (BN), 2 (activation, if any). */
export class ConvNormActivation extends Sequential {
  constructor(readonly inChannels: number, readonly outChannels: number, kernel: number, o: NormStyle & { stride?: number; groups?: number; dilation?: number; activation: Activation }) {
    super();
    const dilation = o.dilation ?? 1;
    this.add(new Conv2d(inChannels, outChannels, kernel, { stride: o.stride ?? 1, padding: ((kernel - 1) >> 1) * dilation, dilation, groups: o.groups ?? 1, bias: false }));
    this.add(new BatchNorm2d(outChannels, { eps: o.bnEps ?? 1e-5, momentum: o.bnMomentum ?? 0.1 }));
    if (o.activation) this.add(activationModule(o.activation));
  }
}

export function activationModule(a: Exclude<Activation, null>): AnyModule {
  if (a === 'relu') return new ReLU();
  if (a === 'hardswish') return new Hardswish();
  return new ReLU6();
}

/** Squeeze-excitation: x · hardsigmoid(fc2(relu(fc1(mean over H, W)))). */
export class SqueezeExcitation extends Module {
  constructor(channels: number, squeeze: number) {
    super();
    this.add('fc1', new Conv2d(channels, squeeze, 1));
    this.add('fc2', new Conv2d(squeeze, channels, 1));
    this.add('activation', new ReLU());
    this.add('scale_activation', new Hardsigmoid());
  }
  forward(x: Tensor): Tensor {
    const pooled = F.adaptiveAvgPool2d(x, 1);
    const a = this.child('fc1').forward(pooled); pooled.dispose();
    const b = this.child('activation').forward(a); a.dispose();
    const c = this.child('fc2').forward(b); b.dispose();
    const gate = this.child('scale_activation').forward(c); c.dispose();
    const y = gate.mul(x); gate.dispose();
    return y;
  }
}

/** One bneck row: input, kernel, expanded, output channels, SE, activation, stride. */
export interface BneckConfig { inC: number; kernel: number; expanded: number; outC: number; se: boolean; act: 'relu' | 'hardswish'; stride: number }

export class MobileNetV3Block extends Module {
  readonly useResConnect: boolean;
  readonly isStrided: boolean;
  readonly block: Sequential;
  constructor(readonly cnf: BneckConfig, norm: NormStyle) {
    super();
    this.useResConnect = cnf.stride === 1 && cnf.inC === cnf.outC;
    this.isStrided = cnf.stride > 1;
    const layers = new Sequential();
    if (cnf.expanded !== cnf.inC) layers.add(new ConvNormActivation(cnf.inC, cnf.expanded, 1, { ...norm, activation: cnf.act }));
    layers.add(new ConvNormActivation(cnf.expanded, cnf.expanded, cnf.kernel, { ...norm, stride: cnf.stride, groups: cnf.expanded, activation: cnf.act }));
    if (cnf.se) layers.add(new SqueezeExcitation(cnf.expanded, makeDivisible(Math.trunc(cnf.expanded / 4), 8)));
    layers.add(new ConvNormActivation(cnf.expanded, cnf.outC, 1, { ...norm, activation: null }));
    this.block = this.add('block', layers);
  }
  forward(x: Tensor): Tensor {
    const y = this.block.forward(x);
    if (!this.useResConnect) return y;
    const z = y.add(x); y.dispose();
    return z;
  }
}

/** torchvision's mobilenet_v3_large table (width 1); `reducedTail` halves the C4/C5 stage. */
export function mobilenetV3LargeConfig(reducedTail: boolean, widthMult = 1): BneckConfig[] {
  const d = reducedTail ? 2 : 1;
  const rows: [number, number, number, number, boolean, 'relu' | 'hardswish', number][] = [
    [16, 3, 16, 16, false, 'relu', 1], [16, 3, 64, 24, false, 'relu', 2], [24, 3, 72, 24, false, 'relu', 1],
    [24, 5, 72, 40, true, 'relu', 2], [40, 5, 120, 40, true, 'relu', 1], [40, 5, 120, 40, true, 'relu', 1],
    [40, 3, 240, 80, false, 'hardswish', 2], [80, 3, 200, 80, false, 'hardswish', 1], [80, 3, 184, 80, false, 'hardswish', 1],
    [80, 3, 184, 80, false, 'hardswish', 1], [80, 3, 480, 112, true, 'hardswish', 1], [112, 3, 672, 112, true, 'hardswish', 1],
    [112, 5, 672, 160 / d, true, 'hardswish', 2], [160 / d, 5, 960 / d, 160 / d, true, 'hardswish', 1], [160 / d, 5, 960 / d, 160 / d, true, 'hardswish', 1],
  ];
  const adj = (c: number) => makeDivisible(c * widthMult, 8);
  return rows.map(([inC, kernel, expanded, outC, se, act, stride]) => ({ inC: adj(inC), kernel, expanded: adj(expanded), outC: adj(outC), se, act, stride }));
}

/** The `features` list of torchvision's MobileNetV3-Large: stem, 15 bnecks, last 1×1 conv (6× channels). */
export function mobilenetV3LargeFeatures(o: NormStyle & { reducedTail?: boolean; widthMult?: number } = {}): AnyModule[] {
  const cfg = mobilenetV3LargeConfig(o.reducedTail ?? false, o.widthMult ?? 1);
  const layers: AnyModule[] = [new ConvNormActivation(3, cfg[0]!.inC, 3, { ...o, stride: 2, activation: 'hardswish' })];
  for (const c of cfg) layers.push(new MobileNetV3Block(c, o));
  const last = cfg[cfg.length - 1]!.outC;
  layers.push(new ConvNormActivation(last, 6 * last, 1, { ...o, activation: 'hardswish' }));
  return layers;
}
