// Coded evaluation vs plain evaluation of the same CAT model, in one run, interleaved rounds:
//  - plain: accuracy over the test set with every quantizer on (cat.model.forward), nothing coded;
//  - coded: the test pass of a CAT evaluation (codedEvaluation): every site's codes of every batch coded
//    by Huffman, rANS and zero-run with adaptive and static tables and decoded again to verify, by the
//    native coders on the libuv pool (default: cores − 1 batches in flight) while the next forward runs;
//  - coded, main thread: the native coders between forwards (0 coding workers);
//  - sampled: the default path coding 1/8 of each batch's images (with its confidence interval);
//  - coded, TypeScript: src/codec's coders in worker threads (the path before the native coders).
// Models: CIFAR-layout ResNet-8 on Fashion-MNIST's 10 000 test images (batch 128, as `catkit eval`
// uses), and ResNet-18 at 224² (batch 32, smooth random images). Wall time and process CPU time.
// Prints a table and, as the last line, a JSON object.
//
//   npm run bench:coded-eval -- [--rounds N] [--threads N] [--batch N (ResNet-18 batches)] [--with-typescript] [--only=fmnist|resnet18]
//
// --with-typescript adds the TypeScript coders' variant (slow: 10–30× the plain evaluation).
import os from 'node:os';
import { getNumThreads, manualSeed, setNumThreads, tensor, type Tensor } from '../src/tensor/index.js';
import { DataLoader, loadFashionMnist, limit, type Batch, type BatchSource } from '../src/data/index.js';
import { CifarResNet } from '../src/models/resnet-cifar.js';
import { resnet18 } from '../src/models/resnet.js';
import { attachCat, type Cat } from '../src/method/index.js';
import { evaluateAccuracy } from '../src/train/evaluate.js';
import { codedEvaluation, fitBandwidthTables } from '../src/train/bandwidth.js';
import { ledgerToJSON } from '../src/ledger/index.js';
import type { Module } from '../src/nn/index.js';
import { mulberry32 } from '../src/data/random.js';
import { loadNote, median, parseBenchArgs, table } from './common.js';

const argv = process.argv.slice(2);
const withTypescript = argv.includes('--with-typescript');
const only = argv.find((a) => a.startsWith('--only='))?.slice(7);
const args = parseBenchArgs('coded-eval', argv.filter((a) => a !== '--with-typescript' && !a.startsWith('--only=')), { steps: 1, warmup: 0, batch: 3, rounds: 1 });
setNumThreads(args.threads);

/** ResNet-18 input: `n` batches of 32 smooth random 3×224×224 images (made once, reused every epoch). */
function smoothImages(n: number): BatchSource {
  const rng = mulberry32(18), S = 224, B = 32;
  const batches = Array.from({ length: n }, () => {
    const px = new Float32Array(B * 3 * S * S);
    for (let i = 0; i < B * 3; i++) {
      const fx = 0.01 + 0.08 * rng(), fy = 0.01 + 0.08 * rng(), p = 6.3 * rng(), a = 0.5 + rng();
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) px[(i * S + y) * S + x] = a * Math.sin(fx * x + p) * Math.cos(fy * y) + 0.3 * (rng() - 0.5);
    }
    return { px, y: Int32Array.from({ length: B }, () => Math.floor(rng() * 1000)) };
  });
  return {
    numBatches: n,
    describe: () => `${n} × ${B} smooth random 224² images`,
    *batches(): Iterable<Batch> {
      for (const b of batches) yield { x: tensor(b.px, [B, 3, S, S]).toChannelsLast(), y: tensor(b.y, [B]).to('int64'), indices: new Int32Array(B) };
    },
  } as BatchSource;
}

interface Case { name: string; cat: Cat; test: BatchSource; calib: BatchSource; images: number }

async function makeCase(name: string, build: () => Module, test: BatchSource, calib: BatchSource, images: number): Promise<Case> {
  manualSeed(0);
  const model = build().toChannelsLast();
  const cat = attachCat(model, { defaults: { bits: 4 }, weights: { bits: 8 } });
  const inputs = async function* (): AsyncGenerator<Tensor> { for await (const b of calib.batches()) { b.y.dispose(); yield b.x; } };
  await cat.calibrate(inputs());
  return { name, cat, test, calib, images };
}

const fm = loadFashionMnist();
const fmTrain = new DataLoader(limit(fm.train, 1024, 0), { batchSize: 128 });
const fmTest = new DataLoader(fm.test, { batchSize: 128, normalize: fmTrain.normalization });
const cases: Case[] = [];
if (only !== 'resnet18') cases.push(await makeCase('ResNet-8, Fashion-MNIST test (10 000 × 28²), batch 128', () => new CifarResNet({ depth: 8, inChannels: 1, numClasses: 10 }), fmTest, fmTrain, fm.test.n));
if (only !== 'fmnist') cases.push(await makeCase(`ResNet-18, ${args.batch} batches of 32 at 224²`, () => resnet18({ numClasses: 1000 }), smoothImages(args.batch), smoothImages(1), 32 * args.batch));

const VARIANTS = ['plain', 'coded', 'coded_main_thread', 'sampled_1_8', 'coded_typescript'] as const;
type Variant = (typeof VARIANTS)[number];
interface Timing { wall: number; cpu: number }

