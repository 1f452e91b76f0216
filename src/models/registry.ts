// Model registry: the CLI's --model names and their builders.
import type { Module } from '../nn/index.js';
import { CifarResNet } from './resnet-cifar.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';
import { mobilenetV2 } from './mobilenetv2.js';
import { CatkitError } from '../errors.js';

export interface ModelSpec { inChannels: number; numClasses: number; widthMultiplier?: number }
type Builder = (spec: ModelSpec) => Module;

interface Entry {
  build: Builder;
  description: string;
  /** State-dict keys of the first conv's weight ([out, in, kh, kw]) and the classifier's ([classes, in]). */
  io: { stem: string; head: string };
}

export class UnknownModelError extends CatkitError {
  override name = 'UnknownModelError';
  constructor(message: string) { super('model_unknown', message, { hint: 'list the model names with `catkit models`' }); }
}

/** torchvision's ResNets have fixed stage widths (that is what makes their weights load). */
function fixedWidth(name: string, build: (s: ModelSpec) => Module): Builder {
  return (s) => {
    if ((s.widthMultiplier ?? 1) !== 1) {
      throw new UnknownModelError(`${name} has torchvision's fixed widths; the width multiplier must be 1, got ${s.widthMultiplier}`);
    }
    return build(s);
  };
}

const RESNET_IO = { stem: 'conv1.weight', head: 'fc.weight' };
const MODELS = new Map<string, Entry>([
  ['resnet8', { build: (s) => new CifarResNet({ ...s, depth: 8 }), description: 'CIFAR-layout ResNet-8 (16/32/64 channels)', io: RESNET_IO }],
  ['resnet14', { build: (s) => new CifarResNet({ ...s, depth: 14 }), description: 'CIFAR-layout ResNet-14', io: RESNET_IO }],
  ['resnet20', { build: (s) => new CifarResNet({ ...s, depth: 20 }), description: 'CIFAR-layout ResNet-20', io: RESNET_IO }],
  ['resnet32', { build: (s) => new CifarResNet({ ...s, depth: 32 }), description: 'CIFAR-layout ResNet-32', io: RESNET_IO }],
  ['resnet56', { build: (s) => new CifarResNet({ ...s, depth: 56 }), description: 'CIFAR-layout ResNet-56', io: RESNET_IO }],
  ['resnet18', { build: fixedWidth('resnet18', resnet18), description: 'ImageNet-layout ResNet-18 (torchvision names)', io: RESNET_IO }],
  ['resnet34', { build: fixedWidth('resnet34', resnet34), description: 'ImageNet-layout ResNet-34 (torchvision names)', io: RESNET_IO }],
  ['resnet50', { build: fixedWidth('resnet50', resnet50), description: 'ImageNet-layout ResNet-50, Bottleneck v1.5 (torchvision names)', io: RESNET_IO }],
  ['mobilenet_v2', {
    build: (s) => mobilenetV2({ numClasses: s.numClasses, inChannels: s.inChannels, widthMultiplier: s.widthMultiplier ?? 1 }),
    description: 'MobileNetV2 (torchvision names; --width scales channels)', io: { stem: 'features.0.0.weight', head: 'classifier.1.weight' },
  }],
  ['mobilenet_v2_keras', {
    build: (s) => mobilenetV2({ numClasses: s.numClasses, inChannels: s.inChannels, widthMultiplier: s.widthMultiplier ?? 1, padding: 'keras', bnEps: 1e-3 }),
    description: "MobileNetV2 with Keras conventions (bottom/right stride-2 padding, BN eps 1e-3) for imported Keras/TF.js weights", io: { stem: 'features.0.0.weight', head: 'classifier.1.weight' },
  }],
]);

export const MODEL_NAMES = (): string[] => [...MODELS.keys()];

function entry(name: string): Entry {
  const e = MODELS.get(name);
  if (!e) throw new UnknownModelError(`unknown model '${name}'; known models: ${MODEL_NAMES().join(', ')}`);
  return e;
}

export function buildModel(name: string, spec: ModelSpec): Module {
  return entry(name).build(spec);
}

/** Where a model's input channels and class count can be read off a state dict (see import.ts). */
export const modelIO = (name: string): { stem: string; head: string } => ({ ...entry(name).io });
