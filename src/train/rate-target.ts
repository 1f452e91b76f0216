// A rate target on a CAT model: the controller (rate-controller.ts) wired to a Cat's sites, for
// any training loop (classification's trainer, or a detection / text loop of its own):
//
//   const target = new RateTarget(cat, { bits: 2, totalSteps: epochs * batchesPerEpoch });
//   // each step:
//   const { output, rate } = cat.forward(x, target.request());     // terms, and code counts when measuring
//   const loss = taskLoss(output).add(target.penalty(rate)!);      // Σ λ_s·n_s·H_s / Σ n_s
//   … backward, optimizer step …
//   target.observe(rate);                                           // hard entropy → next λ
//   // each epoch: a real measurement on held-out data calibrates and is remembered
//   target.endEpoch(epoch, await measureSiteRates(cat, heldOut, target.metric, 8));
//
// Per step it reads each site's rounded-code counts from the forward (on every `measureEvery`-th
// step, from the first `sampleImages` images) and hands the next λ per site to the loss; per epoch
// it calibrates on the validation split (the data the controller may learn from; the test split
// only reports), keeps the weights of the most accurate epoch (on validation data) within the
// tolerance, and at the end says whether the target was reached. Nothing is stored on the model's modules.
import { dispose, type Tensor } from '../tensor/index.js';
import { globToRegExp, type Cat, type Rate, type RateRequest } from '../method/index.js';
import { RateController, RATE_DEFAULTS, groupRates, planRateGroups, type RateControllerOptions, type RateControllerState, type RateGroupOutcome, type RateMetric } from './rate-controller.js';
import type { SiteRates } from './rate-measure.js';
import type { RunConfig } from './config.js';
import type { Json } from '../optim/index.js';

/** Default tolerance of a rate target (bits/value). */
export const RATE_TOLERANCE = 0.1;

/** Validation batches measured at each epoch's end (coding is the slow part with a coder metric). */
export const RATE_VALIDATION_BATCHES = 8;

/** Images of a batch whose codes are counted on a measuring step (the EMA and the epoch-end calibration absorb the sampling). */
export const RATE_SAMPLE_IMAGES = 8;

export interface RateTargetOptions {
  /** Target bits/value over all sites (or those no `at` pattern takes). */
  bits?: number;
  /** Per-site targets by dotted-name glob (first matching pattern wins). */
  at?: readonly { pattern: string; bits: number }[];
  /** What the target measures: Shannon entropy (default) or a real coder's size. */
  metric?: RateMetric;
  /** Training steps of the whole run (the controller's gains are per run). */
  totalSteps: number;
  /** λ of the sites outside every target (default 0). */
  lambda?: number;
  /** Count codes on every n-th step only (default 1); the controller updates on those steps. */
  measureEvery?: number;
  /** Count the codes of this many images per measuring step (default RATE_SAMPLE_IMAGES; 0: the whole batch). */
  sampleImages?: number;
  /** A target counts as reached within ± this many bits (default RATE_TOLERANCE). */
  tolerance?: number;
  /** Controller tuning (gains, smoothing, ramp, λ bounds); see RATE_DEFAULTS. */
  controller?: Partial<Omit<RateControllerOptions, 'groups' | 'totalSteps'>>;
}

export interface RateOutcome {
  metric: RateMetric;
  groups: RateGroupOutcome[];
  siteNames: string[];
  trajectory: RateController['trajectory'];
  bestEpoch: number | null;
  reached: boolean;
  message: string;
}

/** What an epoch's end reports: the mean λ of the first group over the epoch, the entropy and the target metric (validation). */
export interface RateEpoch { lambda: number; bits: number; metricBits: number }

/** The rate-target options a run config asks for (null: the run has no target). */
export function rateTargetOptions(c: RunConfig, totalSteps: number): RateTargetOptions | null {
  if (c.task !== 'cat' || (c.targetBits === undefined && !(c.targetBitsAt?.length))) return null;
  return { bits: c.targetBits, at: c.targetBitsAt ?? [], metric: c.targetMetric ?? 'entropy', totalSteps, lambda: c.lambda, tolerance: c.targetTolerance, measureEvery: c.targetMeasureEvery };
}

export class RateTarget {
  readonly controller: RateController;
  readonly metric: RateMetric;
  readonly tolerance: number;
  /** The targeted model's enabled sites, input to output (group site indices refer to this list). */
  readonly sites: readonly string[];
  private readonly index: Map<string, number>;
  private readonly fallback: number;
  private readonly every: number;
  private readonly sample: number;
  private siteLambda: Float64Array;
  private lambdaSum: number[];
  private lambdaSteps = 0;
  private step = 0;
  /** The most accurate epoch within tolerance on validation data, with a copy of its weights. */
  private best: { epoch: number; accuracy: number; weights: Map<string, Tensor> } | null = null;
  private lastDistance: number | null = null;

