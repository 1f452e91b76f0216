// The per-forward rate collector: what the CAT sites of one forward pass produced (each site's
// entropy term and element count in training, integer codes or code histograms when asked).
// A collector is handed in by `Cat.forward` and filled while that forward runs; nothing is left
// on the modules, so two forwards in one step, or two models in one process, never mix terms.
import { cat as concat, Tensor, tidy } from '../tensor/index.js';

export interface RateRequest {
  /** Training sites add their soft-entropy (or L1/L2) term (default true; false for a plain QAT forward). */
  terms?: boolean;
  /** Every quantizing site adds its integer codes (evaluation, coding, export). */
  codes?: boolean;
  /** Every quantizing site adds a histogram of its codes (2^b counts; cheap hard entropy for rate control). */
  histogram?: boolean;
  /**
   * Count only the codes of the first n entries along dim 0 (a batch's first n images): a per-step
   * estimate at a fraction of the cost; the record's numel stays the whole output's. 0: all (default).
   */
  histogramImages?: number;
}

/** One site's contribution to one forward. Tensors live in the caller's tidy scope. */
export interface SiteRate {
  readonly site: string;
  readonly bits: number;
  readonly signed: boolean;
  /** n_l: elements of the site's whole output tensor in this forward (the term is estimated on a sample). */
  readonly numel: number;
  /** Soft entropy in bits (or the L1/L2 ratio) with gradients; null outside training or when not asked. */
  readonly term: Tensor | null;
  /** Integer codes 0 … 2^b − 1, shaped like the output (float dtype holding integers); when asked. */
  readonly codes: Tensor | null;
  /** int64 counts of each code, length 2^b (of the first histogramImages entries when asked so); when asked. */
  readonly histogram: Tensor | null;
}

/** Where sites report during a forward; see `Rate` (training, evaluation) and calibration's statistics. */
export interface ForwardRecorder {
  /** Identifies the sites this recorder listens to (the Cat that attached them). */
  readonly owner: object;
  readonly request: Readonly<Required<RateRequest>>;
  /** Calibration: sites skip clipping and quantization and hand their raw output to observe(). */
  readonly calibrating: boolean;
  observe(site: string, y: Tensor): void;
  record(r: SiteRate): void;
}

const stack: ForwardRecorder[] = [];

/** Runs fn with `r` listening to its owner's sites (a dynamic scope, like grad mode); restores on exit. */
export function withRecorder<T>(r: ForwardRecorder, fn: () => T): T {
  stack.push(r);
  try { return fn(); } finally { stack.pop(); }
}

/** The innermost recorder listening to sites of `owner`, or null (a plain model.forward). */
export function recorderFor(owner: object | null): ForwardRecorder | null {
  if (owner === null) return null;
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.owner === owner) return stack[i]!;
  return null;
}

/** The rate terms (and codes) of one forward, in the order the sites ran. */
export class Rate implements ForwardRecorder {
  readonly sites: SiteRate[] = [];
  readonly request: Readonly<Required<RateRequest>>;
  readonly calibrating = false;

  constructor(readonly owner: object, request: RateRequest = {}) {
    const images = request.histogramImages ?? 0;
    if (!Number.isInteger(images) || images < 0) throw new RangeError(`histogramImages must be a non-negative integer, got ${images}`);
    this.request = { terms: request.terms ?? true, codes: request.codes ?? false, histogram: request.histogram ?? false, histogramImages: images };
  }

  observe(): void { /* only calibration observes raw outputs */ }
  record(r: SiteRate): void { this.sites.push(r); }

  /** The site's record (the last one if the site ran more than once in this forward). */
  get(site: string): SiteRate | undefined {
    for (let i = this.sites.length - 1; i >= 0; i--) if (this.sites[i]!.site === site) return this.sites[i];
    return undefined;
  }

  /** Records that carry a term. */
  get terms(): SiteRate[] { return this.sites.filter((s) => s.term !== null); }

  /**
   * Classification's activation term: Σ n_l·H_l / Σ n_l over the sites with a term (the reference's
   * customLoss). Null when no site produced one (eval, gradual stage with nothing on, terms off).
   */
  weightedMean(): Tensor | null {
    const terms = this.terms;
    if (terms.length === 0) return null;
    return tidy(() => {
      let total: Tensor | null = null, numel = 0;
      for (const s of terms) {
        const h = s.term!.mul(s.numel);
        total = total ? total.add(h) : h;
        numel += s.numel;
      }
      return total!.div(numel);
    });
  }

  /** The SSD reference's activation term: the plain sum Σ H_l over sites with a term. */
  sum(): Tensor | null {
    const terms = this.terms;
    if (terms.length === 0) return null;
    return tidy(() => terms.slice(1).reduce((acc, s) => acc.add(s.term!), terms[0]!.term!.mul(1)));
  }

  /** Each term's value (reads every term back to the host: for logging, not for the step). */
  values(): { site: string; numel: number; value: number }[] {
    return this.terms.map((s) => ({ site: s.site, numel: s.numel, value: s.term!.item() }));
  }

  /** Shannon entropy (bits/value) of each site's codes in this forward, from the histograms (request histogram). */
  hardEntropies(): { site: string; numel: number; bits: number }[] {
    const sites = this.sites.filter((s) => s.histogram);
    if (sites.length === 0) return [];
    // One read-back for all sites (a step's fixed cost is per native call on a small model).
    const counts = tidy(() => concat(sites.map((s) => s.histogram!.reshape([-1]))).to('float64').dataSync() as Float64Array);
    let offset = 0;
    return sites.map((s) => {
      const n = s.histogram!.size;
      const own = counts.subarray(offset, offset + n);
      offset += n;
      let total = 0, h = 0;
      for (const c of own) total += c;
      for (const c of own) if (c > 0) h -= (c / total) * Math.log2(c / total);
      return { site: s.site, numel: s.numel, bits: h };
    });
  }

}
