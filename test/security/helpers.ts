// Shared by the hostile-input suite: a sandbox folder per test (inside/ holds what the command is
// given, outside/ holds files it must never touch), a CLI runner that records every file the child
// opens, reads or writes, and assertions on exit code, the one-line message and those records.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

/** Preloaded into the child (and its worker threads): appends every path given to fs to a log. */
const RECORDER = `
const fs = require('fs');
const logFd = fs.openSync(process.env.CATKIT_FS_LOG, 'a');
let busy = false;
const rec = (kind, p) => {
  if (busy || !(typeof p === 'string' || p instanceof URL || Buffer.isBuffer(p))) return;
  busy = true;
  try { fs.writeSync(logFd, kind + ' ' + String(p instanceof URL ? p.pathname : p) + '\\n'); } finally { busy = false; }
};
for (const [name, kind] of [['openSync','open'],['readFileSync','read'],['writeFileSync','write'],['renameSync','rename'],['mkdirSync','mkdir'],['rmSync','rm'],['unlinkSync','rm'],['realpathSync','realpath'],['statSync','stat'],['createReadStream','read'],['createWriteStream','write'],['open','open'],['readFile','read'],['writeFile','write']]) {
  const orig = fs[name];
  fs[name] = function (p, ...rest) { rec(kind, p); if (name === 'renameSync') rec(kind, rest[0]); return orig.call(this, p, ...rest); };
}
for (const [name, kind] of [['open','open'],['readFile','read'],['writeFile','write'],['rename','rename'],['mkdir','mkdir'],['rm','rm']]) {
  const orig = fs.promises[name];
  fs.promises[name] = function (p, ...rest) { rec(kind, p); return orig.call(this, p, ...rest); };
}
`;

export interface Sandbox {
  root: string;
  /** What the command is given. */
  inside: string;
  /** Files the command must neither read nor write. */
  outside: string;
  /** Secret bytes in outside/secret.bin. */
  secret: Buffer;
  dispose(): void;
}

export function sandbox(): Sandbox {
  const root = mkdtempSync(path.join(os.tmpdir(), 'catkit-hostile-'));
  const inside = path.join(root, 'inside'), outside = path.join(root, 'outside');
  mkdirSync(inside);
  mkdirSync(outside);
  const secret = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));
  writeFileSync(path.join(outside, 'secret.bin'), secret);
  writeFileSync(path.join(root, 'recorder.cjs'), RECORDER);
  return { root, inside, outside, secret, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

export interface CliResult { code: number | null; stdout: string; stderr: string; touched: string[]; ms: number; outsideBefore: string }

/** Runs the CLI in the sandbox with the fs recorder; resolves when it exits (never rejects). */
export function catkit(box: Sandbox, args: string[], o: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const log = path.join(box.root, `fs-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const t0 = performance.now();
  const outsideBefore = snapshot(box.outside);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', path.join(box.root, 'recorder.cjs'), BIN, ...args], {
      cwd: box.inside, env: { ...process.env, CI: 'true', CATKIT_THREADS: '1', CATKIT_FS_LOG: log, ...o.env },
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const touched = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      resolve({ code, stdout, stderr, touched, ms: performance.now() - t0, outsideBefore });
    });
  });
}

/** Exit code 2, the message on the first line, at most a hint line after it, no stack trace. */
export function assertRefused(r: CliResult, message: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !/^(config|train|validation|test):/.test(l));
  assert.equal(r.code, 2, `expected exit code 2, got ${r.code}:\n${r.stderr}`);
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace expected:\n${r.stderr}`);
  const errorLines = lines.filter((l) => l.startsWith('catkit:'));
  assert.equal(errorLines.length, 1, `one error line expected:\n${r.stderr}`);
  const at = lines.indexOf(errorLines[0]!);
  assert.ok(lines.slice(at + 1).every((l) => /^(hint|usage): /.test(l)), `only a hint or usage line may follow the error:\n${r.stderr}`);
  assert.match(errorLines[0]!, message);
}

/** Nothing in outside/ (or the given extra paths) was opened, read, written or renamed by the child. */
export function assertUntouched(box: Sandbox, r: CliResult, extra: string[] = []): void {
  const banned = [box.outside, ...extra];
  const hits = r.touched.filter((line) => {
    const p = line.slice(line.indexOf(' ') + 1);
    const abs = path.resolve(box.inside, p);
    return banned.some((b) => abs === b || abs.startsWith(b + path.sep));
  });
  assert.deepEqual(hits, [], `touched outside the given folder:\n${hits.join('\n')}`);
  assert.deepEqual(readFileSync(path.join(box.outside, 'secret.bin')), box.secret, 'outside/secret.bin changed');
  assert.equal(snapshot(box.outside), r.outsideBefore, 'outside/ changed');
  assert.ok(!r.stdout.includes(box.secret.subarray(0, 16).toString('base64')), 'secret bytes in the output');
}

/** A folder's files and sizes, to show that a refused command changed nothing. */
export function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)} ${e.isFile() ? statSync(p).size : 'other'} ${e.isFile() ? readFileSync(p).toString('base64').slice(0, 64) : ''}`);
    }
  };
  walk(dir);
  return out.sort().join('\n');
}
