// A CAT activation site: the output of one module, clipped by a learned |c|, fake-quantized to b
// bits with a straight-through gradient, and (in training, when a rate collector asks) measured by
// the soft entropy of a sample. QuantSite stands in for the module at its path as a transparent
// wrapper: it runs the original module and re-registers that module's own parameters, buffers and
// children under their original names, so every state-dict key is unchanged (`layer1.0.relu1.clip`
// is the only one added) and float checkpoints still load.
import { Tensor, full, keep, noGrad, tidy, type DType } from '../tensor/index.js';
import { F } from '../tensor/index.js';
import { Module, ReLU, ReLU6, type AnyModule } from '../nn/index.js';
import { checkBits, fakeQuantizeDynamicComposite, fakeQuantizePerChannel, fakeQuantizeToRange } from './quantize.js';
import { l1l2Ratio, softEntropy, softEntropyOfSample, type ActivationSampling } from './soft-entropy.js';
import { fusedDtype, fusedSite, sampleIndex, type FusedActivation } from './fused-site.js';
import { recorderFor, type ForwardRecorder } from './rate.js';
import { CatkitError } from '../errors.js';

/** Where the quantization range comes from: the batch's min/max (reference), the learned clip, or per channel. */
export type RangeMode = 'tensor' | 'clip' | 'channel';
export type RegularizerKind = 'entropy' | 'compression' | 'none';
export type ClipInit = 'mean+3std' | 'aciq-laplace' | 'aciq-gauss' | 'max';

/** Everything that can be set per site (by type, by name glob, or for all sites). */
export interface SiteSettings {
  /** Quantizer bit width b (1–16). */
  bits: number;
  /** false: the site passes its module's output through, unquantized and uncounted. */
  enabled: boolean;
  /**
   * false: values are ≥ 0 (ReLU-like), clipped to [0, |c|]. true: any sign (GELU, LayerNorm, taps),
   * clipped to [−|c|, |c|]; both quantize between the tensor's dynamic min and max.
   */
  signed: boolean;
  range: RangeMode;
  /** Learn a clip value c (PACT-style). */
  learnClip: boolean;
  /** How calibration sets c: a rule on the site's statistics, or a fixed value (no calibration needed). */
  clipInit: ClipInit | number;
  regularizer: RegularizerKind;
  /** Inverse kernel width T of softmax(−T·d²) (reference 10). */
  temperature: number;
  sampling: ActivationSampling;
}

export class QuantSite extends Module {
  readonly settings: SiteSettings;
  /** Quantize in training (gradual mode turns sites on one by one); evaluation always quantizes. */
  quantizeInTraining = true;
  /** The current temperature (settings.temperature times the annealing factor). */
  temperature: number;

  /**
   * @param name the site's dotted path in the model (its record's name)
   * @param inner the module whose output this site quantizes (run as is)
   * @param owner the attachment this site reports to (see rate.ts)
   * @param dtype of the clip parameter (the model's floating dtype)
   */
  constructor(readonly name: string, readonly inner: AnyModule, settings: SiteSettings, readonly owner: object, defaultClip = 1, dtype: DType = 'float32') {
    super();
    if (inner instanceof QuantSite) throw new CatkitError('cat_already_attached', `CAT site '${name}' is already quantized; attach CAT once per model`);
    checkBits(settings.bits, `CAT site '${name}'`);
    if (settings.range === 'clip' && !settings.learnClip) throw new CatkitError('cat_site_settings', `CAT site '${name}': range 'clip' needs a learned clip`);
    this.settings = { ...settings, sampling: { ...settings.sampling } };
    this.temperature = settings.temperature;
    // Transparent: the inner module's own tensors and children keep their names at this path.
    for (const [key, t] of inner.namedParameters()) if (!key.includes('.')) this.registerParameter(key, t, { requiresGrad: t.requiresGrad });
    for (const [key, t] of inner.namedBuffers()) if (!key.includes('.')) this.registerBuffer(key, t);
    for (const [key, c] of inner.namedChildren()) this.registerModule(key, c);
    if (settings.learnClip) {
      if (inner.namedParameters().some(([k]) => k === 'clip')) throw new CatkitError('cat_site_settings', `CAT site '${name}': the module already has a parameter named 'clip'`);
      const init = typeof settings.clipInit === 'number' ? settings.clipInit : defaultClip;
      this.registerParameter('clip', full([], init, { dtype }));
    }
    this.training = inner.training;
  }

  get clip(): Tensor | null { return this.optionalParam('clip'); }

  /** True when a forward in the current mode quantizes. */
  get quantizing(): boolean { return this.settings.enabled && (!this.training || this.quantizeInTraining); }

