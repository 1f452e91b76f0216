// The VOC evaluator: a hand-computed case (one class with known TP/FP/difficult steps, a second
// class, a class without ground truth), the +1 pixel IoU, and agreement to 1e-6 with an independent
// Python implementation written from the devkit's definition, on randomized detections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { evaluateVoc, vocIou, type Box, type VocImageResult } from '../../src/detection/voc-eval.js';
import { CatkitError } from '../../src/errors.js';

test('hand-computed: TP, duplicate, difficult, miss; both metrics; +1 pixel IoU', () => {
  assert.equal(vocIou([0, 0, 9, 9], [0, 0, 4, 9]), 0.5); // 5·10 / 10·10 (without +1 it would be 36/81)
  const images: VocImageResult[] = [
    { gtBoxes: [[0, 0, 9, 9], [20, 20, 29, 29], [30, 30, 39, 39]], gtLabels: [1, 1, 2],
      boxes: [[0, 0, 9, 9], [0, 0, 9, 9], [30, 30, 39, 44]], labels: [1, 1, 2], scores: [0.9, 0.8, 0.4] },
    { gtBoxes: [[0, 0, 9, 9], [50, 50, 59, 59]], gtLabels: [1, 1], gtDifficult: [false, true],
      boxes: [[50, 50, 59, 59], [100, 100, 110, 110], [0, 0, 9, 9], [5, 5, 9, 9]], labels: [1, 1, 1, 3], scores: [0.7, 0.6, 0.5, 0.3] },
  ];
  // Class 1: TP, FP (duplicate), ignored (difficult), FP, TP with 3 positives →
  // recall 1/3,1/3,1/3,1/3,2/3; precision 1, .5, .5, 1/3, .5 → 11-point: (4·1 + 3·.5)/11 = .5; area: 1/3 + 1/3·.5 = .5.
  // Class 2: IoU 100/150 > .5 → AP 1. Class 3: no ground truth → AP undefined, left out of the mean.
  for (const use07Metric of [true, false]) {
    const r = evaluateVoc(images, { use07Metric });
    assert.deepEqual(r.perClass.map((c) => c.label), [1, 2, 3]);
    assert.ok(Math.abs(r.perClass[0]!.ap! - 0.5) < 1e-12, `class 1 AP ${r.perClass[0]!.ap}`);
    assert.equal(r.perClass[0]!.positives, 3);
    assert.equal(r.perClass[0]!.truePositives, 2);
    assert.ok(Math.abs(r.perClass[1]!.ap! - 1) < 1e-12);
    assert.equal(r.perClass[2]!.ap, null);
    assert.ok(Math.abs(r.map - 0.75) < 1e-12);
  }
  // A recall curve where the two metrics differ: one TP at rank 2 of 2 positives → 11-pt (6·.5)/11, area .25.
  const one: VocImageResult[] = [{ gtBoxes: [[0, 0, 9, 9], [20, 20, 29, 29]], gtLabels: [1, 1], boxes: [[60, 60, 70, 70], [0, 0, 9, 9]], labels: [1, 1], scores: [0.9, 0.8] }];
  assert.ok(Math.abs(evaluateVoc(one, { use07Metric: true }).map - 3 / 11) < 1e-12);
  assert.ok(Math.abs(evaluateVoc(one, { use07Metric: false }).map - 0.25) < 1e-12);
  assert.throws(() => evaluateVoc([{ ...one[0]!, labels: [1] }]), (e: unknown) => e instanceof CatkitError && /image 0: 2 predicted boxes, 1 labels/.test(e.message));
});

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PYTHON_VOC = `
import json, sys
data = json.load(sys.stdin)

def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1.0
    h = min(a[3], b[3]) - max(a[1], b[1]) + 1.0
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0] + 1.0) * (a[3] - a[1] + 1.0) + (b[2] - b[0] + 1.0) * (b[3] - b[1] + 1.0) - inter)

def average_precision(rec, prec, eleven):
    if eleven:
        total = 0.0
        for k in range(11):
            t = k * 0.1
            total += max([p for r, p in zip(rec, prec) if r >= t], default=0.0) / 11.0
        return total
    r = [0.0] + rec + [1.0]
    p = [0.0] + prec + [0.0]
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    return sum((r[i] - r[i - 1]) * p[i] for i in range(1, len(r)) if r[i] != r[i - 1])

result = {}
for eleven in (True, False):
    aps = {}
    for c in data['classes']:
        gts = []
        npos = 0
        for im in data['images']:
            objs = [(b, d) for b, l, d in zip(im['gtBoxes'], im['gtLabels'], im['gtDifficult']) if l == c]
            npos += sum(1 for _, d in objs if not d)
            gts.append({'objs': objs, 'used': [False] * len(objs)})
        dets = [(s, i, b) for i, im in enumerate(data['images']) for b, l, s in zip(im['boxes'], im['labels'], im['scores']) if l == c]
        dets.sort(key=lambda d: -d[0])
        tp = fp = 0
        rec, prec = [], []
        for s, i, b in dets:
            g = gts[i]
            best, j = -1.0, -1
            for k, (gb, _) in enumerate(g['objs']):
                o = iou(b, gb)
                if o > best:
                    best, j = o, k
            if best > 0.5:
                if not g['objs'][j][1]:
                    if g['used'][j]:
                        fp += 1
                    else:
                        tp += 1
                        g['used'][j] = True
            else:
                fp += 1
            rec.append(tp / npos if npos else 0.0)
            prec.append(tp / max(tp + fp, 2.220446049250313e-16))
        if npos:
            aps[c] = average_precision(rec, prec, eleven)
    result['07' if eleven else 'area'] = aps
json.dump(result, sys.stdout)
`;

