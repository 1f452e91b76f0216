// The README's "Library" example, run by test/examples/library.test.ts: build a small network from
// catkit/nn pieces, attach CAT (a signed GELU site, a ReLU site at 6 bits, 8-bit Linear weights),
// calibrate the clips, train a few steps with the entropy term, and measure bits per layer by
// entropy-coding each site's integer codes.
import { F, manualSeed, noGrad, randint, randn, tidy, type Tensor } from 'catkit/tensor';
import { GELU, Linear, Module, ReLU } from 'catkit/nn';
import { SGD } from 'catkit/optim';
import { attachCat, toCodeArray } from 'catkit/method';
import { LedgerAccumulator, type BandwidthLedger } from 'catkit/ledger';
import { formatLedgerTable } from 'catkit';

class Mlp extends Module {
  constructor() {
    super();
    this.add('fc1', new Linear(16, 64));
    this.add('act1', new GELU());      // a site: signed range, learned clip in [−|c|, |c|]
    this.add('fc2', new Linear(64, 64));
    this.add('act2', new ReLU());      // a site: unsigned, clip in [0, |c|]
    this.add('head', new Linear(64, 4));
  }
  // Children are called through the module tree, so the swapped-in quantized modules take effect.
  forward(x: Tensor): Tensor {
    let y = x;
    for (const name of ['fc1', 'act1', 'fc2', 'act2', 'head']) y = this.child(name).forward(y);
    return y;
  }
}

export function runLibraryExample(steps = 20): { entropyBefore: number; entropyAfter: number; ledger: BandwidthLedger; table: string } {
  manualSeed(0);
  const model = new Mlp();
  const cat = attachCat(model, {
    sites: [GELU, ReLU],                        // module classes, name globs or a predicate
    defaults: { bits: 4, sampling: { images: 32, stride: 1 } },
    at: [{ pattern: 'act2', bits: 6 }],         // per-site settings by glob
    weights: { bits: 8, linear: true },         // Linear → QuantLinear, same parameter names
  });
  console.table(cat.rows());

  const x = randn([256, 16]);
  const y = tidy(() => x.narrow(1, 0, 4).argmax(1)); // a learnable toy task
  cat.calibrateSync([x]);                            // clips = mean + 3·std of each site's output
  const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const lambda = 0.5;
  let entropyBefore = NaN, entropyAfter = NaN;
  model.train();
  for (let step = 0; step < steps; step++) {
    const batch = randint(0, 256, [32]);
    tidy(() => {
      const xb = x.indexSelect(0, batch), yb = y.indexSelect(0, batch);
      const { output, rate } = cat.forward(xb);               // the rate terms of this forward
      const entropy = rate.weightedMean()!;                   // Σ n·H / Σ n over the sites (bits)
      const loss = F.crossEntropy(output, yb).add(entropy.mul(lambda));
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      if (step === 0) entropyBefore = entropy.item();
      entropyAfter = entropy.item();
    });
    batch.dispose();
  }

  // Bits per layer: each site's integer codes, entropy-coded for real (Huffman, rANS, zero-run).
  model.eval();
  const ledger = new LedgerAccumulator();
  noGrad(() => tidy(() => {
    const { rate } = cat.forward(x, { codes: true });
    for (const site of rate.sites) ledger.add(site.site, site.bits, toCodeArray(site.codes!, site.bits));
  }));
  const result = ledger.finish();
  const table = formatLedgerTable(result);
  optimizer.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  return { entropyBefore, entropyAfter, ledger: result, table };
}
