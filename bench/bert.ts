// BERT benchmark: BertForSequenceClassification (bert-base by default: 12 layers, hidden 768, seq 128,
// batch 8) — AdamW train step and eval forward with catkit in this process, then the same model
// (test/models/torch_bert.py, the Hugging Face layout in plain torch.nn) with PyTorch in a child
// process, one at a time, alternating for --rounds. Prints a table and a JSON last line.
//
//   npm run bench:bert -- [--threads N] [--steps N] [--warmup N] [--batch N] [--rounds N] [--seq N] [--layers N] [--hidden N]
import os from 'node:os';
import { F, getNumThreads, libtorchVersion, manualSeed, noGrad, ones, randint, setNumThreads, tidy, zeros } from '../src/tensor/index.js';
import { AdamW } from '../src/optim/index.js';
import { BertForSequenceClassification, compactBertConfig } from '../src/models/bert/index.js';
import { loadNote, median, parseBenchArgs, runPythonJson, table, type BenchArgs } from './common.js';
import type { ModelTiming } from './time-model.js';

// CPU time of the forward too: on a shared machine the wall-clock ratio mostly measures the load.
type BertTiming = ModelTiming & { forward_cpu_ms: number };

// --seq/--layers/--hidden are this bench's own; the shared parser takes the rest.
const own = { seq: 128, layers: 12, hidden: 768 };
const rest: string[] = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--(seq|layers|hidden)(?:=(.*))?$/.exec(argv[i]!);
  if (!m) { rest.push(argv[i]!); continue; }
  const v = Number(m[2] ?? argv[++i]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bert bench: --${m[1]} needs a positive integer`);
  own[m[1] as keyof typeof own] = v;
}
const args = parseBenchArgs('bert', rest, { steps: 5, warmup: 1, batch: 8, rounds: 1 });

function runCatkit(a: BenchArgs): BertTiming {
  setNumThreads(a.threads);
  manualSeed(0);
  const model = new BertForSequenceClassification(compactBertConfig(own.layers, own.hidden, { maxPositionEmbeddings: 512 }));
  const opt = new AdamW(model.parameters(), { lr: 1e-5, weightDecay: 0.01 });
  const x = { inputIds: randint(1000, 30522, [a.batch, own.seq]), tokenTypeIds: zeros([a.batch, own.seq], { dtype: 'int64' }), attentionMask: ones([a.batch, own.seq], { dtype: 'int64' }) };
  const y = randint(0, 2, [a.batch]);
  const train: number[] = [], cpu: number[] = [], fwd: number[] = [], fwdCpu: number[] = [];
  model.train();
  for (let i = 0; i < a.warmup + a.steps; i++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    tidy(() => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      loss.item();
    });
    if (i >= a.warmup) { train.push(performance.now() - t0); const c = process.cpuUsage(c0); cpu.push((c.user + c.system) / 1000); }
  }
  model.eval();
  noGrad(() => {
    for (let i = 0; i < a.warmup + a.steps; i++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      tidy(() => { model.forward(x).sum().item(); });
      if (i >= a.warmup) { fwd.push(performance.now() - t0); const c = process.cpuUsage(c0); fwdCpu.push((c.user + c.system) / 1000); }
    }
  });
  const r = { train_ms: median(train), train_cpu_ms: median(cpu), forward_ms: median(fwd), forward_cpu_ms: median(fwdCpu), rss_mb: process.resourceUsage().maxRSS / 1024, threads: getNumThreads(), params: model.numParameters() };
  opt.dispose(); model.dispose(); x.inputIds.dispose(); x.tokenTypeIds.dispose(); x.attentionMask.dispose(); y.dispose();
  return r;
}

const runPytorch = (a: BenchArgs): BertTiming => runPythonJson<BertTiming>('bert', 'pytorch_bert.py',
  [a.threads, a.steps, a.warmup, a.batch, own.seq, own.layers, own.hidden].map(String), a.threads);

console.log(`BERT classifier, ${own.layers} layers, hidden ${own.hidden}, seq ${own.seq}, batch ${args.batch}, AdamW, dropout 0.1, ${args.threads} thread(s), ` +
  `median of ${args.steps} steps after ${args.warmup} warm-up, ${args.rounds} round(s); libtorch ${libtorchVersion()}; ${loadNote()}`);
const ck: BertTiming[] = [], pt: BertTiming[] = [];
for (let r = 0; r < args.rounds; r++) {
  ck.push(runCatkit(args));
  pt.push(runPytorch(args));
  console.log(`round ${r + 1}/${args.rounds}: train ${ck[r]!.train_ms.toFixed(0)} / ${pt[r]!.train_ms.toFixed(0)} ms, forward ${ck[r]!.forward_ms.toFixed(0)} / ${pt[r]!.forward_ms.toFixed(0)} ms (catkit / PyTorch), load avg ${os.loadavg()[0]!.toFixed(2)}`);
}
const comb = (rs: BertTiming[]): BertTiming => ({
  train_ms: median(rs.map((r) => r.train_ms)), train_cpu_ms: median(rs.map((r) => r.train_cpu_ms)), forward_ms: median(rs.map((r) => r.forward_ms)),
  forward_cpu_ms: median(rs.map((r) => r.forward_cpu_ms)),
  rss_mb: rs[0]!.rss_mb, threads: rs[0]!.threads, params: rs[0]!.params,
});
const c = comb(ck), p = comb(pt);
if (c.params !== p.params) console.log(`WARNING: parameter counts differ: catkit ${c.params}, PyTorch ${p.params}`);
const f = (v: number, d = 1): string => v.toFixed(d);
console.log(table([
  ['', 'catkit', 'PyTorch', 'catkit/PyTorch'],
  ['train step (ms, median)', f(c.train_ms), f(p.train_ms), f(c.train_ms / p.train_ms, 3)],
  ['train step CPU time (ms, median)', f(c.train_cpu_ms), f(p.train_cpu_ms), f(c.train_cpu_ms / p.train_cpu_ms, 3)],
  ['forward (ms, median)', f(c.forward_ms), f(p.forward_ms), f(c.forward_ms / p.forward_ms, 3)],
  ['forward CPU time (ms, median)', f(c.forward_cpu_ms), f(p.forward_cpu_ms), f(c.forward_cpu_ms / p.forward_cpu_ms, 3)],
  ['peak RSS (MB)', f(c.rss_mb, 0), f(p.rss_mb, 0), f(c.rss_mb / p.rss_mb, 3)],
  ['parameters', String(c.params), String(p.params), c.params === p.params ? 'same' : 'DIFFERENT'],
]));
const round = (v: number): number => Math.round(v * 1000) / 1000;
console.log(JSON.stringify({
  catkit_train_ms: round(c.train_ms), pytorch_train_ms: round(p.train_ms), train_ratio: round(c.train_ms / p.train_ms), train_cpu_ratio: round(c.train_cpu_ms / p.train_cpu_ms),
  catkit_forward_ms: round(c.forward_ms), pytorch_forward_ms: round(p.forward_ms), forward_ratio: round(c.forward_ms / p.forward_ms), forward_cpu_ratio: round(c.forward_cpu_ms / p.forward_cpu_ms),
  catkit_rss_mb: round(c.rss_mb), pytorch_rss_mb: round(p.rss_mb), rss_ratio: round(c.rss_mb / p.rss_mb), load_avg: round(os.loadavg()[0]!),
}));
