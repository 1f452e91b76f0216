// catkit/runtime: run a .catk model file on TensorFlow.js (cpu, wasm or webgl) with CAT's activation
// quantizers and live feature-map coding. No libtorch, no Node APIs: it also runs in a browser.
export { CatkRuntime, RuntimeError, type Prediction, type PredictOptions, type SiteTraffic } from './runtime.js';
export { readCatk, readCatkHeader, CatkError, type CatkModel, type CatkMeta } from '../export/catk.js';
export type { Graph, GraphNode, SiteSpec } from '../export/graph.js';
