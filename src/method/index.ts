// The CAT method: quantizers with straight-through gradients, learned clipping, soft entropy,
// the L1/L2 alternative, the weight entropy term, calibration and gradual quantization.
export * from './quantize.js';
export * from './soft-entropy.js';
export * from './act-quant.js';
export * from './weight-quant.js';
export * from './cat-model.js';
