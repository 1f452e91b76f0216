// Shared by the engine benchmarks: argument parsing, medians, the table printer, the header line
// and the PyTorch reference child process (Debian's python3-torch, one JSON line on stdout).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchArgs { threads: number; steps: number; warmup: number; batch: number; rounds: number }

/** Parses --threads/--steps/--warmup/--batch/--rounds N over `defaults`; `bench` names the benchmark in errors. */
export function parseBenchArgs(bench: string, argv: string[], defaults: Omit<BenchArgs, 'threads'>): BenchArgs {
  const a: BenchArgs = { threads: os.availableParallelism(), ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(threads|steps|warmup|batch|rounds)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) throw new Error(`${bench} bench: unknown argument '${argv[i]}' (use --threads N --steps N --warmup N --batch N --rounds N)`);
    const v = Number(m[2] ?? argv[++i]);
    if (!Number.isInteger(v) || v < (m[1] === 'warmup' ? 0 : 1)) throw new Error(`${bench} bench: --${m[1]} needs a positive integer`);
    a[m[1] as keyof BenchArgs] = v;
  }
  return a;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  const k = s.length >> 1;
  return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
};

/** Left-aligned first column, right-aligned numbers. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** ", load avg L on N cores", flagged when the machine is busy (timings are then noisy). */
export function loadNote(): string {
  const load = os.loadavg()[0]!;
  return `load avg ${load.toFixed(2)} on ${os.availableParallelism()} cores` + (load > os.availableParallelism() * 0.5 ? ' (machine is busy: timings are noisy)' : '');
}

/**
 * Runs bench/<script> with Debian's python3-torch (the `python3` on PATH may be a pyenv without
 * torch; CATKIT_BENCH_PYTHON overrides) on `threads` OpenMP threads; returns its last stdout line as JSON.
 */
export function runPythonJson<T>(bench: string, script: string, args: string[], threads: number): T {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/bench/x.js → bench/<script> at the package root (or next to the .ts source).
  const file = [path.resolve(here, '../../bench', script), path.resolve(here, script)].find(existsSync);
  if (!file) throw new Error(`${bench} bench: bench/${script} not found`);
  const python = process.env.CATKIT_BENCH_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [file, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) }, maxBuffer: 16 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${bench} bench: ${python} ${file} ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as T;
}
