// Data-parallel training on this machine: 2 processes × 1 thread (c10d/Gloo over loopback, batch
// B/2 each, gradients averaged by the bucketed allreduce that overlaps backward) against
// 1 process × 2 threads (batch B) for ResNet-20 (CIFAR, 32×32) and ResNet-18 (ImageNet layout),
// the time of one allreduce of all gradients, the part of a step spent waiting for communication
// after backward, and an estimate of 8 and 64 workers on 10/25 Gbit/s links for ResNet-18 and
// BERT-base from the measured allreduce rate. Rounds are interleaved; the load average is printed
// (the machine is shared: timings are noisy).
//   npm run build && node dist/bench/distributed.js [--steps N] [--warmup N] [--rounds N] [--size PX18]
import { spawn } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadNote, median, table } from './common.js';

const SELF = fileURLToPath(import.meta.url);

interface WorkerResult { step_ms: number; wait_ms: number; allreduce_ms: number; params: number; buckets: number; in_backward: number }

const MODELS = {
  resnet20: { batch: 64, size: 32, classes: 10 },
  resnet18: { batch: 16, size: 128, classes: 1000 },
} as const;
type ModelName = keyof typeof MODELS;

// ---- worker (one process; distributed when WORLD_SIZE is set) ----
async function worker(model: ModelName, batch: number, size: number, steps: number, warmup: number): Promise<void> {
  const { F, manualSeed, randint, randn, tidy, tensor } = await import('../src/tensor/index.js');
  const { buildModel } = await import('../src/models/registry.js');
  const { SGD } = await import('../src/optim/index.js');
  const { initFromEnv } = await import('../src/distributed/index.js');
  const ctx = await initFromEnv();
  manualSeed(0);
  const m = buildModel(model, { inChannels: 3, numClasses: MODELS[model].classes }).toChannelsLast();
  const opt = new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = tidy(() => randn([batch, 3, size, size]).toChannelsLast());
  const y = randint(0, MODELS[model].classes, [batch]);
  if (ctx) await ctx.broadcastModule(m);
  const sync = ctx?.gradientSync(m);
  const stepMs: number[] = [], waitMs: number[] = [];
  let inBackward = 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (ctx) await ctx.barrier(); // steps start together, as they would after the previous step's allreduce
    const t0 = performance.now();
    const w = tidy(() => {
      opt.zeroGrad();
      sync?.prepare();
      F.crossEntropy(m.forward(x), y).backward();
      const st = sync?.finish();
      opt.step();
      return st;
    });
    if (i >= warmup) { stepMs.push(performance.now() - t0); waitMs.push(w?.waitMs ?? 0); inBackward = w?.launchedDuringBackward ?? 0; }
  }
  const params = m.numParameters();
  let allreduceMs = 0;
  if (ctx) { // all gradients as one flat buffer, as a non-overlapping implementation would send them
    const flat = tensor(new Float32Array(params));
    const times: number[] = [];
    for (let i = 0; i < 8; i++) { await ctx.barrier(); const t0 = performance.now(); await ctx.group.allreduce([flat]); times.push(performance.now() - t0); }
    allreduceMs = median(times.slice(2));
    flat.dispose();
  }
  const result: WorkerResult = { step_ms: median(stepMs), wait_ms: median(waitMs), allreduce_ms: allreduceMs, params, buckets: sync?.buckets ?? 0, in_backward: inBackward };
  sync?.dispose();
  if (!ctx || ctx.isMain) process.stdout.write(JSON.stringify(result) + '\n');
  ctx?.group.destroy();
}

// ---- driver ----
function run(world: number, threads: number, args: string[]): Promise<WorkerResult> {
  const store = path.join(mkdtempSync(path.join(os.tmpdir(), 'catkit-bench-rdzv-')), 'store');
  const procs = Array.from({ length: Math.max(1, world) }, (_, rank) => new Promise<string>((resolve, reject) => {
    const env = { ...process.env, CATKIT_THREADS: String(threads), WORLD_SIZE: world > 1 ? String(world) : '', RANK: String(rank), CATKIT_DIST_STORE: store };
    const p = spawn(process.execPath, [SELF, '--worker', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`bench worker rank ${rank} exited with ${code}`))));
  }));
  return Promise.all(procs).then((outs) => {
    rmSync(path.dirname(store), { recursive: true, force: true });
    return JSON.parse(outs[0]!.trim().split('\n').pop()!) as WorkerResult;
  });
}

/**
 * Ring allreduce of S bytes over N workers: every worker sends and receives 2(N−1)/N·S over its
 * link, with 2(N−1) message latencies; `localBytesPerMs` adds the reduce-and-copy work at the
 * rate measured here (a pessimistic serial sum: Gloo pipelines chunks, so the truth lies between).
 */