  forward(x: unknown): Tensor {
    this.inner.training = this.training;
    const rec = this.settings.enabled ? recorderFor(this.owner) : null;
    // A plain ReLU / ReLU6 folds into the fused op: the site then reads the module's input.
    const folded = x instanceof Tensor && this.settings.enabled && !rec?.calibrating ? foldableActivation(this.inner) : null;
    if (folded && this.#fusable(x as Tensor, rec)) return this.#fused(x as Tensor, folded, rec);
    const out = this.inner.forward(x);
    if (!(out instanceof Tensor)) throw new CatkitError('cat_site_output', `CAT site '${this.name}' (${this.inner.constructor.name}) must output a Tensor`, { userFacing: false });
    if (!this.settings.enabled) return out;
    if (rec?.calibrating) { rec.observe(this.name, out); return out; }
    if (this.#fusable(out, rec)) return this.#fused(out, 'none', rec);
    // The composite path: other dtypes, per-channel ranges, the L1/L2 term (which needs the whole clipped tensor).
    let y = out;
    const clip = this.clip;
    if (clip) {
      const c = clip.abs();
      y = this.settings.signed ? y.clamp(c.neg(), c) : y.clamp(null, c); // PACT: gradient to c where clipped
    }
    if (!this.quantizing) return y;
    return this.#quantizeAndRecord(y, rec);
  }

  #wantsTerm(rec: ForwardRecorder | null): boolean {
    return rec !== null && rec.request.terms && this.training && this.settings.regularizer !== 'none';
  }

  /** The fused op computes exactly what the composite path would for this input. */
  #fusable(t: Tensor, rec: ForwardRecorder | null): boolean {
    const s = this.settings, clip = this.clip;
    return fusedDtype(t.dtype) && (clip === null || clip.dtype === t.dtype) && (s.range !== 'channel' || t.rank < 2) &&
      !(this.quantizing && s.regularizer === 'compression' && this.#wantsTerm(rec));
  }

  /** Activation (if folded), clip, quantization, codes, histogram and the entropy sample in one native op. */
  #fused(t: Tensor, activation: FusedActivation, rec: ForwardRecorder | null): Tensor {
    const s = this.settings, clip = this.clip;
    const quantize = this.quantizing;
    const wantTerm = quantize && this.#wantsTerm(rec); // regularizer 'entropy' here (see #fusable)
    return tidy(() => {
      const r = fusedSite(t, {
        activation, clip, clipMode: clip ? (s.signed ? 'symmetric' : 'upper') : 'none', range: s.range === 'clip' ? 'clip' : 'tensor',
        bits: s.bits, quantize, sampleIndex: wantTerm ? sampleIndex(t.shape, s.sampling) : null,
        codes: quantize && rec !== null && rec.request.codes, histogram: quantize && rec !== null && rec.request.histogram,
        histogramRows: rec?.request.histogramImages ?? 0,
      });
      if (quantize && rec) {
        const term = wantTerm ? softEntropyOfSample(r.sample!, { bits: s.bits, temperature: this.temperature }) : null;
        // Kept until Cat.forward hands them to its caller's scope (a model may run sites inside its own tidy).
        rec.record({
          site: this.name, bits: s.bits, signed: s.signed, numel: t.size,
          term: term && keep(term), codes: r.codes && keep(r.codes), histogram: r.histogram && keep(r.histogram),
        });
      }
      return r.value;
    });
  }

  #quantizeAndRecord(y: Tensor, rec: ForwardRecorder | null): Tensor {
    const s = this.settings;
    const wantTerm = this.#wantsTerm(rec);
    const wantCodes = rec !== null && (rec.request.codes || rec.request.histogram);
    const term = wantTerm
      ? (s.regularizer === 'entropy' ? softEntropy(y, { bits: s.bits, temperature: this.temperature, sampling: s.sampling }) : l1l2Ratio(y))
      : null;
    // Only a histogram of the first n images: copy just those codes (the copy is most of its cost).
    const codeRows = rec !== null && !rec.request.codes ? rec.request.histogramImages : 0;
    const { value, codes } = this.#quantize(y, wantCodes, codeRows);
    if (rec) {
      const histogram = rec.request.histogram && codes ? tidy(() => F.bincount(firstRows(codes, rec.request.histogramImages).reshape([-1]).to('int64'), 1 << s.bits)) : null;
      // Kept until Cat.forward hands them to its caller's scope (a model may run sites inside its own tidy).
      rec.record({
        site: this.name, bits: s.bits, signed: s.signed, numel: y.size,
        term: term && keep(term), codes: rec.request.codes && codes ? keep(codes) : null, histogram: histogram && keep(histogram),
      });
    }
    return value;
  }

  #quantize(y: Tensor, codes: boolean, codeRows: number): { value: Tensor; codes: Tensor | null } {
    const s = this.settings;
    if (s.range === 'channel' && y.rank >= 2) return fakeQuantizePerChannel(y, s.bits);
    if (s.range === 'clip') {
      const c = this.clip!.abs();
      return tidy(() => fakeQuantizeToRange(y, s.bits, s.signed ? c.neg() : null, c, { codes, codeRows }));
    }
    return fakeQuantizeDynamicComposite(y, s.bits, { codes, codeRows });
  }

  /** Sets the learned clip (e.g. from calibration). */
  setClip(value: number): void {
    if (!this.clip) throw new CatkitError('cat_site_settings', `CAT site '${this.name}' has no learned clip`);
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`CAT site '${this.name}': clip must be a positive finite number, got ${value}`);
    noGrad(() => this.clip!.fill_(value));
  }
}

/** The first n entries of dim 0 (all when n is 0 or covers the tensor). */
function firstRows(t: Tensor, n: number): Tensor {
  return n > 0 && t.rank >= 1 && t.shape[0]! > n ? t.narrow(0, 0, n) : t;
}

/** The fused op's activation for a module that is exactly nn's ReLU / ReLU6 (not a subclass, no patched forward). */
function foldableActivation(m: AnyModule): FusedActivation | null {
  if (Object.prototype.hasOwnProperty.call(m, 'forward')) return null;
  const proto = Object.getPrototypeOf(m);
  return proto === ReLU.prototype ? 'relu' : proto === ReLU6.prototype ? 'relu6' : null;
}
