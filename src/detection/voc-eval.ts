// Pascal VOC detection metric (the devkit's VOCevaldet / py-faster-rcnn voc_eval definition), pure
// TypeScript with no engine dependency: per class, detections from all images sorted by descending
// score; each is a true positive if its best-overlapping ground truth of that class (IoU with the
// devkit's +1 pixel widths) exceeds the threshold and is not yet taken; matches to a `difficult`
// object count as neither; precision/recall over the cumulative counts; AP is the 11-point
// interpolated average (VOC2007) or the area under the monotone precision envelope (VOC2010+).
import { CatkitError } from '../errors.js';

export type Box = readonly [number, number, number, number];

/** One image: ground truth and predictions; boxes are [xmin, ymin, xmax, ymax] (VOC pixel coordinates). */
export interface VocImageResult {
  gtBoxes: readonly Box[];
  gtLabels: readonly number[];
  /** Objects marked difficult are neither required nor penalised (default: none). */
  gtDifficult?: readonly boolean[];
  boxes: readonly Box[];
  labels: readonly number[];
  scores: readonly number[];
}

export interface VocEvalOptions {
  /** VOC2007's 11-point interpolated AP (true, the usual VOC07-test number) or the area metric (false). */
  use07Metric?: boolean;
  /** Overlap a detection must exceed (0.5). */
  iouThreshold?: number;
  /** Classes to report (default: every label seen in ground truth or predictions, ascending). */
  classes?: readonly number[];
}

export interface VocClassResult {
  label: number;
  /** Average precision in [0, 1], or null when the class has no non-difficult ground truth. */
  ap: number | null;
  /** Non-difficult ground-truth objects. */
  positives: number;
  detections: number;
  truePositives: number;
}

export interface VocEvalResult {
  /** Mean of the per-class APs that are defined (classes with positives), in [0, 1]. */
  map: number;
  perClass: VocClassResult[];
  use07Metric: boolean;
}

function checkImage(img: VocImageResult, i: number): void {
  const bad = (what: string) => { throw new CatkitError('VOC_EVAL_INPUT', `evaluateVoc: image ${i}: ${what}`); };
  if (img.gtLabels.length !== img.gtBoxes.length) bad(`${img.gtBoxes.length} ground-truth boxes but ${img.gtLabels.length} labels`);
  if (img.gtDifficult && img.gtDifficult.length !== img.gtBoxes.length) bad(`${img.gtBoxes.length} ground-truth boxes but ${img.gtDifficult.length} difficult flags`);
  if (img.labels.length !== img.boxes.length || img.scores.length !== img.boxes.length) bad(`${img.boxes.length} predicted boxes, ${img.labels.length} labels, ${img.scores.length} scores`);
  for (const b of [...img.gtBoxes, ...img.boxes]) if (b.length !== 4 || !b.every(Number.isFinite)) bad(`box [${b.join(', ')}] is not four finite numbers`);
  if (!img.scores.every(Number.isFinite)) bad('a score is not finite');
}

/** IoU with the devkit's inclusive pixel convention (width = xmax − xmin + 1). */
export function vocIou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - inter;
  return inter / union;
}

/** AP from recall/precision at each detection (ascending recall). */
export function vocAp(recall: readonly number[], precision: readonly number[], use07Metric: boolean): number {
  if (use07Metric) {
    let ap = 0;
    for (let i = 0; i <= 10; i++) {
      const t = i * 0.1; // the same doubles as numpy.arange(0, 1.1, 0.1)
      let p = 0;
      for (let j = 0; j < recall.length; j++) if (recall[j]! >= t) p = Math.max(p, precision[j]!);
      ap += p / 11;
    }
    return ap;
  }
  const mrec = [0, ...recall, 1], mpre = [0, ...precision, 0];
  for (let i = mpre.length - 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1]!, mpre[i]!);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i]! - mrec[i - 1]!) * mpre[i]!;
  return ap;
}

/** Per-class AP and mAP over a set of images. */
export function evaluateVoc(images: readonly VocImageResult[], o: VocEvalOptions = {}): VocEvalResult {
  images.forEach(checkImage);
  const use07 = o.use07Metric ?? true, thr = o.iouThreshold ?? 0.5;
  const classes = o.classes ? [...o.classes] : [...new Set(images.flatMap((im) => [...im.gtLabels, ...im.labels]))].sort((a, b) => a - b);
  const perClass: VocClassResult[] = classes.map((label) => {
    let positives = 0;
    const gt = images.map((im) => {
      const idx = im.gtLabels.flatMap((l, j) => (l === label ? [j] : []));
      const difficult = idx.map((j) => im.gtDifficult?.[j] ?? false);
      positives += difficult.filter((d) => !d).length;
      return { boxes: idx.map((j) => im.gtBoxes[j]!), difficult, taken: idx.map(() => false) };
    });
    const dets = images.flatMap((im, i) => im.labels.flatMap((l, j) => (l === label ? [{ image: i, box: im.boxes[j]!, score: im.scores[j]! }] : [])));
    dets.sort((a, b) => b.score - a.score); // stable: equal scores keep image order
    let tp = 0, fp = 0;
    const recall: number[] = [], precision: number[] = [];
    for (const d of dets) {
      const g = gt[d.image]!;
      let best = -Infinity, at = -1;
      g.boxes.forEach((b, j) => { const v = vocIou(d.box, b); if (v > best) { best = v; at = j; } });
      if (best > thr) {
        if (!g.difficult[at]) {
          if (!g.taken[at]) { tp++; g.taken[at] = true; } else fp++;
        }
      } else fp++;
      recall.push(positives > 0 ? tp / positives : NaN);
      precision.push(tp / Math.max(tp + fp, Number.EPSILON));
    }
    const ap = positives > 0 ? vocAp(recall, precision, use07) : null;
    return { label, ap, positives, detections: dets.length, truePositives: tp };
  });
  const defined = perClass.filter((c) => c.ap !== null).map((c) => c.ap!);
  return { map: defined.length ? defined.reduce((s, v) => s + v, 0) / defined.length : 0, perClass, use07Metric: use07 };
}
