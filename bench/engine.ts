// Engine benchmark: ResNet-20 (CIFAR layout, 16/32/64 channels, BN, 1×1 projection shortcuts) at
// batch 64, trained with catkit in this process, then the same network with PyTorch in a child
// process (sequentially, never concurrently), same thread count, channels-last on both sides.
// Prints a table and, as the last line, a JSON object with the train-step ratio catkit/PyTorch.
//
//   npm run bench:engine -- [--threads N] [--steps N] [--warmup N] [--batch N] [--rounds N]
//
// --rounds N alternates catkit and PyTorch N times (still one at a time) and reports the median of
// the per-round medians, so load from other processes on a shared machine hits both sides alike.
import os from 'node:os';
import { libtorchVersion } from '../src/tensor/index.js';
import { resnet20 } from '../src/models/resnet-cifar.js';
import { timeModel, type ModelTiming } from './time-model.js';
import { loadNote, median, parseBenchArgs, runPythonJson, table, type BenchArgs } from './common.js';

type Result = ModelTiming;

const runCatkit = (a: BenchArgs): Result => timeModel(() => resnet20({ inChannels: 3, numClasses: 10 }), [3, 32, 32], 10, a);

function runPytorch(a: BenchArgs): Result {
  return runPythonJson<Result>('engine', 'pytorch_resnet20.py', [String(a.threads), String(a.steps), String(a.warmup), String(a.batch)], a.threads);
}

const args = parseBenchArgs('engine', process.argv.slice(2), { steps: 20, warmup: 3, batch: 64, rounds: 1 });
console.log(`ResNet-20 (CIFAR), batch ${args.batch}, channels-last, SGD momentum 0.9, ${args.threads} thread(s), ` +
  `median of ${args.steps} steps after ${args.warmup} warm-up; libtorch ${libtorchVersion()}; ${loadNote()}`);
const ckRounds: Result[] = [];
const ptRounds: Result[] = [];
for (let r = 0; r < args.rounds; r++) {
  ckRounds.push(runCatkit(args));
  ptRounds.push(runPytorch(args));
  if (args.rounds > 1) {
    const [c, p] = [ckRounds[r]!, ptRounds[r]!];
    console.log(`round ${r + 1}/${args.rounds}: train ${c.train_ms.toFixed(1)} / ${p.train_ms.toFixed(1)} ms, forward ${c.forward_ms.toFixed(1)} / ${p.forward_ms.toFixed(1)} ms (catkit / PyTorch), load avg ${os.loadavg()[0]!.toFixed(2)}`);
  }
}
// Peak RSS from the first round: later catkit rounds reuse this process (and its heap), while
// every PyTorch round is a fresh process.
const combine = (rs: Result[]): Result => ({
  train_ms: median(rs.map((r) => r.train_ms)), train_cpu_ms: median(rs.map((r) => r.train_cpu_ms)),
  forward_ms: median(rs.map((r) => r.forward_ms)), rss_mb: rs[0]!.rss_mb, threads: rs[0]!.threads, params: rs[0]!.params,
});
const ck = combine(ckRounds);
const pt = combine(ptRounds);
if (ck.params !== pt.params) console.log(`WARNING: parameter counts differ: catkit ${ck.params}, PyTorch ${pt.params}`);
if (ck.threads !== pt.threads) console.log(`WARNING: thread counts differ: catkit ${ck.threads}, PyTorch ${pt.threads}`);
const f = (v: number, d = 1): string => v.toFixed(d);
console.log(table([
  ['', 'catkit', 'PyTorch', 'catkit/PyTorch'],
  ['train step (ms, median)', f(ck.train_ms), f(pt.train_ms), f(ck.train_ms / pt.train_ms, 3)],
  ['train step CPU time (ms, median)', f(ck.train_cpu_ms), f(pt.train_cpu_ms), f(ck.train_cpu_ms / pt.train_cpu_ms, 3)],
  ['forward (ms, median)', f(ck.forward_ms), f(pt.forward_ms), f(ck.forward_ms / pt.forward_ms, 3)],
  ['peak RSS (MB)', f(ck.rss_mb, 0), f(pt.rss_mb, 0), f(ck.rss_mb / pt.rss_mb, 3)],
  ['parameters', String(ck.params), String(pt.params), ck.params === pt.params ? 'same' : 'DIFFERENT'],
  ['threads', String(ck.threads), String(pt.threads), ''],
]));
const round = (v: number): number => Math.round(v * 1000) / 1000;
console.log(JSON.stringify({
  catkit_train_ms: round(ck.train_ms), pytorch_train_ms: round(pt.train_ms), ratio: round(ck.train_ms / pt.train_ms),
  catkit_rss_mb: round(ck.rss_mb), pytorch_rss_mb: round(pt.rss_mb),
}));