  constructor(readonly cat: Cat<any, any>, o: RateTargetOptions) {
    this.metric = o.metric ?? 'entropy';
    this.tolerance = o.tolerance ?? RATE_TOLERANCE;
    this.every = Math.max(1, Math.floor(o.measureEvery ?? 1));
    this.sample = Math.max(0, Math.floor(o.sampleImages ?? RATE_SAMPLE_IMAGES));
    this.sites = cat.enabledSites.map((q) => q.name);
    this.index = new Map(this.sites.map((n, i) => [n, i]));
    const groups = planRateGroups(this.sites, o.bits, o.at ?? [], (pattern, site) => globToRegExp(pattern).test(site));
    if (!groups.length) throw new RangeError('RateTarget: give a target (bits, or at least one per-site target)');
    // The controller counts measurements, not steps: its horizon (in steps) shrinks with the spacing.
    const updates = Math.max(1, Math.ceil(o.totalSteps / this.every));
    const horizon = (o.controller?.horizon ?? RATE_DEFAULTS.horizon) / this.every;
    this.controller = new RateController({ ...o.controller, horizon, groups, totalSteps: updates });
    this.fallback = o.lambda ?? 0;
    this.siteLambda = this.controller.siteLambdas(this.sites.length, this.fallback);
    this.lambdaSum = groups.map(() => 0);
  }

  /** λ per site (the order of `sites`) for the next step's loss. */
  get lambdas(): Float64Array { return this.siteLambda; }

  /** What the next training forward collects: the soft-entropy terms, and on measuring steps a sample's code counts. */
  request(): RateRequest {
    return this.step % this.every === 0 ? { terms: true, histogram: true, histogramImages: this.sample || undefined } : { terms: true };
  }

  /**
   * The rate term of a training forward with each site's λ: Σ λ_s·n_s·H_s / Σ n_s (the numel-weighted
   * mean `rate.weightedMean()` is, with λ per site). Null when the forward produced no term.
   * When every term's site has one λ (a single target) this is λ·weightedMean: pass the mean if the
   * loop already computed it (e.g. for logging) and it is reused instead of rebuilt per site.
   */
  penalty(rate: Rate, weightedMean?: Tensor | null): Tensor | null {
    const terms = rate.terms;
    if (!terms.length) return null;
    const uniform = this.uniformLambda(terms);
    if (uniform !== null) {
      if (uniform === 0) return null;
      const mean = weightedMean ?? rate.weightedMean();
      return mean ? mean.mul(uniform) : null;
    }
    let total: Tensor | null = null, numel = 0;
    for (const s of terms) {
      numel += s.numel;
      const i = this.index.get(s.site);
      const lambda = i === undefined ? this.fallback : this.siteLambda[i]!;
      if (lambda === 0) continue;
      const t = s.term!.mul(lambda * s.numel);
      total = total ? total.add(t) : t;
    }
    return total ? total.div(numel) : null;
  }

  /** The λ shared by the sites of every term, or null when they differ. */
  private uniformLambda(terms: readonly { site: string }[]): number | null {
    let shared: number | null = null;
    for (const s of terms) {
      const i = this.index.get(s.site);
      const lambda = i === undefined ? this.fallback : this.siteLambda[i]!;
      if (shared === null) shared = lambda;
      else if (lambda !== shared) return null;
    }
    return shared;
  }

  /**
   * After a training step: the forward's code counts (when this was a measuring step) update the
   * controller and the λ of the next steps. Reads 2^b counts per site back to the host.
   */
  observe(rate: Rate): void {
    const measuring = this.step % this.every === 0;
    this.step++;
    const lam = this.controller.lambdas;
    lam.forEach((l, g) => { this.lambdaSum[g]! += l; });
    this.lambdaSteps++;
    if (!measuring) return;
    const bits = new Float64Array(this.sites.length).fill(NaN), numel = new Float64Array(this.sites.length);
    for (const h of rate.hardEntropies()) {
      const i = this.index.get(h.site);
      if (i !== undefined) { bits[i] = h.bits; numel[i] = h.numel; }
    }
    this.controller.update(groupRates(bits, numel, this.controller.groups));
    this.siteLambda = this.controller.siteLambdas(this.sites.length, this.fallback);
  }

