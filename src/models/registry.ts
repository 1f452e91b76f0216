// Model registry: the CLI's --model names and their builders.
import type { Module } from '../nn/index.js';
import { CifarResNet } from './resnet-cifar.js';

export interface ModelSpec { inChannels: number; numClasses: number; widthMultiplier?: number }
type Builder = (spec: ModelSpec) => Module;

const MODELS = new Map<string, { build: Builder; description: string }>([
  ['resnet8', { build: (s) => new CifarResNet({ ...s, depth: 8 }), description: 'CIFAR-layout ResNet-8 (16/32/64 channels)' }],
  ['resnet14', { build: (s) => new CifarResNet({ ...s, depth: 14 }), description: 'CIFAR-layout ResNet-14' }],
  ['resnet20', { build: (s) => new CifarResNet({ ...s, depth: 20 }), description: 'CIFAR-layout ResNet-20' }],
  ['resnet32', { build: (s) => new CifarResNet({ ...s, depth: 32 }), description: 'CIFAR-layout ResNet-32' }],
  ['resnet56', { build: (s) => new CifarResNet({ ...s, depth: 56 }), description: 'CIFAR-layout ResNet-56' }],
]);

export const MODEL_NAMES = (): string[] => [...MODELS.keys()];

export class UnknownModelError extends Error {
  override readonly name = 'UserError';
}

export function buildModel(name: string, spec: ModelSpec): Module {
  const entry = MODELS.get(name);
  if (!entry) throw new UnknownModelError(`unknown model '${name}'; known models: ${MODEL_NAMES().join(', ')}`);
  return entry.build(spec);
}
