// SSD box coding (torchvision's BoxCoder with weights 10, 10, 5, 5 = the SSD paper's variances
// 0.1/0.2): offsets of a box relative to its default box, (dx, dy) = w_xy·Δcentre/size and
// (dw, dh) = w_wh·log(size ratio). Works on [..., 4] tensors that broadcast against the anchors.
import { stack, tidy, type Tensor } from '../tensor/index.js';

export type BoxWeights = readonly [number, number, number, number];
/** 1/0.1, 1/0.1, 1/0.2, 1/0.2. */
export const SSD_BOX_WEIGHTS: BoxWeights = [10, 10, 5, 5];
/** Largest log-scale a decoded offset may take (torchvision: log(1000/16)), so exp() cannot overflow. */
export const BBOX_XFORM_CLIP = Math.log(1000 / 16);

function centres(b: Tensor): { cx: Tensor; cy: Tensor; w: Tensor; h: Tensor } {
  const last = b.rank - 1;
  const x1 = b.select(last, 0), y1 = b.select(last, 1);
  const w = b.select(last, 2).sub(x1), h = b.select(last, 3).sub(y1);
  return { cx: x1.add(w.mul(0.5)), cy: y1.add(h.mul(0.5)), w, h };
}

/** Regression targets of boxes `gt` against `anchors` (both corners, same or broadcastable shapes). */
export function encodeBoxes(gt: Tensor, anchors: Tensor, weights: BoxWeights = SSD_BOX_WEIGHTS): Tensor {
  return tidy(() => {
    const g = centres(gt), a = centres(anchors);
    const [wx, wy, ww, wh] = weights;
    return stack([
      g.cx.sub(a.cx).mul(wx).div(a.w),
      g.cy.sub(a.cy).mul(wy).div(a.h),
      g.w.div(a.w).log().mul(ww),
      g.h.div(a.h).log().mul(wh),
    ], -1);
  });
}

/** Boxes (corners) from offsets `codes` [..., A, 4] relative to `anchors` [A, 4]. */
export function decodeBoxes(codes: Tensor, anchors: Tensor, weights: BoxWeights = SSD_BOX_WEIGHTS): Tensor {
  return tidy(() => {
    const a = centres(anchors);
    const last = codes.rank - 1;
    const [wx, wy, ww, wh] = weights;
    const dx = codes.select(last, 0).div(wx), dy = codes.select(last, 1).div(wy);
    const dw = codes.select(last, 2).div(ww).clamp(null, BBOX_XFORM_CLIP), dh = codes.select(last, 3).div(wh).clamp(null, BBOX_XFORM_CLIP);
    const cx = dx.mul(a.w).add(a.cx), cy = dy.mul(a.h).add(a.cy);
    const hw = dw.exp().mul(a.w).mul(0.5), hh = dh.exp().mul(a.h).mul(0.5);
    return stack([cx.sub(hw), cy.sub(hh), cx.add(hw), cy.add(hh)], -1);
  });
}
