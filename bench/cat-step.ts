// CAT step benchmark: ResNet-20 (CIFAR layout) at batch 64, one SGD step in three modes — full
// precision, QAT (λ = 0: 4-bit activations, 8-bit weights, no entropy term) and CAT (λ > 0: plus
// the soft-entropy term of every site) — through catkit's trainer step (`trainStep`, what
// `catkit cat` runs), and the same three in PyTorch with the reference's operations
// (bench/cat_reference.py, written after paper.md §2.2–2.5). Rounds interleave catkit and PyTorch
// so load from other processes hits both alike; the table gives medians of per-round medians of
// wall time and of process CPU time (all threads), and the JSON last line the ratios.
//
//   npm run bench:cat -- [--threads N] [--steps N] [--warmup N] [--batch N] [--rounds N]
import os from 'node:os';
import { getNumThreads, libtorchVersion, manualSeed, randint, randn, setNumThreads, tidy } from '../src/tensor/index.js';
import { resnet20 } from '../src/models/resnet-cifar.js';
import { attachCat } from '../src/method/index.js';
import { SGD } from '../src/optim/index.js';
import { TRAIN_DEFAULTS, type RunConfig } from '../src/train/config.js';
import { trainStep } from '../src/train/trainer.js';
import type { Session } from '../src/train/session.js';
import { loadNote, median, parseBenchArgs, runPythonJson, table, type BenchArgs } from './common.js';

type Mode = 'fp' | 'qat' | 'cat';
const MODES: readonly Mode[] = ['fp', 'qat', 'cat'];
interface Timing { step_ms: number; cpu_ms: number }
type Side = Record<Mode, Timing>;
const ACT_BITS = 4, LAMBDA = 0.1;

function timeCatkit(mode: Mode, a: BenchArgs): Timing {
  setNumThreads(a.threads);
  manualSeed(0);
  const model = resnet20({ inChannels: 3, numClasses: 10 });
  const cat = mode === 'fp' ? null : attachCat(model, { defaults: { bits: ACT_BITS }, weights: { bits: 8 } });
  model.toChannelsLast();
  const x = tidy(() => randn([a.batch, 3, 32, 32]).toChannelsLast());
  const y = randint(0, 10, [a.batch]);
  if (cat) cat.calibrateSync([x]);
  const config: RunConfig = { ...TRAIN_DEFAULTS, task: mode === 'fp' ? 'train' : 'cat', lambda: mode === 'cat' ? LAMBDA : 0, actBits: ACT_BITS, weightBits: 8 };
  const session = { config, model, cat } as unknown as Session; // trainStep reads only these
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const ms: number[] = [], cpu: number[] = [];
  model.train();
  try {
    for (let i = 0; i < a.warmup + a.steps; i++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      trainStep(session, x, y, opt);
      if (i >= a.warmup) {
        ms.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
    }
  } finally { opt.dispose(); model.dispose(); x.dispose(); y.dispose(); }
  return { step_ms: median(ms), cpu_ms: median(cpu) };
}

const args = parseBenchArgs('cat', process.argv.slice(2), { steps: 15, warmup: 3, batch: 64, rounds: 3 });
if (!process.argv.slice(2).some((s) => s.startsWith('--threads'))) args.threads = 1; // one core each: steadier on a shared machine
console.log(`CAT step: ResNet-20 (CIFAR), batch ${args.batch}, channels-last, SGD momentum 0.9, ${ACT_BITS}-bit activations (19 ReLU sites), ` +
  `8-bit weights (all convs), λ = ${LAMBDA}; ${args.threads} thread(s), median of ${args.steps} steps after ${args.warmup} warm-up, ` +
  `${args.rounds} interleaved rounds; libtorch ${libtorchVersion()}; ${loadNote()}`);
const rounds: { ck: Side; pt: Side; load: number }[] = [];
for (let r = 0; r < args.rounds; r++) {
  const load = os.loadavg()[0]!;
  const ck = Object.fromEntries(MODES.map((m) => [m, timeCatkit(m, args)])) as Side;
  const pt = runPythonJson<Side>('cat', 'cat_reference.py',
    [String(args.threads), String(args.steps), String(args.warmup), String(args.batch), String(ACT_BITS), String(LAMBDA)], args.threads);
  rounds.push({ ck, pt, load });
  console.log(`round ${r + 1}/${args.rounds} (load avg ${load.toFixed(2)}): ` +
    MODES.map((m) => `${m} ${ck[m].step_ms.toFixed(1)}/${pt[m].step_ms.toFixed(1)} ms wall, ${ck[m].cpu_ms.toFixed(1)}/${pt[m].cpu_ms.toFixed(1)} ms CPU`).join('; ') + ' (catkit/PyTorch)');
}
const med = (side: 'ck' | 'pt', m: Mode, k: keyof Timing): number => median(rounds.map((r) => r[side][m][k]));
const f = (v: number, d = 1): string => v.toFixed(d);
const rows: string[][] = [['', 'catkit ms', 'reference ms', 'catkit/ref', 'catkit CPU ms', 'ref CPU ms', 'CPU catkit/ref']];
for (const m of MODES) {
  rows.push([`${m === 'fp' ? 'full precision' : m === 'qat' ? 'QAT (λ = 0)' : `CAT (λ = ${LAMBDA})`} step`,
    f(med('ck', m, 'step_ms')), f(med('pt', m, 'step_ms')), f(med('ck', m, 'step_ms') / med('pt', m, 'step_ms'), 3),
    f(med('ck', m, 'cpu_ms')), f(med('pt', m, 'cpu_ms')), f(med('ck', m, 'cpu_ms') / med('pt', m, 'cpu_ms'), 3)]);
}
for (const m of ['qat', 'cat'] as const) {
  rows.push([`${m.toUpperCase()} / full precision`, f(med('ck', m, 'step_ms') / med('ck', 'fp', 'step_ms'), 3), f(med('pt', m, 'step_ms') / med('pt', 'fp', 'step_ms'), 3), '',
    f(med('ck', m, 'cpu_ms') / med('ck', 'fp', 'cpu_ms'), 3), f(med('pt', m, 'cpu_ms') / med('pt', 'fp', 'cpu_ms'), 3), '']);
}
console.log(table(rows));
console.log(`threads: catkit ${getNumThreads()}; load avg now ${os.loadavg()[0]!.toFixed(2)} on ${os.availableParallelism()} cores ` +
  '(wall time includes waiting for a core on a busy machine; CPU time does not)');
const r3 = (v: number): number => Math.round(v * 1000) / 1000;
console.log(JSON.stringify({
  ...Object.fromEntries(MODES.flatMap((m) => [[`catkit_${m}_ms`, r3(med('ck', m, 'step_ms'))], [`reference_${m}_ms`, r3(med('pt', m, 'step_ms'))],
    [`catkit_${m}_cpu_ms`, r3(med('ck', m, 'cpu_ms'))], [`reference_${m}_cpu_ms`, r3(med('pt', m, 'cpu_ms'))]])),
  cat_vs_reference: r3(med('ck', 'cat', 'step_ms') / med('pt', 'cat', 'step_ms')),
  cat_vs_reference_cpu: r3(med('ck', 'cat', 'cpu_ms') / med('pt', 'cat', 'cpu_ms')),
  cat_overhead: r3(med('ck', 'cat', 'step_ms') / med('ck', 'fp', 'step_ms')),
  cat_overhead_cpu: r3(med('ck', 'cat', 'cpu_ms') / med('ck', 'fp', 'cpu_ms')),
  load_avg: rounds.map((r) => r3(r.load)),
}));
