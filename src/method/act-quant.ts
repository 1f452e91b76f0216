// The CAT activation site: ReLU (or ReLU6), learned clip to [0, |c|], b-bit uniform fake
// quantization with a straight-through gradient, and, in training, the soft entropy of a sample
// for the loss. Replaces a ReLU/ReLU6 module one-for-one, so float checkpoints still load.
import { Tensor, full, noGrad, tidy } from '../tensor/index.js';
import { Module } from '../nn/index.js';
import { checkBits, fakeQuantize, fakeQuantizePerChannel } from './quantize.js';
import { softEntropy, l1l2Ratio, type ActivationSampling } from './soft-entropy.js';

export type ActivationKind = 'relu' | 'relu6';
/** Where the quantization range comes from: the batch's min/max (reference), the learned clip, or per channel. */
export type RangeMode = 'tensor' | 'clip' | 'channel';
export type RegularizerKind = 'entropy' | 'compression' | 'none';

export interface ActQuantOptions {
  bits: number;
  kind?: ActivationKind;
  /** Learn a clip value c (PACT-style); default true. */
  learnClip?: boolean;
  range?: RangeMode;
  regularizer?: RegularizerKind;
  temperature?: number;
  sampling?: ActivationSampling;
}

/** Integer codes of one quantized tensor, handed to evaluation sinks (ledger). */
export type CodeSink = (site: string, codes: Uint8Array | Uint16Array, bits: number) => void;

/** Running statistics of the site's post-activation values, for clip initialisation. */
export interface ActivationStats { mean: number; std: number; meanAbsDev: number; batches: number }

export class ActQuant extends Module {
  readonly kind: ActivationKind;
  readonly learnClip: boolean;
  bits: number;
  range: RangeMode;
  regularizer: RegularizerKind;
  temperature: number;
  sampling: ActivationSampling | undefined;
  /** Quantize in training (gradual mode turns sites on one by one); eval always quantizes. */
  quantizeInTraining = true;
  /** The 32-bit edge (`--noQuantEdges`): never quantize and never count. */
  passThrough = false;
  /** Dotted module path, set by attachActQuant; names the site in logs and ledgers. */
  site = '';
  /** Loss term and element count of the last training forward (tensor lives in the caller's scope). */
  lastRegularizer: Tensor | null = null;
  lastNumel = 0;
  /** When set, every quantized forward hands its integer codes here (evaluation). */
  codeSink: CodeSink | null = null;
  /** Calibration pass: forward is a plain activation that updates running statistics. */
  calibrating = false;
  readonly stats: ActivationStats = { mean: 0, std: 0, meanAbsDev: 0, batches: 0 };
  static readonly STATS_MOMENTUM = 0.9;

  constructor(o: ActQuantOptions) {
    super();
    checkBits(o.bits, 'ActQuant');
    this.bits = o.bits;
    this.kind = o.kind ?? 'relu';
    this.learnClip = o.learnClip ?? true;
    this.range = o.range ?? 'tensor';
    if (this.range === 'clip' && !this.learnClip) throw new Error('ActQuant: range "clip" needs learnClip');
    this.regularizer = o.regularizer ?? 'entropy';
    this.temperature = o.temperature ?? 10;
    this.sampling = o.sampling;
    if (this.learnClip) this.registerParameter('clip', full([], this.kind === 'relu6' ? 6 : 1));
  }

  get clip(): Tensor | null { return this.optionalParam('clip'); }

  /** True when this forward quantizes (eval: always unless pass-through; training: per flag). */
  get quantizing(): boolean { return !this.passThrough && (!this.training || this.quantizeInTraining); }

  forward(x: Tensor): Tensor {
    let y = this.kind === 'relu6' ? x.relu6() : x.relu();
    if (this.passThrough) return y;
    if (this.calibrating) { this.#updateStats(y); return y; }
    if (this.clip) y = y.clamp(null, this.clip.abs()); // = clipToLearned on post-ReLU values, one op fewer
    if (!this.quantizing) { this.lastRegularizer = null; return y; }

    if (this.training && this.regularizer !== 'none') {
      this.lastRegularizer = this.regularizer === 'entropy'
        ? softEntropy(y, { bits: this.bits, temperature: this.temperature, sampling: this.sampling })
        : l1l2Ratio(y);
      this.lastNumel = y.size;
    } else {
      this.lastRegularizer = null;
    }
    const { value, codes } = this.#quantize(y);
    if (this.codeSink && codes) this.codeSink(this.site, toCodeArray(codes, this.bits), this.bits);
    return value;
  }

  #quantize(y: Tensor): { value: Tensor; codes: Tensor | null } {
    const codes = this.codeSink !== null;
    if (this.range === 'channel' && y.rank >= 2) return fakeQuantizePerChannel(y, this.bits);
    if (this.range === 'clip') return fakeQuantize(y, this.bits, { min: 0, max: this.clip!.abs().item() }, { codes });
    return tidy(() => {
      const [lo, hi] = y.aminmax();
      return fakeQuantize(y, this.bits, { min: lo!.item(), max: hi!.item() }, { codes });
    });
  }

  #updateStats(y: Tensor): void {
    noGrad(() => tidy(() => {
      const m = ActQuant.STATS_MOMENTUM;
      const mean = y.mean().item();
      const std = y.std().item();
      const mad = y.sub(mean).abs().mean().item();
      const s = this.stats;
      // Exponential moving averages from 0, as the reference's statistics pass does.
      s.mean = m * s.mean + (1 - m) * mean;
      s.std = m * s.std + (1 - m) * std;
      s.meanAbsDev = m * s.meanAbsDev + (1 - m) * mad;
      s.batches++;
    }));
  }

  /** Sets the learned clip (e.g. from calibration). */
  setClip(value: number): void {
    if (!this.clip) throw new Error(`ActQuant ${this.site}: this site has no learned clip`);
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`ActQuant ${this.site}: clip must be a positive finite number, got ${value}`);
    noGrad(() => this.clip!.fill_(value));
  }

  /**
   * The running statistics with the zero-start bias of the moving average removed (÷ 1 − 0.9^n).
   * The reference averages over a whole validation set, where the factor is ≈ 1; over a short
   * calibration pass (4 batches: 0.34) the raw averages would set clips far too low.
   */
  correctedStats(): ActivationStats {
    const s = this.stats;
    const f = s.batches > 0 ? 1 - ActQuant.STATS_MOMENTUM ** s.batches : 1;
    return { mean: s.mean / f, std: s.std / f, meanAbsDev: s.meanAbsDev / f, batches: s.batches };
  }

  resetStats(): void { Object.assign(this.stats, { mean: 0, std: 0, meanAbsDev: 0, batches: 0 }); }
}

/** Codes as the smallest unsigned array that holds b-bit symbols. */
export function toCodeArray(codes: Tensor, bits: number): Uint8Array | Uint16Array {
  return tidy(() => {
    if (bits <= 8) return codes.to('uint8').dataSync() as Uint8Array;
    return Uint16Array.from(codes.to('int32').dataSync() as Int32Array);
  });
}