  /**
   * Epoch end with a real measurement of held-out data (measureSiteRates in the target metric):
   * calibrates the controller and keeps the weights of the most accurate epoch within the tolerance
   * (`accuracy`: top-1 on validation data, default the measurement's own; a later epoch wins ties;
   * NaN, e.g. a detector's: the latest epoch within the tolerance).
   * At a low rate a network's eval accuracy can drop by several points from one epoch to the next
   * (its batch-norm statistics vs codes near a rounding threshold), so the last one is not kept blindly.
   */
  endEpoch(epoch: number, m: SiteRates, accuracy: number = m.accuracy.top1): RateEpoch {
    const at = (values: readonly number[]) => this.sites.map((n) => values[m.sites.indexOf(n)] ?? NaN);
    const numel = this.sites.map((n) => m.numel[m.sites.indexOf(n)] ?? 0);
    const measured = groupRates(at(m.metric), numel, this.controller.groups);
    this.controller.calibrate(measured);
    const lambda = this.lambdaSum[0]! / Math.max(1, this.lambdaSteps);
    this.lambdaSum = this.lambdaSum.map(() => 0);
    this.lambdaSteps = 0;
    const distance = Math.max(...measured.map((x, g) => Math.abs(x - this.controller.groups[g]!.target)));
    this.lastDistance = Number.isFinite(distance) ? distance : null;
    if (this.lastDistance !== null && this.lastDistance <= this.tolerance && !(this.best && this.best.accuracy > accuracy)) {
      if (this.best) dispose([...this.best.weights.values()]);
      this.best = { epoch, accuracy, weights: new Map([...this.cat.model.stateDict()].map(([k, v]) => [k, v.clone()])) };
    }
    const all = [{ name: 'all', target: 0, sites: this.sites.map((_, i) => i) }];
    return { lambda, bits: groupRates(at(m.entropy), numel, all)[0]!, metricBits: groupRates(at(m.metric), numel, all)[0]! };
  }

  /**
   * End of training: when an earlier epoch than the last was the most accurate within the tolerance
   * on validation data (or the last is outside it), that epoch's weights are restored. Returns the
   * epoch restored (or null).
   */
  restoreBest(lastEpoch: number): number | null {
    const b = this.best;
    this.best = null;
    if (!b) return null;
    try {
      if (b.epoch === lastEpoch) return null;
      this.cat.model.loadStateDict(b.weights);
      return b.epoch;
    } finally { dispose([...b.weights.values()]); }
  }

  /** The outcome against a final measurement (`siteBits` per site of `sites`, in the target metric). */
  outcome(siteBits: readonly number[], siteNumel: readonly number[], bestEpoch: number | null): RateOutcome {
    const tolerance = this.tolerance;
    const achieved = groupRates(siteBits, siteNumel, this.controller.groups).map((x) => (Number.isFinite(x) ? x : null));
    const groups = this.controller.outcome(achieved, tolerance);
    const reached = groups.every((g) => g.reached);
    const f = (x: number | null) => (x === null ? '—' : x.toFixed(3));
    const parts = groups.map((g) => `${g.name === 'all' ? '' : `${g.name}: `}${f(g.achieved)} bits for a target of ${g.target} (λ ${g.lambda.toPrecision(3)})`);
    const message = reached
      ? `target reached (${this.metric}, ±${tolerance}): ${parts.join('; ')}` +
        (bestEpoch !== null ? `; the run ends with epoch ${bestEpoch}'s weights, the most accurate on validation data within the tolerance` : '')
      : `target NOT reached (${this.metric}, ±${tolerance}): ${parts.join('; ')}` +
        (groups.some((g) => !g.reached && g.achieved !== null && g.achieved > g.target && g.lambda >= 99) ? '; λ hit its bound: the model cannot reach this rate with this schedule' : '') +
        (groups.some((g) => !g.reached && g.achieved !== null && g.achieved < g.target) ? '; the rate fell below the target (overshoot)' : '') +
        (bestEpoch !== null ? `; the run ends with epoch ${bestEpoch}'s weights, the most accurate on validation data within the tolerance` : '; no epoch was within the tolerance, the run ends with its last epoch');
    return { metric: this.metric, groups, siteNames: [...this.sites], trajectory: this.controller.trajectory, bestEpoch, reached, message };
  }

  /** Controller state and step count (a checkpoint's `extra.rate`). */
  state(): Json { return { controller: this.controller.state(), step: this.step } as unknown as Json; }

  load(state: Json | undefined): void {
    if (!state) return;
    const st = state as unknown as { controller: RateControllerState; step: number };
    this.controller.load(st.controller);
    this.step = st.step;
    this.siteLambda = this.controller.siteLambdas(this.sites.length, this.fallback);
  }

  /** Frees the kept weights (the model and Cat are the caller's). */
  dispose(): void {
    if (this.best) dispose([...this.best.weights.values()]);
    this.best = null;
  }
}
