// SSD training targets and loss (torchvision 0.14's SSDMatcher + SSD.compute_loss, the SSD paper's
// MultiBox loss): each default box takes the ground truth it overlaps most if IoU ≥ 0.5, and every
// ground truth claims its best default box regardless; positives get smooth-L1 on the encoded
// offsets and cross-entropy on their class; negatives are the highest-loss background boxes,
// 3 per positive (hard-negative mining); both sums are divided by the number of positives.
import { arange, full, stack, tidy, zeros, F, type Tensor } from '../tensor/index.js';
import { aten } from '../tensor/ops.js';
import { encodeBoxes, SSD_BOX_WEIGHTS, type BoxWeights } from './box-coder.js';
import { boxIou } from './boxes.js';

/** Ground truth of one image: boxes [G, 4] (corners, model-input pixels) and labels [G] (int64, 1 … C−1). */
export interface DetectionTarget { boxes: Tensor; labels: Tensor }

/** Index of the matched ground truth per default box [A] (int64), −1 for background. */
export function matchDefaultBoxes(gtBoxes: Tensor, anchors: Tensor, iouThreshold = 0.5): Tensor {
  return tidy(() => {
    const numAnchors = anchors.shape[0]!, numGt = gtBoxes.shape[0]!;
    if (numGt === 0) return full([numAnchors], -1, { dtype: 'int64' });
    const iou = boxIou(gtBoxes, anchors); // [G, A]
    const { values, indices } = iou.maxDim(0);
    const matches = indices.where(values.ge(iouThreshold), full([numAnchors], -1, { dtype: 'int64' }));
    // Every ground truth keeps its best default box even below the threshold.
    const best = iou.maxDim(1).indices;
    aten('index_put_').call([matches.handle, [best.handle], arange(0, numGt, 1, { dtype: 'int64' }).handle, false]);
    return matches;
  });
}

export interface MultiboxLossOptions {
  iouThreshold?: number;
  /** Negatives per positive (3). */
  negPosRatio?: number;
  boxWeights?: BoxWeights;
}

export interface MultiboxLoss {
  /** Smooth-L1 over positives / #positives. */
  bboxRegression: Tensor;
  /** Cross-entropy over positives and mined negatives / #positives. */
  classification: Tensor;
  numPositives: number;
}

/** Losses of head outputs `boxRegression` [N, A, 4] and `clsLogits` [N, A, C] against one target per image. */
export function multiboxLoss(boxRegression: Tensor, clsLogits: Tensor, anchors: Tensor, targets: readonly DetectionTarget[], o: MultiboxLossOptions = {}): MultiboxLoss {
  const n = boxRegression.shape[0]!, numAnchors = anchors.shape[0]!, numClasses = clsLogits.shape[2]!;
  if (targets.length !== n) throw new RangeError(`multiboxLoss: ${targets.length} targets for a batch of ${n}`);
  return tidy(() => {
    const gtBoxes: Tensor[] = [], clsTargets: Tensor[] = [];
    for (const t of targets) {
      const matched = matchDefaultBoxes(t.boxes, anchors, o.iouThreshold ?? 0.5);
      const fg = matched.ge(0);
      if (t.boxes.shape[0] === 0) {
        gtBoxes.push(anchors);
        clsTargets.push(zeros([numAnchors], { dtype: 'int64' }));
        continue;
      }
      const idx = matched.clamp(0);
      // Background rows get their own anchor as "ground truth" so the (masked-out) offsets stay finite.
      gtBoxes.push(t.boxes.indexSelect(0, idx).where(fg.unsqueeze(1), anchors));
      clsTargets.push(t.labels.indexSelect(0, idx).where(fg, zeros([], { dtype: 'int64' })));
    }
    const cls = stack(clsTargets); // [N, A]
    const fg = cls.gt(0);
    const numPositives = fg.sum().item();
    const denom = Math.max(1, numPositives);
    const regTargets = encodeBoxes(stack(gtBoxes), anchors.unsqueeze(0), o.boxWeights ?? SSD_BOX_WEIGHTS);
    const bboxRegression = F.smoothL1Loss(boxRegression, regTargets, { reduction: 'none' }).sum(-1).mul(fg.to(boxRegression.dtype)).sum().div(denom);

    const clsLoss = F.crossEntropy(clsLogits.reshape([-1, numClasses]), cls.reshape([-1]), { reduction: 'none' }).view([n, numAnchors]);
    // Hard negatives: rank background boxes by loss; positives sort last (−∞).
    const negLoss = clsLoss.detach().maskedFill(fg, -Infinity);
    const rank = negLoss.sort(1, true).indices.sort(1).indices;
    const numNeg = fg.sum(1, true).mul(o.negPosRatio ?? 3);
    const bg = rank.lt(numNeg);
    const weight = fg.to(clsLoss.dtype).add(bg.to(clsLoss.dtype)); // a positive mined as negative (too few negatives) counts twice, as torchvision
    const classification = clsLoss.mul(weight).sum().div(denom);
    return { bboxRegression, classification, numPositives };
  });
}
