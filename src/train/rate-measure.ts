// Measured rates per site over a few batches in eval mode: the Shannon entropy of each batch's
// codes (numel-weighted, as the report's `entropy`) and, for a coder metric, the real coded size.
// A rate target calibrates against this at each epoch's end; history records it per epoch.
import type { BatchSource } from '../data/index.js';
import { LedgerAccumulator } from '../ledger/index.js';
import { toCodeArray, type Cat } from '../method/index.js';
import { evaluateAccuracy, type Accuracy } from './evaluate.js';
import type { RateMetric } from './rate-controller.js';

export interface SiteRates {
  /** Site names (the Cat's enabled sites, input to output); the arrays below follow this order. */
  sites: string[];
  /** Elements seen per site, entropy and metric in bits/value (NaN: not measured). */
  numel: number[];
  entropy: number[];
  metric: number[];
  accuracy: Accuracy;
}

/** Runs up to `maxBatches` of `source` through the CAT model and measures every site's rate. */
export async function measureSiteRates(cat: Cat, source: BatchSource, metric: RateMetric, maxBatches = Infinity): Promise<SiteRates> {
  const acc = new LedgerAccumulator({ codecs: metric === 'entropy' ? [] : [metric], verify: false });
  const accuracy = await evaluateAccuracy(cat.model, source, {
    maxBatches,
    forward: (x) => {
      const { output, rate } = cat.forward(x, { codes: true, terms: false });
      for (const r of rate.sites) if (r.codes) acc.add(r.site, r.bits, toCodeArray(r.codes, r.bits));
      return output;
    },
  });
  return siteRatesOf(cat.enabledSites.map((q) => q.name), acc, metric, accuracy);
}

/** The sites' (a Cat's enabled sites, in order) elements, entropy and metric from a finished measurement. */
export function siteRatesOf(sites: string[], acc: LedgerAccumulator, metric: RateMetric, accuracy: Accuracy): SiteRates {
  const rows = new Map(acc.finish().layers.map((r) => [r.name, r]));
  return {
    sites,
    numel: sites.map((n) => rows.get(n)?.elements ?? 0),
    entropy: sites.map((n) => rows.get(n)?.entropyPerValue ?? NaN),
    metric: sites.map((n) => {
      const r = rows.get(n);
      if (!r) return NaN;
      return metric === 'entropy' ? r.entropyPerValue : r.adaptive[metric]?.bitsPerValue ?? NaN;
    }),
    accuracy,
  };
}

/** Numel-weighted bits/value over every measured site (the report's element-weighted total). */
export function overallBits(bits: readonly number[], numel: readonly number[]): number {
  let total = 0, n = 0;
  bits.forEach((b, i) => { if (numel[i]! > 0 && Number.isFinite(b)) { total += b * numel[i]!; n += numel[i]!; } });
  return n > 0 ? total / n : NaN;
}
