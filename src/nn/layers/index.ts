export { Conv2d, type Conv2dOptions } from './conv.js';
export { Linear, Identity, Flatten } from './linear.js';
export { ReLU, ReLU6, GELU, Tanh, Hardswish, Hardsigmoid, Dropout } from './activation.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pooling.js';
export { BatchNorm2d, LayerNorm, type BatchNormOptions, type LayerNormOptions } from './norm.js';
export { Embedding } from './embedding.js';
export { Sequential } from './sequential.js';
