// attachCat: turns any Module into a CAT model. Site modules are swapped for QuantSite wrappers and
// weight layers for QuantConv2d / QuantLinear, keeping every parameter name; the returned Cat runs
// forwards that return their rate terms (and, when asked, codes) alongside the output.
import { isFloating, release, type Tensor } from '../tensor/index.js';
import { Conv2d, Linear, type AnyModule, type Module } from '../nn/index.js';
import { CatkitError } from '../errors.js';
import { checkBits } from './quantize.js';
import { QuantSite, type ClipInit, type SiteSettings } from './site.js';
import { globToRegExp, planSites, selectorMatcher, type SiteOverride, type SitePlanOptions, type SiteSelector } from './plan.js';
import { QuantConv2d, QuantLinear } from './quant-layers.js';
import { Rate, withRecorder, type RateRequest } from './rate.js';
import { calibrateSites, calibrateSitesSync, type ActivationStats, type CalibratedClip } from './calibration.js';
import { weightEntropyTerm } from './weight-entropy.js';

export interface WeightQuantOptions {
  /** Weight bit width (reference: 8). */
  bits: number;
  /** Also quantize Linear layers (the reference quantizes convolutions only). */
  linear?: boolean;
  /** Layers to leave in float (any selector matches), e.g. 'conv1' for a stem. */
  exclude?: SiteSelector | readonly SiteSelector[];
}

export interface CatOptions extends SitePlanOptions {
  /** Weight fake quantization; omit (or null) for float weights. */
  weights?: WeightQuantOptions | null;
}

/** One row of the plan: what attachCat did to a site (print it with console.table). */
export interface SiteRow {
  site: string; module: string; bits: number; signed: boolean; range: string; enabled: boolean;
  clip: number | null; clipInit: ClipInit | number; regularizer: string;
}

/** The output of a CAT forward and what its sites produced. */
export interface CatForward<Out> { output: Out; rate: Rate }

export class Cat<In = Tensor, Out = Tensor> {
  /** Activation sites in module order (input to output). */
  readonly sites: QuantSite[];
  /** Weight-quantized layers with their paths. */
  readonly weightLayers: [string, QuantConv2d | QuantLinear][];

  /** Use attachCat(). */
  constructor(readonly model: Module<In, Out>, sites: QuantSite[], weightLayers: [string, QuantConv2d | QuantLinear][]) {
    this.sites = sites;
    this.weightLayers = weightLayers;
  }

  /**
   * Runs the model and returns its output with the rate of this forward: in training, one term per
   * quantizing site (`rate.weightedMean()` is classification's activation term, `rate.sum()` the
   * SSD reference's); with { codes: true } or { histogram: true }, each site's integer codes or code
   * counts. The rate's tensors belong to the caller's tidy scope, like the output.
   */
  forward(x: In, request: RateRequest = {}): CatForward<Out> {
    const rate = new Rate(this, request);
    let output: Out;
    try {
      output = withRecorder(rate, () => this.model.forward(x));
    } finally {
      for (const s of rate.sites) for (const t of [s.term, s.codes, s.histogram]) if (t) release(t);
    }
    return { output, rate };
  }

  /** Classification's λ_a term of a forward's rate: Σ n_l·H_l / Σ n_l (null when no site produced a term). */
  activationTerm(rate: Rate): Tensor | null { return rate.weightedMean(); }

  /** The λ_w term: soft entropy of a random 5 % of each conv's weights on the 8-bit grid, numel-weighted. */
  weightTerm(o: { fraction?: number; temperature?: number; linear?: boolean } = {}): Tensor | null {
    return weightEntropyTerm(this.model, o);
  }

  /** The sites that quantize and are counted (not switched off, e.g. by noQuantEdges). */
  get enabledSites(): QuantSite[] { return this.sites.filter((s) => s.settings.enabled); }

  /** The site at a dotted path. */
  site(name: string): QuantSite {
    const s = this.sites.find((q) => q.name === name);
    if (!s) throw new CatkitError('cat_unknown_site', `CAT: no site '${name}'; sites are ${this.sites.map((q) => q.name).join(', ')}`);
    return s;
  }

  /** Sites matching a glob (e.g. 'layer1.*'). */
  match(pattern: string): QuantSite[] {
    const re = globToRegExp(pattern);
    return this.sites.filter((s) => re.test(s.name));
  }

  /** Gradual quantization: sites 0..stage quantize in training, the rest pass through (evaluation quantizes all). */
  setGradualStage(stage: number): void {
    this.sites.forEach((s, i) => { s.quantizeInTraining = i <= stage; });
  }

  /** Annealing: each site's temperature becomes its configured one times `factor`. */
  setTemperatureFactor(factor: number): void {
    for (const s of this.sites) s.temperature = s.settings.temperature * factor;
  }

