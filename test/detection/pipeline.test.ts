// The detection pipeline against torchvision 0.14 (python oracle) on random inputs: batched NMS vs
// torchvision.ops.nms / batched_nms, default-box matching vs SSDMatcher, box coding vs BoxCoder, and
// the MultiBox loss (value and gradients) vs SSD.compute_loss with hard-negative mining.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispose, manualSeed, memory, rand, randn, stack, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { DefaultBoxGenerator } from '../../src/detection/default-boxes.js';
import { nms, nmsSortedMask } from '../../src/detection/nms.js';
import { decodeBoxes, encodeBoxes } from '../../src/detection/box-coder.js';
import { matchDefaultBoxes, multiboxLoss } from '../../src/detection/multibox-loss.js';
import { torchOracle, maxRelError } from '../helpers/torch-oracle.js';

/** Random boxes [n, 4] inside a size×size image, clustered so that NMS has work to do. */
function randomBoxes(n: number, size: number): Tensor {
  return tidy(() => {
    const c = rand([n, 2]).mul(size * 0.6).add(size * 0.2).floor().div(8).floor().mul(8).add(rand([n, 2]).mul(6));
    const wh = rand([n, 2]).mul(size * 0.3).add(4);
    return stack([c.select(1, 0).sub(wh.select(1, 0).div(2)), c.select(1, 1).sub(wh.select(1, 1).div(2)), c.select(1, 0).add(wh.select(1, 0).div(2)), c.select(1, 1).add(wh.select(1, 1).div(2))], 1).to('float64');
  });
}

test('nms and per-class batched NMS keep exactly torchvision\'s boxes', () => {
  manualSeed(11);
  const live = memory().numTensors;
  tidy(() => {
    const boxes = randomBoxes(400, 100), scores = rand([400]).to('float64'), labels = rand([400]).mul(5).floor();
    const ref = torchOracle(`
import torchvision
out['keep'] = torchvision.ops.nms(inp['boxes'], inp['scores'], 0.45)
out['bkeep'] = torchvision.ops.batched_nms(inp['boxes'], inp['scores'], inp['labels'].long(), 0.3)
`, { boxes, scores, labels });
    const keep = nms(boxes, scores, 0.45).toArray();
    assert.ok(keep.length > 20 && keep.length < 380, `NMS removed some but not all boxes (${keep.length})`);
    assert.deepEqual(keep, ref.keep.data);
    // Per class: groups of [classes, K] sorted by score, as postprocessing runs them.
    const perClass: number[] = [];
    const k = 400;
    const groups = [0, 1, 2, 3, 4].map((c) => {
      const m = labels.eq(c);
      const s = scores.where(m, -1);
      const { values, indices } = s.sort(0, true);
      return { b: boxes.indexSelect(0, indices), v: values.gt(-1), idx: indices };
    });
    const mask = nmsSortedMask(stack(groups.map((g) => g.b)), stack(groups.map((g) => g.v)), 0.3);
    groups.forEach((g, c) => perClass.push(...g.idx.maskedSelect(mask.select(0, c)).toArray()));
    assert.equal(mask.shape[1], k);
    const byScore = (ids: number[]) => [...ids].sort((a, b) => scores.select(0, b).item() - scores.select(0, a).item());
    assert.deepEqual(byScore(perClass), ref.bkeep.data);
  });
  assert.equal(memory().numTensors, live);
});

test('box coding, matching and the MultiBox loss equal torchvision\'s SSD (values and gradients)', () => {
  manualSeed(5);
  const gen = new DefaultBoxGenerator({ aspectRatios: [[2], [2, 3]], scales: [0.2, 0.5, 0.9] });
  try {
    tidy(() => {
      const anchors = gen.boxes([64, 64], [[8, 8], [4, 4]]).to('float64'); // 8·8·4 + 4·4·6 = 352
      const a = anchors.shape[0]!;
      const gts = [randomBoxes(3, 64).clamp(0, 64), randomBoxes(1, 64).clamp(0, 64), tensor([], [0, 4], { dtype: 'float64' })];
      const labels = [tensor([3, 1, 4], [3], { dtype: 'int64' }), tensor([2], [1], { dtype: 'int64' }), tensor([], [0], { dtype: 'int64' })];
      const reg = randn([3, a, 4], { dtype: 'float64' }).mul(0.5).requiresGrad_();
      const logits = randn([3, a, 5], { dtype: 'float64' }).mul(2).requiresGrad_();
      const ref = torchOracle(`
from types import SimpleNamespace
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.ssd import SSD
from torchvision.ops import boxes as box_ops
anchors = inp['anchors']
gts = [inp['gt0'], inp['gt1'], inp['gt2'].reshape(0, 4)]
labels = [inp['l0'].long(), inp['l1'].long(), inp['l2'].reshape(0).long()]
matcher = det_utils.SSDMatcher(0.5)
matched = [matcher(box_ops.box_iou(g, anchors)) if g.numel() else torch.full((anchors.size(0),), -1, dtype=torch.int64) for g in gts]
coder = det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
reg = inp['reg'].clone().requires_grad_()
logits = inp['logits'].clone().requires_grad_()
fake = SimpleNamespace(box_coder=coder, neg_to_pos_ratio=3.0)
losses = SSD.compute_loss(fake, [{'boxes': g, 'labels': l} for g, l in zip(gts, labels)], {'bbox_regression': reg, 'cls_logits': logits}, [anchors] * 3, matched)
(losses['bbox_regression'] + 2 * losses['classification']).backward()
out['matched'] = torch.stack(matched)
out['bbox'] = losses['bbox_regression'].item()
out['cls'] = losses['classification'].item()
out['greg'] = reg.grad
out['glogits'] = logits.grad
out['enc'] = coder.encode_single(gts[0][[0, 1, 2, 0]], anchors[:4])
out['dec'] = coder.decode_single(inp['reg'][0], anchors)
`, { anchors, gt0: gts[0]!, gt1: gts[1]!, gt2: { shape: [0], data: [] }, l0: labels[0]!, l1: labels[1]!, l2: { shape: [0], data: [] }, reg, logits });
      const matched = gts.map((g) => matchDefaultBoxes(g, anchors));
      assert.deepEqual(stack(matched).toArray(), ref.matched.data);
      assert.ok(matched[0]!.ge(0).sum().item() >= 3, 'every ground truth matched at least one default box');

      const enc = encodeBoxes(gts[0]!.indexSelect(0, tensor([0, 1, 2, 0], [4], { dtype: 'int64' })), anchors.narrow(0, 0, 4));
      assert.ok(maxRelError(enc.toArray(), ref.enc.data) < 1e-12);
      assert.ok(maxRelError(decodeBoxes(reg.select(0, 0).detach(), anchors).toArray(), ref.dec.data) < 1e-12);

      const loss = multiboxLoss(reg, logits, anchors, gts.map((b, i) => ({ boxes: b, labels: labels[i]! })));
      assert.ok(Math.abs(loss.bboxRegression.item() - ref.bbox) < 1e-10, `bbox loss ${loss.bboxRegression.item()} vs ${ref.bbox}`);
      assert.ok(Math.abs(loss.classification.item() - ref.cls) < 1e-10, `cls loss ${loss.classification.item()} vs ${ref.cls}`);
      loss.bboxRegression.add(loss.classification.mul(2)).backward();
      assert.ok(maxRelError(reg.grad!.toArray(), ref.greg.data) < 1e-10);
      assert.ok(maxRelError(logits.grad!.toArray(), ref.glogits.data) < 1e-10);
      dispose([reg.grad, logits.grad]);
    });
  } finally { gen.dispose(); }
});
