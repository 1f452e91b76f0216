// Public models API: import { buildModel, resnet18, … } from 'catkit/models'. Builders keep torchvision's
// parameter names, so PyTorch checkpoints load by name.
export { buildModel, MODEL_NAMES, modelIO, UnknownModelError, type ModelSpec } from './registry.js';
export { CifarResNet, BasicBlock as CifarBasicBlock, resnet20, resnet32, resnet56, type CifarResNetOptions } from './resnet-cifar.js';
export { ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, type BlockClass, type ResidualBlock, type ResNetOptions } from './resnet.js';
export {
  MobileNetV2, InvertedResidual, ConvBNReLU6, mobilenetV2, makeDivisible, MOBILENET_V2_SETTING,
  type InvertedResidualSetting, type MobileNetV2Options,
} from './mobilenetv2.js';
export {
  importTorchModel, readTorchStateDict, loadTorchStateDict, specFromStateDict, formatImport, ImportError,
  type ImportResult, type LoadTorchOptions,
} from './import.js';
export { importKerasMobileNetV2, kerasMobileNetV2, type KerasImportOptions, type KerasMobileNetV2 } from './keras-mobilenetv2.js';
export { buildDetector, DETECTOR_NAMES, isDetector, type DetectorSpec } from './detection/registry.js';
// BERT with Hugging Face names (config.json, Hub folders), as a namespace: its names are BERT's own.
export * as bert from './bert/index.js';
