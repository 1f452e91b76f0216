// Target-rate control: λ is a Lagrange multiplier for the constraint "bits/value ≤ B", raised
// while the measured rate is above B and lowered (never below 0) while it is under, so that the
// user asks for a rate instead of guessing a λ whose effect depends on lr, epochs, data and model.
//
// Pure and engine-free. Each group of sites (all sites, or those a --target-bits-at pattern
// selects) has its own λ. Per training step the caller hands in the group's hard (rounded)
// entropy of that batch, numel-weighted over its sites; the controller smooths it (EMA) and
// updates λ with a proportional–integral dual step in log(λ + λ₀): scale-free, so the same gains
// serve a model that needs λ = 0.3 and one that needs λ = 5, while λ₀ lets λ leave and reach 0.
// At each epoch's end the caller measures the target metric for real (validation split, coded when
// the metric is a coder) and `calibrate` turns the difference to the smoothed training estimate
// into an offset: train/eval mode, batch size and coder overhead are corrected with measurements.

export const RATE_METRICS = ['entropy', 'huffman', 'rans', 'zerorun'] as const;
export type RateMetric = (typeof RATE_METRICS)[number];

export interface RateGroupSpec {
  /** 'all' or the pattern that selected the sites. */
  name: string;
  /** Target bits/value in the controller's metric. */
  target: number;
  /** Indices of the sites in this group (into the caller's site list). */
  sites: readonly number[];
}

export interface RateControllerOptions {
  groups: readonly RateGroupSpec[];
  /** Training steps of the whole run: the gains are per run, so short and long runs settle alike. */
  totalSteps: number;
  /** Weight of the newest batch in the smoothed rate (EMA). */
  smoothing?: number;
  /** Integral gain: change of log(λ + λ₀) per bit of error, summed over the run. */
  integralGain?: number;
  /** Proportional gain: log(λ + λ₀) per bit of (smoothed) error. */
  proportionalGain?: number;
  /** λ₀: the scale below which λ moves additively rather than multiplicatively. */
  lambdaScale?: number;
  /** Upper bound of λ (a target the model cannot reach stops here rather than diverging). */
  lambdaMax?: number;
  /** Starting λ of every group. */
  lambdaInit?: number;
  /**
   * Fraction of the run over which the reference moves linearly from the first measured rate to
   * the target. The rate responds to λ like an integrator that does not give back what it lost
   * (weights that found a low-entropy arrangement keep it, and the lr decays), so an overshoot
   * is permanent: the controller follows a ramp instead of a step.
   */
  rampFraction?: number;
  /**
   * Steps ahead the error is predicted from the rate's current slope. λ acts with a delay (SGD
   * momentum, the smoothing, the weights' inertia), so a rate already falling fast means enough λ.
   */
  horizon?: number;
}

export const RATE_DEFAULTS = { smoothing: 0.2, integralGain: 20, proportionalGain: 5, lambdaScale: 0.1, lambdaMax: 100, lambdaInit: 0, rampFraction: 0.4, horizon: 20 } as const;

export interface RateControllerState {
  step: number;
  /** Per group: integral state u = log(λ_I + λ₀), smoothed bits (null before the first batch), offset. */
  groups: { u: number; smoothed: number | null; slope: number; offset: number; lambda: number; start: number | null; maxLambda: number }[];
  trajectory: RateTrajectoryPoint[];
}

export interface RateTrajectoryPoint { step: number; lambda: number[]; bits: number[] }

export interface RateGroupOutcome { name: string; target: number; sites: number[]; lambda: number; achieved: number | null; reached: boolean }

export class RateController {
  readonly groups: readonly RateGroupSpec[];
  private readonly o: Required<Omit<RateControllerOptions, 'groups'>>;
  private readonly logScale: number;
  private readonly ki: number;
  private st: RateControllerState;
  /** A trajectory point every this many steps (about 200 points per run). */
  private readonly every: number;

