// Public detection API (import from 'catkit/dist/src/detection/index.js'): box ops, SSD default boxes,
// box coding, batched NMS, postprocessing, MultiBox loss, and the engine-free VOC evaluator.
export { boxArea, boxIou, clipBoxes } from './boxes.js';
export { DefaultBoxGenerator, type DefaultBoxOptions } from './default-boxes.js';
export { encodeBoxes, decodeBoxes, SSD_BOX_WEIGHTS, BBOX_XFORM_CLIP, type BoxWeights } from './box-coder.js';
export { nms, nmsSortedMask } from './nms.js';
export { postprocessDetections, SSD_POSTPROCESS, type Detections, type PostprocessOptions } from './postprocess.js';
export { matchDefaultBoxes, multiboxLoss, type DetectionTarget, type MultiboxLoss, type MultiboxLossOptions } from './multibox-loss.js';
export { evaluateVoc, vocAp, vocIou, type Box, type VocImageResult, type VocEvalOptions, type VocEvalResult, type VocClassResult } from './voc-eval.js';