  /**
   * Clip calibration over `inputs` in eval mode (quantization off): each enabled site's clip from
   * its bias-corrected statistics by its clipInit rule, or by `rule` for all. Restores the mode.
   */
  async calibrate(inputs: Iterable<Tensor> | AsyncIterable<Tensor>, rule?: ClipInit): Promise<CalibratedClip[]> {
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      return (await calibrateSites(this, this.sites, (x) => this.model.forward(x as In), inputs, rule)).clips;
    } finally { this.model.train(wasTraining); }
  }

  /** Synchronous calibrate() over in-memory inputs; also returns the raw statistics. */
  calibrateSync(inputs: Iterable<Tensor>, rule?: ClipInit): { clips: CalibratedClip[]; stats: Map<string, ActivationStats> } {
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      return calibrateSitesSync(this, this.sites, (x) => this.model.forward(x as In), inputs, rule);
    } finally { this.model.train(wasTraining); }
  }

  /** Each learned clip's current value by site (reads them back: for logs and checkpoints). */
  clips(): Record<string, number> {
    return Object.fromEntries(this.sites.filter((s) => s.clip).map((s) => [s.name, Math.abs(s.clip!.item())]));
  }

  /** State-dict keys attaching added (float checkpoints lack exactly these). */
  get addedKeys(): string[] { return this.sites.filter((s) => s.clip).map((s) => `${s.name}.clip`); }

  /** The plan as rows (site, module class, bits, signed, range, clip, …). */
  rows(): SiteRow[] {
    return this.sites.map((s) => ({
      site: s.name, module: s.inner.constructor.name, bits: s.settings.bits, signed: s.settings.signed, range: s.settings.range,
      enabled: s.settings.enabled, clip: s.clip ? Math.abs(s.clip.item()) : null, clipInit: s.settings.clipInit, regularizer: s.settings.regularizer,
    }));
  }

  /** Puts the original modules back (their tensors were never copied) and frees the clips; the Cat is unusable afterwards. */
  detach(): Module<In, Out> {
    for (const s of this.sites) {
      s.clip?.dispose();
      this.model.setSubmodule(s.name, s.inner);
      s.inner.training = s.training;
    }
    for (const [name, layer] of this.weightLayers) {
      const plain = layer instanceof QuantConv2d
        ? layer.source
        : new Linear((layer as QuantLinear).inFeatures, (layer as QuantLinear).outFeatures, { bias: layer.bias !== null, init: false });
      plain.registerParameter('weight', layer.weight, { requiresGrad: layer.weight.requiresGrad });
      if (layer.bias) plain.registerParameter('bias', layer.bias, { requiresGrad: layer.bias.requiresGrad });
      plain.training = layer.training;
      this.model.setSubmodule(name, plain);
    }
    return this.model;
  }
}

/**
 * Makes `model` a CAT model in place and returns the handle that runs it. Sites (default: every
 * ReLU / ReLU6) become QuantSite wrappers with their own learned clip; with `weights`, Conv2d (and
 * optionally Linear) layers become QuantConv2d / QuantLinear. No parameter is renamed; the only
 * added keys are `<site>.clip`.
 */
export function attachCat<In = Tensor, Out = Tensor>(model: Module<In, Out>, o: CatOptions = {}): Cat<In, Out> {
  if (model.modules().some((m) => m instanceof QuantSite)) {
    throw new CatkitError('cat_already_attached', `CAT is already attached to this ${model.constructor.name}; attach once per model (or detach first)`);
  }
  // Weights first: a site may be (or contain) a weight layer, and must wrap the swapped one.
  const weightLayers = o.weights ? planWeights(model, o.weights) : [];
  if (o.weights) checkBits(o.weights.bits, 'CAT weights');
  planSites(model, o); // validates the selection before anything is swapped (errors leave the model as it was)
  const handle = new Cat<In, Out>(model, [], []);
  for (const [name, layer] of weightLayers) {
    const q = layer instanceof Conv2d ? new QuantConv2d(layer, o.weights!.bits) : new QuantLinear(layer, o.weights!.bits);
    model.setSubmodule(name, q);
    handle.weightLayers.push([name, q]);
  }
  // Deepest first, so a site inside another site's module is swapped in that module's own tree.
  const planned = planSites(model, o);
  const wrapped = new Map<string, QuantSite>();
  const dtype = model.parameters().find((t) => isFloating(t.dtype))?.dtype ?? 'float32'; // clips follow the model's precision
  for (const p of [...planned].reverse()) {
    const site = new QuantSite(p.name, p.module, p.settings, handle, p.defaultClip, dtype);
    model.setSubmodule(p.name, site);
    wrapped.set(p.name, site);
  }
  handle.sites.push(...planned.map((p) => wrapped.get(p.name)!));
  return handle;
}

function planWeights(model: AnyModule, o: WeightQuantOptions): [string, Conv2d | Linear][] {
  const excluded = o.exclude === undefined ? () => false : selectorMatcher(o.exclude, []);
  return model.namedModules().filter((e): e is [string, Conv2d | Linear] => {
    const [name, m] = e;
    if (name === '' || excluded(name, m)) return false;
    return m instanceof Conv2d || (o.linear === true && m instanceof Linear);
  });
}

export type { SiteOverride, SiteSettings };
