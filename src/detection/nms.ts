// Non-maximum suppression as batched tensor ops. Greedy NMS keeps box i (in descending score
// order) iff no kept box j < i overlaps it by more than the threshold. With S[i, j] = (IoU > t,
// j < i), the keep vector is the unique fixed point of keep = valid ∧ ¬(S·keep > 0): entry i only
// depends on entries before it, so iterating from keep = valid fixes at least one more leading
// entry per round and stops at exactly greedy NMS's answer (Cluster-NMS, Zheng et al. 2021),
// usually within a few rounds. All groups (classes) run at once as one batched matrix product.
import { arange, tidy, type Tensor } from '../tensor/index.js';
import { boxIou } from './boxes.js';

/**
 * Keep-mask [G, K] for boxes [G, K, 4] already sorted by descending score within each group;
 * `valid` [G, K] (bool) marks real candidates (padding never suppresses anything and is never kept).
 */
export function nmsSortedMask(boxes: Tensor, valid: Tensor, iouThreshold: number): Tensor {
  return tidy(() => {
    const k = boxes.shape[1]!;
    if (k === 0) return valid.clone();
    const idx = arange(0, k);
    const earlier = idx.unsqueeze(0).lt(idx.unsqueeze(1)); // [K, K]: column j comes before row i
    const validF = valid.to('float32');
    const s = boxIou(boxes, boxes).gt(iouThreshold).logicalAnd(earlier.unsqueeze(0)).to('float32').mul(validF.unsqueeze(1));
    let keep = validF.unsqueeze(-1); // [G, K, 1]
    for (let round = 0; round <= k; round++) {
      const next = s.bmm(keep).eq(0).to('float32').mul(validF.unsqueeze(-1));
      if (next.eq(keep).all().item()) break;
      keep = next;
    }
    return keep.squeeze(-1).gt(0);
  });
}

/** Greedy NMS of boxes [N, 4] with scores [N]: indices of the kept boxes, by descending score (torchvision.ops.nms). */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Tensor {
  return tidy(() => {
    const { indices } = scores.sort(0, true);
    const sorted = boxes.indexSelect(0, indices).unsqueeze(0);
    const mask = nmsSortedMask(sorted, scores.gt(-Infinity).unsqueeze(0), iouThreshold).squeeze(0);
    return indices.maskedSelect(mask);
  });
}
