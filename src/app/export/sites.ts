// The one place that knows how the CAT method represents activation sites and weight quantization on
// a live model: reading a trained model's site settings for export, and attaching a file's site
// settings to a freshly built model for evaluation. A site is a QuantSite wrapping a ReLU/ReLU6 (its
// learned clip is `<site>.clip`); weights are quantized per tensor by QuantConv2d (plus QuantLinear
// with --quantize-linear) at the run's --weight-bits.
import { noGrad } from '../../tensor/index.js';
import { Conv2d, Linear, ReLU, ReLU6, type AnyModule, type Module } from '../../nn/index.js';
import { QuantConv2d, QuantLinear, QuantSite, attachCat, type Cat } from '../../method/index.js';
import type { RunConfig } from '../../train/config.js';
import type { SiteSpec } from '../../export/graph.js';
import { CatkitError } from '../../errors.js';

function plainKind(m: AnyModule): 'relu' | 'relu6' | null {
  if (m instanceof ReLU6) return 'relu6';
  if (m instanceof ReLU) return 'relu';
  return null;
}

/** The activation kind of a module that is an activation (a ReLU/ReLU6 or a CAT site wrapping one), or null. */
export function activationKind(m: AnyModule): 'relu' | 'relu6' | null {
  return plainKind(m instanceof QuantSite ? m.inner : m);
}

/** The quantizer settings of the site at `path` (null for a plain, unquantized activation). */
export function readSite(m: AnyModule, path: string): SiteSpec | null {
  if (!(m instanceof QuantSite)) return null;
  const kind = plainKind(m.inner);
  if (!kind) throw new CatkitError('export_unsupported', `cannot export CAT site '${path}': it quantizes a ${m.inner.constructor.name}, and the exporter knows ReLU and ReLU6 sites`);
  if (m.settings.signed) throw new CatkitError('export_unsupported', `cannot export CAT site '${path}': signed ${kind} sites are not supported`);
  const clip = m.clip ? Math.fround(Math.abs(noGrad(() => m.clip!.item()))) : null;
  return { name: path, kind, quantize: m.settings.enabled, bits: m.settings.bits, range: m.settings.range, clip };
}

/** Bits and coverage of the run's weight quantization (null: float weights). */
export function weightQuantization(config: RunConfig): { bits: number; includeLinear: boolean } | null {
  if (config.task !== 'cat' || config.weightBits === undefined || config.weightBits >= 32) return null;
  return { bits: config.weightBits, includeLinear: config.quantizeLinear };
}

/** True when this layer's weight is quantized: a CAT weight layer, or (for a model without CAT) one the run's settings cover. */
export function isQuantizedWeight(layer: AnyModule, q: { includeLinear: boolean } | null): boolean {
  if (layer instanceof QuantConv2d || layer instanceof QuantLinear) return true;
  return q !== null && (layer instanceof Conv2d || (q.includeLinear && layer instanceof Linear));
}

/**
 * Attaches CAT to a float model with exactly the file's sites (bits, range, clip, on/off each) and
 * float weights: the file's weights are already the dequantized codes, so they are not quantized again.
 */
export function attachFileSites(model: Module, sites: readonly SiteSpec[]): Cat {
  for (const s of sites) {
    const kind = activationKind(model.getSubmodule(s.name));
    if (kind !== s.kind) throw new CatkitError('catk_mismatch', `site '${s.name}' is a ${s.kind} site in the file, but the model has ${kind ?? model.getSubmodule(s.name).constructor.name} there`);
  }
  const names = new Set(sites.map((s) => s.name));
  const cat = attachCat(model, {
    sites: (name: string, m: AnyModule) => names.has(name) && plainKind(m) !== null,
    defaults: { regularizer: 'none' },
    at: sites.map((s) => ({ pattern: literalGlob(s.name), bits: s.bits, range: s.range, enabled: s.quantize, learnClip: s.clip !== null })),
    weights: null,
  });
  for (const s of sites) if (s.clip !== null) cat.site(s.name).setClip(s.clip);
  return cat;
}

/** A site name as a glob that matches only itself (module paths have no '*' or '?'). */
function literalGlob(name: string): string {
  if (/[*?]/.test(name)) throw new CatkitError('catk_header', `site name '${name}' is not a module path`);
  return name;
}
