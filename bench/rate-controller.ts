// Cost of the target-rate controller per CAT training step: on a measuring step each site also
// counts its codes (the fused site op's histogram of the first images' codes, all sites' counts
// read back at once) and the controller updates; the loss takes λ·(the weighted mean term). The
// reference is the same trainer step with a fixed λ. Interleaved rounds on one session
// (fixed/target pairs on the same batch in ABBA order, so load from other processes and order
// effects hit both alike),
// medians of per-round medians of wall time and of process CPU time; JSON last line.
//   node dist/bench/rate-controller.js [--steps 10] [--rounds 7] [--warmup 3] [--batch 64] [--threads N]
import { manualSeed, setNumThreads, dispose, type Tensor } from '../src/tensor/index.js';
import { TRAIN_DEFAULTS, CAT_DEFAULTS, type RunConfig } from '../src/train/config.js';
import { buildSession, buildOptimizer, disposeSession } from '../src/train/session.js';
import { trainStep } from '../src/train/trainer.js';
import { RateTarget, RATE_SAMPLE_IMAGES } from '../src/train/rate-target.js';
import { loadNote, median, parseBenchArgs, table } from './common.js';

const a = parseBenchArgs('rate-controller', process.argv.slice(2), { steps: 10, warmup: 3, batch: 64, rounds: 7 });
setNumThreads(a.threads);
manualSeed(0);

/** The controller settings measured: none (the A/A noise floor), what `catkit cat --target-bits` uses, and the whole batch counted on every step. */
const VARIANTS = [
  { name: 'none (fixed λ vs itself: noise floor)', measureEvery: 0, sampleImages: 0 },
  { name: `every step, ${RATE_SAMPLE_IMAGES} images (default)`, measureEvery: 1, sampleImages: RATE_SAMPLE_IMAGES },
  { name: `every 4th step, ${RATE_SAMPLE_IMAGES} images (--target-measure-every 4)`, measureEvery: 4, sampleImages: RATE_SAMPLE_IMAGES },
  { name: 'every step, whole batch', measureEvery: 1, sampleImages: 0 },
] as const;

interface Timing { ms: number; cpu: number }
const rows: string[][] = [['model', 'controller', 'fixed λ step (ms)', 'target step (ms)', 'wall overhead', 'fixed λ CPU (ms)', 'target CPU (ms)', 'CPU overhead']];
const results: Record<string, unknown>[] = [];
for (const model of ['resnet8', 'resnet20']) {
  const config: RunConfig = { ...TRAIN_DEFAULTS, ...CAT_DEFAULTS, task: 'cat', model, dataset: 'digits', batchSize: a.batch, lambda: 1, actBits: 4, weightBits: 8, sampleImages: 16, padTo: 32 } as RunConfig;
  const s = buildSession(config);
  const cat = s.cat!;
  const { optimizer } = buildOptimizer(s);
  const batches: { x: Tensor; y: Tensor }[] = [];
  for (const b of s.train.batches(0) as Iterable<{ x: Tensor; y: Tensor }>) { batches.push(b); if (batches.length >= 4) break; }
  const step = (target: RateTarget | undefined, k: number): Timing => {
    const b = batches[k % batches.length]!;
    const t0 = performance.now(), c0 = process.cpuUsage();
    trainStep(s, b.x, b.y, optimizer, undefined, target);
    const c = process.cpuUsage(c0);
    return { ms: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
  };
  for (const v of VARIANTS) {
    // A target far below the start with λ starting at 1 keeps every site's entropy term in the
    // loss, as in a real target run (a site at λ = 0 would skip its term's backward).
    const target = v.measureEvery === 0 ? undefined
      : new RateTarget(cat, { bits: 0.5, totalSteps: 10_000, lambda: 1, measureEvery: v.measureEvery, sampleImages: v.sampleImages, controller: { lambdaInit: 1 } });
    for (let i = 0; i < a.warmup; i++) { step(undefined, i); step(target, i); }
    const fixed: Timing[] = [], targeted: Timing[] = [];
    for (let r = 0; r < a.rounds; r++) {
      const f: Timing[] = [], t: Timing[] = [];
      // Both sides run the same batch, in alternating order (ABBA), so neither always follows the other.
      for (let i = 0; i < a.steps; i++) {
        if (i % 2 === 0) { f.push(step(undefined, i)); t.push(step(target, i)); } else { t.push(step(target, i)); f.push(step(undefined, i)); }
      }
      fixed.push({ ms: median(f.map((x) => x.ms)), cpu: median(f.map((x) => x.cpu)) });
      targeted.push({ ms: median(t.map((x) => x.ms)), cpu: median(t.map((x) => x.cpu)) });
    }
    target?.dispose();
    const fm = median(fixed.map((x) => x.ms)), tm = median(targeted.map((x) => x.ms));
    const fc = median(fixed.map((x) => x.cpu)), tc = median(targeted.map((x) => x.cpu));
    const pct = (t: number, f: number) => ((t - f) / f) * 100;
    rows.push([model, v.name, fm.toFixed(1), tm.toFixed(1), `${pct(tm, fm).toFixed(2)} %`, fc.toFixed(1), tc.toFixed(1), `${pct(tc, fc).toFixed(2)} %`]);
    results.push({ model, controller: v.name, batch: a.batch, fixedMs: fm, targetMs: tm, wallOverheadPct: pct(tm, fm), fixedCpuMs: fc, targetCpuMs: tc, cpuOverheadPct: pct(tc, fc) });
  }
  optimizer.dispose();
  for (const b of batches) dispose([b.x, b.y]);
  await disposeSession(s);
}
process.stdout.write(`rate controller cost per CAT training step (digits padded to 32×32, batch ${a.batch}, 4-bit activations, ${a.threads} threads, steps alternate fixed λ / target; ${loadNote()})\n`);
process.stdout.write(table(rows) + '\n');
process.stdout.write(JSON.stringify({ bench: 'rate-controller', threads: a.threads, rounds: a.rounds, steps: a.steps, results }) + '\n');
