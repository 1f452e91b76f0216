// Box geometry on the engine: boxes are [..., 4] tensors in (x1, y1, x2, y2) pixel corners, as in
// torchvision.ops (no +1 on widths; the VOC evaluator's +1 convention lives in voc-eval.ts only).
import { stack, tidy, type Tensor } from '../tensor/index.js';

function corners(b: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  const last = b.rank - 1;
  return [b.select(last, 0), b.select(last, 1), b.select(last, 2), b.select(last, 3)];
}

/** (x2 − x1)·(y2 − y1) of boxes [..., 4] → [...]. */
export function boxArea(b: Tensor): Tensor {
  return tidy(() => {
    const [x1, y1, x2, y2] = corners(b);
    return x2.sub(x1).mul(y2.sub(y1));
  });
}

/**
 * Intersection over union of every pair: a [..., N, 4] and b [..., M, 4] → [..., N, M] (leading dims
 * broadcast, so one call covers a batch of groups, e.g. all classes of an image at once).
 */
export function boxIou(a: Tensor, b: Tensor): Tensor {
  return tidy(() => {
    const ea = a.unsqueeze(-2), eb = b.unsqueeze(-3); // [..., N, 1, 4], [..., 1, M, 4]
    const lo = ea.narrow(-1, 0, 2).maximum(eb.narrow(-1, 0, 2));
    const hi = ea.narrow(-1, 2, 2).minimum(eb.narrow(-1, 2, 2));
    const wh = hi.sub(lo).clamp(0);
    const inter = wh.select(-1, 0).mul(wh.select(-1, 1));
    const union = boxArea(a).unsqueeze(-1).add(boxArea(b).unsqueeze(-2)).sub(inter);
    return inter.div(union);
  });
}

/** Clamps x to [0, width] and y to [0, height] (torchvision's clip_boxes_to_image). */
export function clipBoxes(b: Tensor, height: number, width: number): Tensor {
  return tidy(() => {
    const [x1, y1, x2, y2] = corners(b);
    return stack([x1.clamp(0, width), y1.clamp(0, height), x2.clamp(0, width), y2.clamp(0, height)], -1);
  });
}
