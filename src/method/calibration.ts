// Clip initialisation (reference main.py): one pass over held-out data with quantization off, each
// site's post-activation mean, standard deviation and mean absolute deviation tracked as moving
// averages (momentum 0.9, from 0), then c = mean + 3·std (or ACIQ's mean + α_b·b, or the largest |value|). The statistics
// live in the pass's own recorder, not on the modules.
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import { withRecorder, type ForwardRecorder } from './rate.js';
import type { QuantSite, ClipInit } from './site.js';

/** Running statistics of one site's output. */
export interface ActivationStats {
  mean: number; std: number; meanAbsDev: number; batches: number;
  /** Largest |value| seen (not averaged): the 'max' rule's clip. */
  maxAbs?: number;
}

export const STATS_MOMENTUM = 0.9;

/** ACIQ α tables (reference main.py, commented out there): c = mean + α_b · b. */
export const ACIQ_LAPLACE: Record<number, number> = { 1: 2.83, 2: 3.89, 3: 5.05, 4: 6.2, 5: 7.41, 6: 8.64, 7: 9.89, 8: 11.16 };
export const ACIQ_GAUSS: Record<number, number> = { 1: 1.71, 2: 2.15, 3: 2.55, 4: 2.93, 5: 3.28, 6: 3.61, 7: 3.92, 8: 4.2 };

/**
 * The moving averages with the zero-start bias removed (÷ 1 − 0.9^n). The reference averages over a
 * whole validation set, where the factor is ≈ 1; over a short calibration pass (4 batches: 0.34)
 * the raw averages would set clips far too low.
 */
export function correctStats(s: ActivationStats): ActivationStats {
  const f = s.batches > 0 ? 1 - STATS_MOMENTUM ** s.batches : 1;
  return { mean: s.mean / f, std: s.std / f, meanAbsDev: s.meanAbsDev / f, batches: s.batches, maxAbs: s.maxAbs };
}

/**
 * The clip a rule gives for bias-corrected statistics. Signed sites clip to [−c, c], so they take
 * |mean| + k·spread (the larger end of mean ± k·spread).
 */
export function clipFromStats(s: ActivationStats, rule: ClipInit, bits: number, signed = false): number {
  const mean = signed ? Math.abs(s.mean) : s.mean;
  if (rule === 'mean+3std') return mean + 3 * s.std;
  if (rule === 'max') return s.maxAbs ?? 0;
  const table = rule === 'aciq-laplace' ? ACIQ_LAPLACE : ACIQ_GAUSS;
  const alpha = table[Math.min(8, bits)]!;
  // Laplace scale b is the mean absolute deviation; the Gaussian table is in units of σ.
  return mean + alpha * (rule === 'aciq-laplace' ? s.meanAbsDev : s.std);
}

/** Collects per-site statistics over the forwards run inside it. */
export class StatsRecorder implements ForwardRecorder {
  readonly calibrating = true;
  readonly request = { terms: false, codes: false, histogram: false, histogramImages: 0 } as const;
  readonly stats = new Map<string, ActivationStats>();

  constructor(readonly owner: object) {}

  record(): void { /* calibration forwards do not quantize */ }

  observe(site: string, y: Tensor): void {
    const [mean, std, mad, maxAbs] = noGrad(() => tidy(() => {
      const m = y.mean();
      return [m.item(), y.std().item(), y.sub(m).abs().mean().item(), y.abs().max().item()];
    }));
    const s = this.stats.get(site) ?? { mean: 0, std: 0, meanAbsDev: 0, batches: 0 };
    s.maxAbs = Math.max(s.maxAbs ?? 0, maxAbs);
    const k = STATS_MOMENTUM;
    s.mean = k * s.mean + (1 - k) * mean;
    s.std = k * s.std + (1 - k) * std;
    s.meanAbsDev = k * s.meanAbsDev + (1 - k) * mad;
    s.batches++;
    this.stats.set(site, s);
  }
}

export interface CalibratedClip { site: string; clip: number }

/**
 * Runs `inputs` through `forward` (the model's, in eval mode, without gradients) with a
 * StatsRecorder listening, then sets each enabled site's learned clip from its statistics by its
 * clipInit rule (`rule` overrides it; sites with a numeric clipInit are set to that number).
 */
export async function calibrateSites(owner: object, sites: readonly QuantSite[], forward: (x: Tensor) => unknown,
  inputs: Iterable<Tensor> | AsyncIterable<Tensor>, rule?: ClipInit): Promise<{ clips: CalibratedClip[]; stats: Map<string, ActivationStats> }> {
  const rec = new StatsRecorder(owner);
  for await (const x of inputs) noGrad(() => tidy(() => { withRecorder(rec, () => forward(x)); }));
  return { clips: applyClips(sites, rec.stats, rule), stats: rec.stats };
}

/** Synchronous calibrateSites over an iterable of inputs. */
export function calibrateSitesSync(owner: object, sites: readonly QuantSite[], forward: (x: Tensor) => unknown,
  inputs: Iterable<Tensor>, rule?: ClipInit): { clips: CalibratedClip[]; stats: Map<string, ActivationStats> } {
  const rec = new StatsRecorder(owner);
  for (const x of inputs) noGrad(() => tidy(() => { withRecorder(rec, () => forward(x)); }));
  return { clips: applyClips(sites, rec.stats, rule), stats: rec.stats };
}

function applyClips(sites: readonly QuantSite[], stats: Map<string, ActivationStats>, rule: ClipInit | undefined): CalibratedClip[] {
  const out: CalibratedClip[] = [];
  for (const site of sites) {
    if (!site.clip || !site.settings.enabled) continue;
    const init = site.settings.clipInit;
    let clip: number;
    if (rule === undefined && typeof init === 'number') clip = init;
    else {
      const s = stats.get(site.name);
      if (!s) continue; // the site did not run (e.g. a branch this data never takes)
      clip = clipFromStats(correctStats(s), rule ?? (typeof init === 'number' ? 'mean+3std' : init), site.settings.bits, site.settings.signed);
    }
    if (clip > 0) site.setClip(clip);
    out.push({ site: site.name, clip });
  }
  return out;
}