test('equals an independent Python implementation of the devkit metric to 1e-6 on random detections', () => {
  const r = rng(2024);
  const images: (VocImageResult & { gtDifficult: boolean[] })[] = [];
  const box = (cx: number, cy: number, w: number, h: number): Box => [Math.round(cx - w / 2), Math.round(cy - h / 2), Math.round(cx + w / 2), Math.round(cy + h / 2)];
  for (let i = 0; i < 40; i++) {
    const n = 1 + Math.floor(r() * 5);
    const gtBoxes: Box[] = [], gtLabels: number[] = [], gtDifficult: boolean[] = [];
    for (let k = 0; k < n; k++) {
      gtBoxes.push(box(30 + r() * 200, 30 + r() * 200, 10 + r() * 80, 10 + r() * 80));
      gtLabels.push(1 + Math.floor(r() * 4));
      gtDifficult.push(r() < 0.15);
    }
    const boxes: Box[] = [], labels: number[] = [], scores: number[] = [];
    for (let k = 0; k < n; k++) { // jittered copies of the ground truth (hits, near misses, duplicates)
      for (let c = 0; c < 1 + Math.floor(r() * 3); c++) {
        const [x1, y1, x2, y2] = gtBoxes[k]!, j = (x2 - x1) * 0.4;
        boxes.push([x1 + (r() - 0.5) * j, y1 + (r() - 0.5) * j, x2 + (r() - 0.5) * j, y2 + (r() - 0.5) * j]);
        labels.push(r() < 0.85 ? gtLabels[k]! : 1 + Math.floor(r() * 4));
        scores.push(r());
      }
    }
    for (let k = 0; k < Math.floor(r() * 4); k++) { // background detections
      boxes.push(box(r() * 256, r() * 256, 5 + r() * 60, 5 + r() * 60));
      labels.push(1 + Math.floor(r() * 4));
      scores.push(r() * 0.7);
    }
    images.push({ gtBoxes, gtLabels, gtDifficult, boxes, labels, scores });
  }
  const ref = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PYTHON_VOC], { input: JSON.stringify({ images, classes: [1, 2, 3, 4] }) }).toString()) as Record<'07' | 'area', Record<string, number>>;
  for (const [key, use07Metric] of [['07', true], ['area', false]] as const) {
    const ours = evaluateVoc(images, { use07Metric, classes: [1, 2, 3, 4] });
    const refAps = Object.values(ref[key]);
    assert.equal(refAps.length, 4);
    ours.perClass.forEach((c) => {
      assert.ok(c.ap !== null && c.ap > 0.1 && c.ap < 0.99, `class ${c.label} AP ${c.ap} is a non-trivial value`);
      assert.ok(Math.abs(c.ap - ref[key][String(c.label)]!) < 1e-6, `${key} class ${c.label}: ${c.ap} vs ${ref[key][String(c.label)]}`);
    });
    const refMap = refAps.reduce((s, v) => s + v, 0) / refAps.length;
    assert.ok(Math.abs(ours.map - refMap) < 1e-6, `${key} mAP ${ours.map} vs ${refMap}`);
  }
});
