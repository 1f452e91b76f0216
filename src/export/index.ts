// catkit/export: the layer-graph description of a network, the .catk model file (writer and
// validating reader), weight grids and the ONNX writer. Pure TypeScript, no engine.
export * from './graph.js';
export * from './catk.js';
export * from './weights.js';
export { writeOnnx, ONNX_OPSET, type OnnxOptions } from './onnx.js';
