// Eval forward and train step of ResNet-18, ResNet-50 and MobileNetV2 (ImageNet layout, 224², batch 32 by
// default, channels-last) against torchvision's in a PyTorch child process, one at a time, interleaved
// rounds. catkit's eval forward is timed twice: with the default shortcuts (in-place ReLUs and residual
// sums, bit-identical) and with Conv2d+BatchNorm2d folding switched on (setEvalFusion, float rounding
// differs ≲ 1e-6 relative per layer). Wall and process CPU time; table, then a JSON last line.
// Ratios are catkit / PyTorch times (below 1: catkit is faster).
//
//   npm run bench:eval-forward -- [--threads N] [--steps N] [--warmup N] [--batch N] [--rounds N] [--only=resnet18,…]
import os from 'node:os';
import { libtorchVersion } from '../src/tensor/index.js';
import { resnet18, resnet50 } from '../src/models/resnet.js';
import { mobilenetV2 } from '../src/models/mobilenetv2.js';
import type { Module } from '../src/nn/index.js';
import { timeModel, type CatkitTiming, type ModelTiming } from './time-model.js';
import { loadNote, median, parseBenchArgs, runPythonJson, table } from './common.js';

const argv = process.argv.slice(2);
const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const args = parseBenchArgs('eval-forward', argv.filter((a) => !a.startsWith('--only=')), { steps: 3, warmup: 1, batch: 32, rounds: 2 });
const MODELS: [string, () => Module][] = [
  ['resnet18', () => resnet18({ numClasses: 1000 })],
  ['resnet50', () => resnet50({ numClasses: 1000 })],
  ['mobilenet_v2', () => mobilenetV2({ numClasses: 1000 })],
].filter(([n]) => !only || only.includes(n as string)) as [string, () => Module][];

type PtTiming = ModelTiming & { forward_cpu_ms: number; torch: string };
console.log(`Eval forward and train step, 224², batch ${args.batch}, channels-last, ${args.threads} thread(s), median of ${args.steps} after ${args.warmup} warm-up, ` +
  `${args.rounds} interleaved round(s); libtorch ${libtorchVersion()}; ${loadNote()}`);
const ck: Record<string, CatkitTiming[]> = {};
const pt: Record<string, PtTiming[]> = {};
const loads: number[] = [];
for (let r = 0; r < args.rounds; r++) {
  for (const [name, build] of MODELS) {
    const c = timeModel(build, [3, 224, 224], 1000, args);
    const p = runPythonJson<PtTiming>('eval-forward', 'pytorch_models.py', [name, String(args.threads), String(args.steps), String(args.warmup), String(args.batch)], args.threads);
    (ck[name] ??= []).push(c);
    (pt[name] ??= []).push(p);
    loads.push(os.loadavg()[0]!);
    console.log(`  round ${r + 1} ${name}: eval ${c.forward_ms.toFixed(0)} (folded ${c.forward_folded_ms.toFixed(0)}) / ${p.forward_ms.toFixed(0)} ms, ` +
      `train ${c.train_ms.toFixed(0)} / ${p.train_ms.toFixed(0)} ms (catkit / PyTorch), load avg ${os.loadavg()[0]!.toFixed(2)}`);
  }
}

const med = <T>(rs: T[], k: keyof T): number => median(rs.map((x) => x[k] as number));
const f = (v: number, d = 1) => v.toFixed(d);
const rows = [['', 'catkit ms', 'PyTorch ms', 'catkit/PyTorch', 'CPU ratio']];
const json: Record<string, number> = {};
for (const [name] of MODELS) {
  const [c, p] = [ck[name]!, pt[name]!];
  const pairs: [string, keyof CatkitTiming, keyof CatkitTiming | null, keyof PtTiming, keyof PtTiming | null][] = [
    ['eval forward', 'forward_ms', 'forward_cpu_ms', 'forward_ms', 'forward_cpu_ms'],
    ['eval forward, BN folded', 'forward_folded_ms', 'forward_folded_cpu_ms', 'forward_ms', 'forward_cpu_ms'],
    ['train step', 'train_ms', 'train_cpu_ms', 'train_ms', 'train_cpu_ms'],
  ];
  for (const [label, ck1, ckCpu, pt1, ptCpu] of pairs) {
    const a = med(c, ck1), b = med(p, pt1);
    const cpu = ckCpu && ptCpu ? med(c, ckCpu) / med(p, ptCpu) : NaN;
    rows.push([`${name}: ${label}`, f(a), f(b), f(a / b, 3), f(cpu, 3)]);
    const key = `${name}_${ck1.replace('_ms', '')}`;
    json[`${key}_ms`] = Math.round(a * 10) / 10;
    json[`${key}_pytorch_ms`] = Math.round(b * 10) / 10;
    json[`${key}_ratio`] = Math.round((a / b) * 1000) / 1000;
  }
}
console.log('\n' + table(rows));
console.log(`load avg during the runs: min ${f(Math.min(...loads), 2)}, median ${f(median(loads), 2)}, max ${f(Math.max(...loads), 2)} on ${os.availableParallelism()} cores`);
console.log(JSON.stringify({ ...json, batch: args.batch, threads: args.threads, steps: args.steps, rounds: args.rounds, load_median: median(loads) }));