async function run(c: Case, v: Variant, tables: Awaited<ReturnType<typeof fitBandwidthTables>>): Promise<{ t: Timing; bpv?: number; ci?: [number, number]; ledger?: string }> {
  const t0 = performance.now(), c0 = process.cpuUsage();
  let bpv: number | undefined, ci: [number, number] | undefined, ledger: string | undefined;
  if (v === 'plain') await evaluateAccuracy(c.cat.model, c.test);
  else {
    const r = await codedEvaluation(c.cat, c.test, tables, v === 'coded' ? {} : v === 'coded_main_thread' ? { codingWorkers: 0 }
      : v === 'coded_typescript' ? { codingBackend: 'typescript' } : { codeFraction: 1 / 8 });
    bpv = r.bitsPerValue.rans;
    ledger = ledgerToJSON(r.ledger);
    ci = r.sampling?.ci95.rans;
  }
  const cu = process.cpuUsage(c0);
  return { t: { wall: (performance.now() - t0) / 1000, cpu: (cu.user + cu.system) / 1e6 }, bpv, ci, ledger };
}

console.log(`Coded vs plain CAT evaluation, 4-bit activations, 8-bit weights; libtorch ${getNumThreads()} thread(s); ` +
  `native coders, ${Math.max(1, os.availableParallelism() - 1)} batch(es) in flight; ${args.rounds} interleaved round(s); ${loadNote()}`);
type Result = Record<Variant, Timing[]> & { bpv: number[]; sampledBpv: number[]; ci: [number, number][]; ledgers: Set<string> };
const results: Record<string, Result> = {};
const loads: number[] = [];
for (const c of cases) {
  const tables = await fitBandwidthTables(c.cat, c.calib, 1);
  await evaluateAccuracy(c.cat.model, c.test, { maxBatches: 1 });  // warm-up
  const r: Result = { plain: [], coded: [], coded_main_thread: [], sampled_1_8: [], coded_typescript: [], bpv: [], sampledBpv: [], ci: [], ledgers: new Set() };
  results[c.name] = r;
  for (let round = 0; round < args.rounds; round++) {
    for (const v of VARIANTS) {
      if (v === 'coded_typescript' && !withTypescript) continue;
      const out = await run(c, v, tables);
      r[v].push(out.t);
      if (v === 'coded' && out.bpv !== undefined) r.bpv.push(out.bpv);
      if (out.ledger && v !== 'sampled_1_8') r.ledgers.add(out.ledger);
      if (v === 'sampled_1_8' && out.bpv !== undefined) { r.sampledBpv.push(out.bpv); r.ci.push(out.ci!); }
      loads.push(os.loadavg()[0]!);
      console.log(`  ${c.name} round ${round + 1}: ${v} ${out.t.wall.toFixed(2)} s wall, ${out.t.cpu.toFixed(2)} s CPU, load avg ${os.loadavg()[0]!.toFixed(2)}`);
    }
  }
}

const f = (x: number, d = 2) => x.toFixed(d);
const json: Record<string, unknown> = {};
const rows = [['', 'plain s', 'coded s', 'coded/plain', 'CPU coded/plain', 'main-thread coded/plain', 'sampled 1/8 / plain', 'TypeScript coded/plain', 'rANS bits/value', 'sampled (95 % CI)', 'ledgers identical']];
cases.forEach((c) => {
  const r = results[c.name]!;
  const m = (v: Variant, k: keyof Timing) => median(r[v].map((t) => t[k]));
  const ratio = m('coded', 'wall') / m('plain', 'wall');
  const ci = r.ci[0]!;
  // Every full coding of every round and variant (native async, native main thread, TypeScript) gave one ledger.
  const identical = r.ledgers.size === 1;
  rows.push([c.name, f(m('plain', 'wall')), f(m('coded', 'wall')), f(ratio, 3), f(m('coded', 'cpu') / m('plain', 'cpu'), 3),
    f(m('coded_main_thread', 'wall') / m('plain', 'wall'), 3), f(m('sampled_1_8', 'wall') / m('plain', 'wall'), 3),
    withTypescript ? f(m('coded_typescript', 'wall') / m('plain', 'wall'), 3) : '-',
    f(r.bpv[0]!, 4), `${f(r.sampledBpv[0]!, 4)} [${f(ci[0], 4)}, ${f(ci[1], 4)}]`, identical ? 'yes' : 'NO']);
  const key = c.name.startsWith('ResNet-8,') ? 'fmnist' : 'resnet18';
  Object.assign(json, {
    [`${key}_plain_s`]: m('plain', 'wall'), [`${key}_coded_s`]: m('coded', 'wall'), [`${key}_coded_ratio`]: ratio,
    [`${key}_coded_cpu_ratio`]: m('coded', 'cpu') / m('plain', 'cpu'),
    [`${key}_main_thread_ratio`]: m('coded_main_thread', 'wall') / m('plain', 'wall'), [`${key}_sampled_ratio`]: m('sampled_1_8', 'wall') / m('plain', 'wall'),
    [`${key}_typescript_ratio`]: withTypescript ? m('coded_typescript', 'wall') / m('plain', 'wall') : null,
    [`${key}_coding_cpu_over_forward_cpu`]: (m('coded_main_thread', 'cpu') - m('plain', 'cpu')) / m('plain', 'cpu'),
    [`${key}_rans_bpv`]: r.bpv[0], [`${key}_sampled_rans_bpv`]: r.sampledBpv[0], [`${key}_sampled_ci95`]: ci, [`${key}_ledgers_identical`]: identical,
  });
});
console.log('\n' + table(rows));
console.log(`load avg during the runs: min ${f(Math.min(...loads))}, median ${f(median(loads))}, max ${f(Math.max(...loads))} on ${os.availableParallelism()} cores`);
console.log(JSON.stringify({ ...json, threads: getNumThreads(), rounds: args.rounds, load_median: median(loads) }));
for (const c of cases) c.cat.model.dispose();