  constructor(options: RateControllerOptions) {
    const o = { ...RATE_DEFAULTS, ...options };
    if (!options.groups.length) throw new RangeError('RateController: no target groups');
    for (const g of options.groups) {
      if (!(g.target > 0) || !Number.isFinite(g.target)) throw new RangeError(`RateController: target of '${g.name}' must be a positive number of bits, got ${g.target}`);
      if (!g.sites.length) throw new RangeError(`RateController: target '${g.name}' selects no site`);
    }
    if (!(o.totalSteps >= 1)) throw new RangeError(`RateController: totalSteps must be >= 1, got ${o.totalSteps}`);
    if (!(o.smoothing > 0 && o.smoothing <= 1)) throw new RangeError(`RateController: smoothing must be in (0, 1], got ${o.smoothing}`);
    if (!(o.lambdaScale > 0) || !(o.lambdaMax > 0) || !(o.lambdaInit >= 0)) throw new RangeError('RateController: λ scale and max must be positive, λ init >= 0');
    this.groups = options.groups;
    this.o = o;
    this.logScale = Math.log(o.lambdaScale);
    this.ki = o.integralGain / o.totalSteps;
    this.every = Math.max(1, Math.round(o.totalSteps / 200));
    const u = Math.log(o.lambdaInit + o.lambdaScale);
    this.st = { step: 0, groups: options.groups.map(() => ({ u, smoothed: null, slope: 0, offset: 0, lambda: o.lambdaInit, start: null, maxLambda: o.lambdaInit })), trajectory: [] };
  }

  /** Current λ of each group. */
  get lambdas(): number[] { return this.st.groups.map((g) => g.lambda); }

  /** Smoothed rate of each group in the target metric (training estimate + calibrated offset). */
  get estimates(): (number | null)[] { return this.st.groups.map((g) => (g.smoothed === null ? null : g.smoothed + g.offset)); }

  get step(): number { return this.st.step; }

  get trajectory(): readonly RateTrajectoryPoint[] { return this.st.trajectory; }

  /**
   * One training step's measurement: each group's hard entropy of the batch (bits/value,
   * numel-weighted over its sites). Returns the λ of each group for the next step.
   */
  update(groupBits: readonly number[]): number[] {
    if (groupBits.length !== this.groups.length) throw new RangeError(`RateController.update: ${groupBits.length} rates for ${this.groups.length} groups`);
    const { smoothing, proportionalGain, lambdaMax } = this.o;
    const uMax = Math.log(lambdaMax + this.o.lambdaScale);
    this.st.groups.forEach((g, i) => {
      const h = groupBits[i]!;
      if (!Number.isFinite(h)) return; // a batch without a measurement leaves λ alone
      const prev = g.smoothed;
      g.smoothed = prev === null ? h : prev + smoothing * (h - prev);
      if (prev !== null) g.slope += 0.1 * (g.smoothed - prev - g.slope);
      const err = g.smoothed + this.o.horizon * Math.min(0, g.slope) + g.offset - this.reference(i);
      // Integral (dual ascent) with anti-windup at both ends: λ_I ∈ [0, λ_max].
      g.u = Math.min(uMax, Math.max(this.logScale, g.u + this.ki * err));
      const u = Math.min(uMax, g.u + proportionalGain * err);
      g.lambda = Math.max(0, Math.exp(u) - this.o.lambdaScale);
      g.maxLambda = Math.max(g.maxLambda, g.lambda);
    });
    if (this.st.step % this.every === 0) {
      this.st.trajectory.push({ step: this.st.step, lambda: this.lambdas.map(round4), bits: this.estimates.map((b) => round4(b ?? NaN)) });
    }
    this.st.step++;
    return this.lambdas;
  }

  /** The rate group i should be at now: the ramp from its first measurement down (or up) to the target. */
  reference(i: number): number {
    const g = this.st.groups[i]!, target = this.groups[i]!.target;
    if (g.start === null) g.start = (g.smoothed ?? target) + g.offset;
    const ramp = this.o.rampFraction * this.o.totalSteps;
    const f = ramp > 0 ? Math.max(0, 1 - this.st.step / ramp) : 0;
    // Never ask for more bits than the start: a target above it needs λ = 0, not a climb.
    return target + Math.max(0, g.start - target) * f;
  }

