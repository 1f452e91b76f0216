// Crash-safe file replacement, the one writer every file catkit saves goes through: write a temp file
// beside the target, fsync it, rename it over the target, fsync the folder. A failure at any point
// removes the temp file and leaves the previous version of the target intact. Node built-ins only.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
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
