// Classification metrics over integer predictions and labels (pure TS): accuracy, Matthews
// correlation (CoLA's metric, multi-class form of Gorodkin 2004, equal to sklearn's), F1.

function check(pred: ArrayLike<number>, gold: ArrayLike<number>): void {
  if (pred.length !== gold.length) throw new RangeError(`metrics: ${pred.length} predictions for ${gold.length} labels`);
  if (pred.length === 0) throw new RangeError('metrics: no examples');
}

export function accuracy(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  check(pred, gold);
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === gold[i]) ok++;
  return ok / pred.length;
}

/** Confusion counts c[gold][pred] over `k` classes. */
export function confusion(pred: ArrayLike<number>, gold: ArrayLike<number>, k: number): number[][] {
  check(pred, gold);
  const c = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]!, g = gold[i]!;
    if (!(p >= 0 && p < k && g >= 0 && g < k && Number.isInteger(p) && Number.isInteger(g))) throw new RangeError(`metrics: class ${g}/${p} at ${i} outside 0…${k - 1}`);
    c[g]![p]!++;
  }
  return c;
}

/**
 * Matthews correlation coefficient; for two classes (TP·TN − FP·FN)/√((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
 * 0 when the denominator is 0 (a constant predictor), as sklearn.
 */
export function matthewsCorrelation(pred: ArrayLike<number>, gold: ArrayLike<number>, k = 2): number {
  const c = confusion(pred, gold, k);
  const n = pred.length;
  let correct = 0;
  const t = new Array<number>(k).fill(0), p = new Array<number>(k).fill(0);
  for (let g = 0; g < k; g++) for (let q = 0; q < k; q++) { t[g]! += c[g]![q]!; p[q]! += c[g]![q]!; if (g === q) correct += c[g]![q]!; }
  let tp = 0, pp = 0, tt = 0;
  for (let j = 0; j < k; j++) { tp += t[j]! * p[j]!; pp += p[j]! * p[j]!; tt += t[j]! * t[j]!; }
  const den = Math.sqrt(n * n - pp) * Math.sqrt(n * n - tt);
  return den === 0 ? 0 : (correct * n - tp) / den;
}

/** F1 of class `positive` (binary F1 as GLUE reports for MRPC/QQP); 0 when it is never predicted nor present. */
export function f1(pred: ArrayLike<number>, gold: ArrayLike<number>, positive = 1): number {
  check(pred, gold);
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const pp = pred[i] === positive, gg = gold[i] === positive;
    if (pp && gg) tp++; else if (pp) fp++; else if (gg) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Unweighted mean of the per-class F1 scores. */
export function macroF1(pred: ArrayLike<number>, gold: ArrayLike<number>, k: number): number {
  let s = 0;
  for (let c = 0; c < k; c++) s += f1(pred, gold, c);
  return s / k;
}

export type MetricName = 'accuracy' | 'mcc' | 'f1' | 'macro_f1';
export function computeMetric(name: MetricName, pred: ArrayLike<number>, gold: ArrayLike<number>, k: number): number {
  switch (name) {
    case 'accuracy': return accuracy(pred, gold);
    case 'mcc': return matthewsCorrelation(pred, gold, k);
    case 'f1': return f1(pred, gold);
    case 'macro_f1': return macroF1(pred, gold, k);
  }
}
