// SSD inference postprocessing with torchvision 0.14's semantics: softmax class scores, decode
// each default box, clip to the image, per class keep scores > scoreThresh and the top
// `topkCandidates`, per-class NMS, then the `detectionsPerImage` best over all classes.
// Classes run as one batch (NMS included); only the loop over images is in JS.
import { arange, noGrad, tidy, F, type Tensor } from '../tensor/index.js';
import { decodeBoxes, SSD_BOX_WEIGHTS, type BoxWeights } from './box-coder.js';
import { clipBoxes } from './boxes.js';
import { nmsSortedMask } from './nms.js';

export interface PostprocessOptions {
  /** Minimum class probability of a candidate (torchvision SSD: 0.01; SSDLite: 0.001). */
  scoreThresh?: number;
  /** IoU above which a lower-scored box of the same class is suppressed (0.45; SSDLite 0.55). */
  nmsThresh?: number;
  /** Candidates per class before NMS (400; SSDLite 300). */
  topkCandidates?: number;
  /** Detections kept per image (200; SSDLite 300). */
  detectionsPerImage?: number;
  boxWeights?: BoxWeights;
}

/** One image's detections, best first; boxes are (x1, y1, x2, y2) pixels of the model input. */
export interface Detections {
  boxes: Float32Array;
  scores: Float32Array;
  /** Class indices 1 … C−1 (0 is background). */
  labels: Int32Array;
  count: number;
}

export const SSD_POSTPROCESS: Required<Omit<PostprocessOptions, 'boxWeights'>> = { scoreThresh: 0.01, nmsThresh: 0.45, topkCandidates: 400, detectionsPerImage: 200 };

/**
 * Detections from head outputs: `boxRegression` [N, A, 4], `clsLogits` [N, A, C] against `anchors`
 * [A, 4] for images of `imageSize` [h, w]. Returns plain arrays (no tensors escape).
 */
export function postprocessDetections(boxRegression: Tensor, clsLogits: Tensor, anchors: Tensor, imageSize: readonly [number, number], o: PostprocessOptions = {}): Detections[] {
  const opt = { ...SSD_POSTPROCESS, ...o };
  const out: Detections[] = [];
  noGrad(() => {
    for (let n = 0; n < boxRegression.shape[0]!; n++) {
      out.push(tidy(() => {
        const scores = F.softmax(clsLogits.select(0, n), -1); // [A, C]
        const numClasses = scores.shape[1]!, numAnchors = scores.shape[0]!;
        const boxes = clipBoxes(decodeBoxes(boxRegression.select(0, n), anchors, o.boxWeights ?? SSD_BOX_WEIGHTS), imageSize[0], imageSize[1]);
        const fg = scores.narrow(1, 1, numClasses - 1).transpose(0, 1); // [C−1, A]
        const k = Math.min(opt.topkCandidates, numAnchors);
        const { values, indices } = fg.topk(k, 1); // sorted, descending
        const valid = values.gt(opt.scoreThresh);
        const cand = boxes.indexSelect(0, indices.flatten()).view([numClasses - 1, k, 4]);
        const keep = nmsSortedMask(cand, valid, opt.nmsThresh);
        const keptScores = values.maskedSelect(keep);
        const keptBoxes = cand.index([keep]); // [M, 4]
        const keptLabels = arange(1, numClasses, 1, { dtype: 'int64' }).unsqueeze(1).expand([numClasses - 1, k]).maskedSelect(keep);
        const m = Math.min(opt.detectionsPerImage, keptScores.shape[0]!);
        const best = keptScores.topk(m, 0).indices;
        return {
          boxes: keptBoxes.indexSelect(0, best).contiguous().dataSync() as Float32Array,
          scores: keptScores.indexSelect(0, best).contiguous().dataSync() as Float32Array,
          labels: Int32Array.from(keptLabels.indexSelect(0, best).toArray()),
          count: m,
        };
      }));
    }
  });
  return out;
}
