// Public nn API: import { Module, Conv2d, … } from 'catkit/nn'.
export { Module, type AnyModule } from './module.js';
export { StateDictError, type LoadOptions, type LoadResult } from './state-dict.js';
export { SafetensorsError, encodeSafetensors, decodeSafetensors, saveSafetensors, loadSafetensors, MAX_HEADER_BYTES } from './safetensors.js';
export * from './layers/index.js';
export * as init from './init.js';
export { runChain, setEvalFusion, evalFusionEnabled, type EvalFusion } from './eval-fusion.js';
export { registerTransient, isTransient } from './transient.js';
