// Crash-safe file replacement, the one writer every file catkit saves goes through: write a temp file
// beside the target, fsync it, rename it over the target, fsync the folder. A failure at any point
// removes the temp file and leaves the previous version of the target intact. Node built-ins only.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  // pid + a counter: two writers in one process (or two processes) never share a temp file.
  const tmp = `${file}.tmp-${process.pid}-${++counter}`;
  let fd: number | null = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDirectory(path.dirname(path.resolve(file)));
}

let counter = 0;

/** Makes the rename itself durable; some platforms cannot fsync a directory, which is harmless here. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* best effort */ }
}

/** `<name>.tmp-<pid>` or `<name>.tmp-<pid>-<n>`: a temp file of writeFileAtomic. */
const TEMP = /\.tmp-(\d+)(?:-\d+)?$/;

/** True when a process with this id exists on this machine (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Deletes the temp files in `dir` left by writers that no longer run (a crash between write and
 * rename); returns their names. Called when a run takes the folder's lock.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
