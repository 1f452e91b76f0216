// Starts test workers (test/helpers/dist-worker.ts) as separate processes meeting through a file
// store in a temporary folder: loopback only, no port to choose, nothing left behind.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dist-worker.js');

export interface RankResult { rank: number; code: number | null; signal: NodeJS.Signals | null; stderr: string; exitMs: number }

export function tempDir(prefix: string): string { return mkdtempSync(path.join(os.tmpdir(), prefix)); }

/** Runs `worldSize` workers (or one without distributed variables when worldSize is 0). */
export async function runRanks(worldSize: number, scenario: string, out: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<RankResult[]> {
  const store = path.join(tempDir('catkit-test-rdzv-'), 'store');
  const t0 = performance.now();
  const n = Math.max(1, worldSize);
  return Promise.all(Array.from({ length: n }, (_, rank) => new Promise<RankResult>((resolve) => {
    const dist = worldSize > 0 ? { RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(rank), CATKIT_DIST_STORE: store, CATKIT_DIST_TIMEOUT: '30' } : {};
    const p = spawn(process.execPath, [WORKER], {
      env: { ...process.env, WORLD_SIZE: '', CATKIT_THREADS: '1', CATKIT_TEST_WORKER: scenario, CATKIT_TEST_OUT: out, ...dist, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ rank, code, signal, stderr, exitMs: performance.now() - t0 }); });
  })));
}
