// ImageNet-layout ResNets as torchvision builds them (v1.5: a Bottleneck strides on its 3×3 conv):
// a 7×7/2 stem and 3×3/2 max pool, four stages at 64/128/256/512 planes, 1×1-conv projection
// shortcuts where the shape changes. Attribute names are torchvision's (`conv1`, `bn1`,
// `layer1.0.downsample.0`, `fc`), so a torchvision state dict loads unchanged. Where torchvision
// reuses one `relu` per block, every ReLU site here is its own module (stem `relu`, block
// `relu1`, `relu2`, `relu3`) as in torchvision's quantizable variant: CAT puts one quantizer at
// each site, and parameter-free modules add no state-dict keys.
import type { Tensor } from '../tensor/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, init, registerTransient } from '../nn/index.js';
import { initResNetWeights } from './resnet-init.js';
import { pipe, residual } from './pipe.js';

const conv3x3 = (inC: number, outC: number, stride = 1): Conv2d => new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false });
const conv1x1 = (inC: number, outC: number, stride = 1): Conv2d => new Conv2d(inC, outC, 1, { stride, bias: false });

/** A residual block class: constructor and its channel expansion (output = planes × expansion). */
export interface BlockClass {
  new (inChannels: number, planes: number, stride: number, downsample: Sequential | null): ResidualBlock;
  readonly expansion: number;
}
/** What ResNet needs from a block: the BN whose γ zeroInitResidual zeroes. */
export interface ResidualBlock extends Module { readonly lastBN: BatchNorm2d }

export class BasicBlock extends Module implements ResidualBlock {
  static readonly expansion = 1;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inChannels: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = this.add('conv1', conv3x3(inChannels, planes, stride));
    this.bn1 = this.add('bn1', new BatchNorm2d(planes));
    this.add('relu1', new ReLU());
    this.conv2 = this.add('conv2', conv3x3(planes, planes));
    this.bn2 = this.add('bn2', new BatchNorm2d(planes));
    this.add('relu2', new ReLU());
    this.downsample = downsample ? this.add('downsample', downsample) : null;
  }

  get lastBN(): BatchNorm2d { return this.bn2; }

  // ReLU sites are looked up by name on each call: CAT replaces them after construction.
  forward(x: Tensor): Tensor {
    const out = pipe(x, [this.conv1, this.bn1, this.child('relu1'), this.conv2, this.bn2]);
    return residual(out, this.downsample ? this.downsample.forward(x) : x, x, this.child('relu2'));
  }
}

export class Bottleneck extends Module implements ResidualBlock {
  static readonly expansion = 4;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d; readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inChannels: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.add('conv1', conv1x1(inChannels, planes));
    this.bn1 = this.add('bn1', new BatchNorm2d(planes));
    this.add('relu1', new ReLU());
    this.conv2 = this.add('conv2', conv3x3(planes, planes, stride)); // v1.5: the stride sits here, not on conv1
    this.bn2 = this.add('bn2', new BatchNorm2d(planes));
    this.add('relu2', new ReLU());
    this.conv3 = this.add('conv3', conv1x1(planes, out));
    this.bn3 = this.add('bn3', new BatchNorm2d(out));
    this.add('relu3', new ReLU());
    this.downsample = downsample ? this.add('downsample', downsample) : null;
  }

  get lastBN(): BatchNorm2d { return this.bn3; }

  forward(x: Tensor): Tensor {
    const out = pipe(x, [this.conv1, this.bn1, this.child('relu1'), this.conv2, this.bn2, this.child('relu2'), this.conv3, this.bn3]);
    return residual(out, this.downsample ? this.downsample.forward(x) : x, x, this.child('relu3'));
  }
}

export interface ResNetOptions {
  /** Output classes (default 1000, ImageNet). */
  numClasses?: number;
  /** Input image channels (default 3); torchvision fixes 3, here it is free for e.g. grayscale data. */
  inChannels?: number;
  /** Zero the last BN γ of every residual branch, so each block starts as the identity (Goyal et al. 2017). */
  zeroInitResidual?: boolean;
}

const positiveInt = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`ResNet: ${what} must be a positive integer, got ${v}`);
  return v;
};

export class ResNet extends Module {
  readonly config: Required<ResNetOptions> & { layers: readonly number[]; block: string };

  constructor(block: BlockClass, layers: readonly number[], o: ResNetOptions = {}) {
    super();
    if (layers.length !== 4) throw new RangeError(`ResNet: layers must list 4 stage depths, got [${layers.join(', ')}]`);
    layers.forEach((n, i) => positiveInt(n, `layers[${i}]`));
    this.config = {
      numClasses: positiveInt(o.numClasses ?? 1000, 'numClasses'),
      inChannels: positiveInt(o.inChannels ?? 3, 'inChannels'),
      zeroInitResidual: o.zeroInitResidual ?? false,
      layers: [...layers], block: block.name,
    };
    this.add('conv1', new Conv2d(this.config.inChannels, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.add('bn1', new BatchNorm2d(64));
    this.add('relu', new ReLU());
    this.add('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inC = 64;
    [64, 128, 256, 512].forEach((planes, stage) => {
      const stride = stage === 0 ? 1 : 2;
      const out = planes * block.expansion;
      const layer = new Sequential();
      for (let b = 0; b < layers[stage]!; b++) {
        const s = b === 0 ? stride : 1;
        const downsample = b === 0 && (s !== 1 || inC !== out) ? new Sequential(conv1x1(inC, out, s), new BatchNorm2d(out)) : null;
        layer.add(new block(inC, planes, s, downsample));
        inC = out;
      }
      this.add(`layer${stage + 1}`, layer);
    });
    this.add('avgpool', new AdaptiveAvgPool2d(1));
    this.add('fc', new Linear(inC, this.config.numClasses));
    initResNetWeights(this);
    if (this.config.zeroInitResidual) {
      for (const m of this.modules()) if (m instanceof BasicBlock || m instanceof Bottleneck) init.zeros_(m.lastBN.param('weight'));
    }
  }

  forward(x: Tensor): Tensor {
    const features = pipe(x, ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool'].map((n) => this.child(n)));
    const flat = features.flatten(1);
    features.dispose();
    return this.child('fc').forward(flat);
  }
}

function buildResNet(block: BlockClass, layers: readonly number[], o: ResNetOptions): ResNet {
  return new ResNet(block, layers, o);
}

export const resnet18 = (o: ResNetOptions = {}): ResNet => buildResNet(BasicBlock, [2, 2, 2, 2], o);
export const resnet34 = (o: ResNetOptions = {}): ResNet => buildResNet(BasicBlock, [3, 4, 6, 3], o);
export const resnet50 = (o: ResNetOptions = {}): ResNet => buildResNet(Bottleneck, [3, 4, 6, 3], o);

// A block's output is fresh and it keeps nothing, so layerN may free each block's output once consumed.
registerTransient({ containers: [BasicBlock, Bottleneck] });