  /**
   * Epoch-end correction: `measured[i]` is group i's rate in the target metric measured for real
   * (eval mode, held-out data); the smoothed training estimate is shifted to agree with it.
   * `trainEstimate[i]` is the smoothed training rate at the time of the measurement (default: now).
   */
  calibrate(measured: readonly (number | null)[], trainEstimate?: readonly (number | null)[]): void {
    this.st.groups.forEach((g, i) => {
      const m = measured[i], t = trainEstimate?.[i] ?? g.smoothed;
      if (m === null || m === undefined || !Number.isFinite(m) || t === null || !Number.isFinite(t)) return;
      g.offset = m - t;
    });
  }

  /**
   * Whether each group ended at its target: within `tolerance`, or below it without λ ever being
   * raised (the model is under the target on its own). Below it after pushing is an overshoot.
   */
  outcome(achieved: readonly (number | null)[], tolerance: number): RateGroupOutcome[] {
    return this.groups.map((spec, i) => {
      const a = achieved[i] ?? null, g = this.st.groups[i]!, lambda = g.lambda;
      const reached = a !== null && (Math.abs(a - spec.target) <= tolerance || (a < spec.target && g.maxLambda === 0));
      return { name: spec.name, target: spec.target, sites: [...spec.sites], lambda, achieved: a, reached };
    });
  }

  /** The λ each site gets: its group's, or `fallback` (the fixed --lambda) for sites in no group. */
  siteLambdas(siteCount: number, fallback: number): Float64Array {
    const out = new Float64Array(siteCount).fill(fallback);
    this.groups.forEach((g, i) => { for (const s of g.sites) out[s] = this.st.groups[i]!.lambda; });
    return out;
  }

  state(): RateControllerState { return structuredClone(this.st); }

  load(state: RateControllerState): void {
    if (state.groups.length !== this.groups.length) throw new RangeError(`RateController.load: state has ${state.groups.length} groups, controller ${this.groups.length}`);
    this.st = structuredClone(state);
  }
}

const round4 = (x: number): number => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x);

/** Numel-weighted mean of per-site bits over each group's sites. */
export function groupRates(siteBits: ArrayLike<number>, siteNumel: ArrayLike<number>, groups: readonly RateGroupSpec[]): number[] {
  return groups.map((g) => {
    let bits = 0, n = 0;
    for (const s of g.sites) { bits += siteBits[s]! * siteNumel[s]!; n += siteNumel[s]!; }
    return n > 0 ? bits / n : NaN;
  });
}

/**
 * Target groups from a global target and per-site ones (PATTERN=B, first matching pattern wins;
 * `matches` is the site-name glob test, the CAT plan's). Sites matched by no pattern form the
 * 'all' group when a global target is given.
 */
export function planRateGroups(siteNames: readonly string[], global: number | undefined, perSite: readonly { pattern: string; bits: number }[],
  matches: (pattern: string, site: string) => boolean): RateGroupSpec[] {
  const taken = new Set<number>();
  const groups: RateGroupSpec[] = [];
  for (const { pattern, bits } of perSite) {
    const sites = siteNames.map((n, i) => (matches(pattern, n) && !taken.has(i) ? i : -1)).filter((i) => i >= 0);
    if (!sites.length) {
      throw new RangeError(`--target-bits-at ${pattern}=${bits}: the pattern matches no quantized site (sites: ${siteNames.slice(0, 8).join(', ')}${siteNames.length > 8 ? ', …' : ''})`);
    }
    sites.forEach((i) => taken.add(i));
    groups.push({ name: pattern, target: bits, sites });
  }
  if (global !== undefined) {
    const rest = siteNames.map((_, i) => i).filter((i) => !taken.has(i));
    if (rest.length) groups.unshift({ name: 'all', target: global, sites: rest });
  }
  return groups;
}

/** Parses "PATTERN=B" (B a positive number of bits). */
export function parseSiteTarget(text: string): { pattern: string; bits: number } {
  const eq = text.lastIndexOf('=');
  const pattern = text.slice(0, eq).trim(), bits = Number(text.slice(eq + 1));
  if (eq <= 0 || !pattern || !(bits > 0) || !Number.isFinite(bits)) throw new RangeError(`--target-bits-at takes PATTERN=BITS (e.g. 'layer1.*=1.5'), got '${text}'`);
  return { pattern, bits };
}