function ringMs(bytes: number, n: number, linkGbit: number, localBytesPerMs = Infinity, latencyMs = 0.05): number {
  const linkBytesPerMs = (linkGbit * 1e9) / 8 / 1000;
  return (2 * (n - 1) / n) * bytes / linkBytesPerMs + 2 * (n - 1) * latencyMs + ((n - 1) / n) * bytes / localBytesPerMs;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--worker') {
    const [, model, batch, size, steps, warmup] = argv;
    await worker(model as ModelName, Number(batch), Number(size), Number(steps), Number(warmup));
    return;
  }
  const opt: Record<"steps" | "warmup" | "rounds" | "size", number> = { steps: 4, warmup: 2, rounds: 2, size: MODELS.resnet18.size };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!.replace(/^--/, '') as keyof typeof opt;
    if (!(k in opt) || !Number.isInteger(Number(argv[i + 1])) || Number(argv[i + 1]) < 0) throw new Error(`distributed bench: bad argument ${argv[i]} (use --steps N --warmup N --rounds N --size PX)`);
    opt[k] = Number(argv[i + 1]);
  }
  const startLoad = loadNote();
  const rows = [['model', 'batch', '1 proc × 2 thr ms/step', '2 proc × 1 thr ms/step', '2p/1p speed', 'allreduce ms', 'comm / step', 'wait after bwd ms', 'buckets (in bwd)']];
  const json: Record<string, unknown> = {};
  const rates: number[] = [];
  for (const model of Object.keys(MODELS) as ModelName[]) {
    const { batch } = MODELS[model];
    const size = model === 'resnet18' ? opt.size : MODELS[model].size;
    const single: WorkerResult[] = [], dual: WorkerResult[] = [];
    for (let r = 0; r < opt.rounds; r++) {
      single.push(await run(1, 2, [model, String(batch), String(size), String(opt.steps), String(opt.warmup)]));
      dual.push(await run(2, 1, [model, String(batch / 2), String(size), String(opt.steps), String(opt.warmup)]));
    }
    const s = median(single.map((x) => x.step_ms)), d = median(dual.map((x) => x.step_ms));
    const ar = median(dual.map((x) => x.allreduce_ms)), wait = median(dual.map((x) => x.wait_ms));
    const bytes = dual[0]!.params * 4;
    rates.push(bytes / ar); // 2 ranks move S bytes each way per allreduce on loopback
    rows.push([model, `${batch} = 2×${batch / 2}`, s.toFixed(0), d.toFixed(0), `${(s / d).toFixed(2)}×`, ar.toFixed(1), `${((100 * ar) / d).toFixed(0)} %`,
      wait.toFixed(1), `${dual[0]!.buckets} (${dual[0]!.in_backward})`]);
    json[model] = { batch, size, params: dual[0]!.params, single_ms: s, dual_ms: d, allreduce_ms: ar, wait_ms: wait, comm_fraction: ar / d, exposed_fraction: wait / d };
  }
  const localRate = median(rates); // bytes per ms this machine reduces over loopback
  const est = [['model (fp32 grads)', 'workers', '10 Gbit/s: link', '+ reduce at rate here', '25 Gbit/s: link', '+ reduce at rate here']];
  const estimates: Record<string, number> = {};
  for (const [name, params] of [['resnet18', 11_689_512], ['bert-base', 109_482_240]] as const) {
    for (const n of [8, 64]) {
      const row = [`${name} (${(params * 4 / 2 ** 20).toFixed(0)} MB)`, String(n)];
      for (const g of [10, 25]) {
        const link = ringMs(params * 4, n, g), slow = ringMs(params * 4, n, g, localRate);
        row.push(link.toFixed(0), slow.toFixed(0));
        estimates[`${name}_${n}_${g}g_ms`] = link; estimates[`${name}_${n}_${g}g_with_local_reduce_ms`] = slow;
      }
      est.push(row);
    }
  }
  process.stdout.write(`Data-parallel steps on this machine (${opt.steps} timed + ${opt.warmup} warm-up steps, ${opt.rounds} interleaved rounds, median; resnet18 at ${opt.size}×${opt.size}).\n`);
  process.stdout.write(`${table(rows)}\n`);
  process.stdout.write('comm / step: one allreduce of all gradients (measured alone) over the 2-process step time. wait after bwd: what the step still\n'
    + 'waited after its own backward: the allreduce not hidden behind backward plus waiting for the slower rank to finish its backward.\n\n');
  process.stdout.write(`Estimated gradient allreduce per step, ms (ring: 2(N−1)/N × size / link + 2(N−1) × 50 µs; "+ reduce" adds (N−1)/N × size at the\n`
    + `${(localRate / 1e6).toFixed(2)} GB/s this machine reduced over loopback in this run):\n${table(est)}\n`);
  process.stdout.write(`load at start: ${startLoad}; at end: ${loadNote()}\n`);
  process.stdout.write(JSON.stringify({ bench: 'distributed', ...json, local_reduce_gb_s: localRate / 1e6, estimates, load_start: startLoad, load_end: loadNote() }) + '\n');
}

await main(process.argv.slice(2));
