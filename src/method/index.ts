// catkit/method — compression-aware training (CAT) on any Module.
//
//   const cat = attachCat(model, {
//     sites: [ReLU, GELU, 'encoder.*.attn.context'],      // classes, dotted-name globs or predicates (default: ReLU, ReLU6)
//     exclude: ['extras.*'],                               // sites to leave out
//     defaults: { bits: 4 },                               // every site: bits, signed, range, clipInit, regularizer, temperature, sampling, enabled
//     at: [{ pattern: 'layer1.*', bits: 6 }],              // per-site overrides by glob, in order (each must match a site)
//     weights: { bits: 8, linear: true },                  // Conv2d (+ Linear) → QuantConv2d / QuantLinear, same parameter names
//     noQuantEdges: false,                                 // reference --noQuantEdges: last site unquantized and uncounted
//   });
//   await cat.calibrate(heldOutInputs);                    // clips from mean + 3·std (or ACIQ) of each site's output
//   const { output, rate } = cat.forward(x);               // training: rate.sites[i].term = soft entropy (bits), .numel
//   const loss = F.crossEntropy(output, y).add(rate.weightedMean()!.mul(lambda));   // SSD reference: rate.sum()
//   cat.forward(x, { codes: true }).rate.sites              // evaluation: integer codes per site (histogram: true → counts)
//
// A site is a module's output: QuantSite wraps the module at its path (running it unchanged) and
// re-registers its tensors under the same names, so float checkpoints load (only `<site>.clip` is
// added). ReLU/ReLU6 sites are unsigned ([0, |c|]); any other class is signed ([−|c|, |c|]); both
// quantize between the tensor's dynamic min and max unless range is 'clip' or 'channel'. Terms and
// codes reach the caller only through the Rate a Cat.forward returns: nothing is left on modules.
// A plain model.forward still quantizes (QAT) but collects nothing.
// Float32/float64 activation sites run one fused native op (fused-site.ts: activation,
// clip, rounding, codes, histogram and the entropy sample in one pass, its backward in one pass);
// useFusedSites(false) switches back to the composite of ATen ops, which gives the same bits.
export * from './quantize.js';
export * from './soft-entropy.js';
export * from './rate.js';
export * from './site.js';
export * from './plan.js';
export * from './quant-layers.js';
export * from './calibration.js';
export * from './weight-entropy.js';
export * from './cat.js';
export { fusedSite, sampleIndex, useFusedSites, type FusedSiteOptions, type FusedSiteResult } from './fused-site.js';
export { toCodeArray } from './codes.js';
