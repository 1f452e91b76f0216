// CAT on a fine-tuned BERT classifier. Sites: the inputs of the six Linear layers of every
// encoder block — the hidden states after a LayerNorm (embeddings.LayerNorm and each block's
// output.LayerNorm feed the next Q/K/V; attention.output.LayerNorm feeds intermediate.dense), the
// attention context (attention.self.context feeds attention.output.dense) and the GELU output
// (feeds output.dense) — all signed, quantized over each tensor's dynamic min/max with a learned
// clip; optionally the attention probabilities. Every Linear (encoder, pooler, classifier) gets
// 8-bit weight fake quantization. Loss = cross-entropy + λ · (element-weighted mean soft entropy).
// Evaluation reports bits/value per site type: the Shannon entropy of each site's codes over the
// dev set (histograms summed over batches), element-weighted within the type.
import { GELU, LayerNorm } from '../../nn/index.js';
import type { Tensor } from '../../tensor/index.js';
import { attachCat, type Cat } from '../../method/index.js';
import type { BertForSequenceClassification, BertInputs } from '../../models/bert/index.js';
import { evaluateClassifier, type ClassifierForward, type PreparedTask } from './finetune.js';

export const SITE_TYPES = {
  'LayerNorm → Q/K/V': /(^|\.)embeddings\.LayerNorm$|\.output\.LayerNorm$/,
  'LayerNorm → FFN': /\.attention\.output\.LayerNorm$/,
  'context → attn out': /\.attention\.self\.context$/,
  'GELU → FFN out': /\.intermediate\.intermediate_act_fn$/,
  'attention probs': /\.attention\.self\.probs$/,
} as const;
export type SiteType = keyof typeof SITE_TYPES;

export function siteType(name: string): SiteType {
  // attention.output.LayerNorm also ends in '.output.LayerNorm': test the specific pattern first.
  if (SITE_TYPES['LayerNorm → FFN'].test(name)) return 'LayerNorm → FFN';
  for (const [t, re] of Object.entries(SITE_TYPES)) if (re.test(name)) return t as SiteType;
  throw new Error(`internal: '${name}' is not a BERT CAT site`);
}

export interface BertCatOptions { bits: number; weightBits?: number; probs?: boolean }

/** Attaches CAT to a BERT classifier at the Linear-input sites (and optionally the attention probabilities). */
export function attachBertCat(model: BertForSequenceClassification, o: BertCatOptions): Cat<BertInputs, Tensor> {
  const sites = [LayerNorm, GELU, '*.attention.self.context', ...(o.probs ? ['*.attention.self.probs'] : [])];
  return attachCat(model, {
    // The entropy term samples every `stride`-th value of the first sentences' [T·H] rows. A stride
    // of 16 divides every BERT width, so it saw channels 0, 16, 32, … only (1/16 of them) and λ
    // lowered those while the rest rose; 17 (prime) walks through all channels.
    sites, defaults: { bits: o.bits, signed: true, sampling: { images: 4, stride: 17 } },
    weights: o.weightBits ? { bits: o.weightBits, linear: true } : null,
  });
}

export interface SiteBits { type: SiteType; sites: number; numel: number; bitsPerValue: number }

/** One site's entropy of its codes over the evaluated examples. */
export interface SiteEntropy { site: string; numel: number; bitsPerValue: number }

/**
 * Dev-set evaluation through the CAT model: predictions and bits/value per site and per site type.
 * `p.dev` is what is evaluated (a rate target passes training batches there to calibrate on).
 */
export function evaluateBertCat(cat: Cat<BertInputs, Tensor>, p: PreparedTask, batchSize: number): { eval: ReturnType<typeof evaluateClassifier>; perType: SiteBits[]; perSite: SiteEntropy[]; overall: number } {
  const counts = new Map<string, { numel: number; hist: Float64Array }>();
  const forward: ClassifierForward = (x) => {
    const { output, rate } = cat.forward(x, { terms: false, histogram: true });
    for (const s of rate.sites) {
      const h = s.histogram!.to('float64').dataSync() as Float64Array;
      const c = counts.get(s.site) ?? { numel: 0, hist: new Float64Array(h.length) };
      c.numel += s.numel;
      h.forEach((v, i) => { c.hist[i]! += v; });
      counts.set(s.site, c);
    }
    return { logits: output };
  };
  const ev = evaluateClassifier(cat.model as BertForSequenceClassification, p, { batchSize, forward });
  const byType = new Map<SiteType, { sites: number; numel: number; bits: number }>();
  let allBits = 0, allNumel = 0;
  const perSite: SiteEntropy[] = [];
  for (const [site, c] of counts) {
    const total = c.hist.reduce((a, b) => a + b, 0);
    let h = 0;
    for (const v of c.hist) if (v > 0) h -= (v / total) * Math.log2(v / total);
    perSite.push({ site, numel: c.numel, bitsPerValue: h });
    const t = byType.get(siteType(site)) ?? { sites: 0, numel: 0, bits: 0 };
    t.sites++; t.numel += c.numel; t.bits += h * c.numel;
    byType.set(siteType(site), t);
    allBits += h * c.numel; allNumel += c.numel;
  }
  const perType = [...byType].map(([type, t]) => ({ type, sites: t.sites, numel: t.numel, bitsPerValue: t.bits / t.numel }));
  return { eval: ev, perType, perSite, overall: allBits / allNumel };
}

