// CIFAR-layout ResNets (He et al. 2016 §4.2): a 3×3 stem, three stages of BasicBlocks at 16/32/64
// channels (times a width multiplier), 1×1-conv projection shortcuts where the shape changes.
// Every ReLU is its own module (relu, relu1, relu2) so CAT puts one quantizer at each site.
import type { Tensor } from '../tensor/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, Module, ReLU, Sequential, registerTransient } from '../nn/index.js';
import { initResNetWeights } from './resnet-init.js';
import { pipe, residual } from './pipe.js';

export class BasicBlock extends Module {
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly relu1: Module;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d; readonly relu2: Module;
  readonly downsample: Sequential | null;

  constructor(inChannels: number, planes: number, stride = 1) {
    super();
    this.conv1 = this.add('conv1', new Conv2d(inChannels, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.add('bn1', new BatchNorm2d(planes));
    this.relu1 = this.add('relu1', new ReLU());
    this.conv2 = this.add('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.add('bn2', new BatchNorm2d(planes));
    this.relu2 = this.add('relu2', new ReLU());
    this.downsample = stride !== 1 || inChannels !== planes
      ? this.add('downsample', new Sequential(new Conv2d(inChannels, planes, 1, { stride, bias: false }), new BatchNorm2d(planes)))
      : null;
  }

  // Sites are looked up by name on each call: CAT replaces the ReLU modules after construction.
  forward(x: Tensor): Tensor {
    const out = pipe(x, [this.conv1, this.bn1, this.child('relu1'), this.conv2, this.child('bn2')]);
    return residual(out, this.downsample ? this.downsample.forward(x) : x, x, this.child('relu2'));
  }
}

export interface CifarResNetOptions {
  /** 6n + 2: 20, 32, 44, 56, 110. */
  depth?: number;
  /** Multiplies the 16/32/64 stage widths. */
  widthMultiplier?: number;
  inChannels?: number;
  numClasses?: number;
}

export class CifarResNet extends Module {
  readonly config: Required<CifarResNetOptions>;

  constructor(o: CifarResNetOptions = {}) {
    super();
    const depth = o.depth ?? 20;
    if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
      throw new RangeError(`CifarResNet: depth must be 6n+2 (8, 14, 20, 32, 44, 56, 110), got ${depth}`);
    }
    const width = o.widthMultiplier ?? 1;
    if (!(width > 0)) throw new RangeError(`CifarResNet: widthMultiplier must be positive, got ${width}`);
    this.config = { depth, widthMultiplier: width, inChannels: o.inChannels ?? 3, numClasses: o.numClasses ?? 10 };
    const blocks = (depth - 2) / 6;
    const widths = [16, 32, 64].map((c) => Math.max(1, Math.round(c * width)));
    this.add('conv1', new Conv2d(this.config.inChannels, widths[0]!, 3, { padding: 1, bias: false }));
    this.add('bn1', new BatchNorm2d(widths[0]!));
    this.add('relu', new ReLU());
    let inC = widths[0]!;
    widths.forEach((planes, stage) => {
      const layer = new Sequential();
      for (let b = 0; b < blocks; b++) {
        layer.add(new BasicBlock(inC, planes, b === 0 && stage > 0 ? 2 : 1));
        inC = planes;
      }
      this.add(`layer${stage + 1}`, layer);
    });
    this.add('avgpool', new AdaptiveAvgPool2d(1));
    this.add('fc', new Linear(inC, this.config.numClasses));
    initResNetWeights(this);
  }

  forward(x: Tensor): Tensor {
    const features = pipe(x, ['conv1', 'bn1', 'relu', 'layer1', 'layer2', 'layer3', 'avgpool'].map((n) => this.child(n)));
    const flat = features.flatten(1);
    features.dispose();
    return this.child('fc').forward(flat);
  }
}

export const resnet20 = (o: Omit<CifarResNetOptions, 'depth'> = {}): CifarResNet => new CifarResNet({ ...o, depth: 20 });
export const resnet32 = (o: Omit<CifarResNetOptions, 'depth'> = {}): CifarResNet => new CifarResNet({ ...o, depth: 32 });
export const resnet56 = (o: Omit<CifarResNetOptions, 'depth'> = {}): CifarResNet => new CifarResNet({ ...o, depth: 56 });

registerTransient({ containers: [BasicBlock] });
