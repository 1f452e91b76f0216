// An exclusive lock on a run folder for the life of a run: `.catkit.lock`, created with O_EXCL
// (atomic: of two runs started at once exactly one gets it), holding the owner's PID, host and
// start time. A lock whose process is gone (same host, PID not running) is stale: reported with
// how to clear it, and cleared by --force. A live lock is never taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatkitError } from '../errors.js';
import { processAlive, removeStaleTemps } from './atomic-write.js';

export const LOCK_FILE = '.catkit.lock';

export interface LockInfo { pid: number; host: string; started: string; command: string }

export interface RunLock {
  readonly file: string;
  /** Temp files of crashed writes that were removed when the lock was taken. */
  readonly removedTemps: string[];
  release(): void;
}

const held = new Map<string, number>();
let exitHook = false;

function readLock(file: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    return typeof info.pid === 'number' && typeof info.host === 'string' ? { pid: info.pid, host: info.host, started: String(info.started), command: String(info.command ?? '') } : null;
  } catch { return null; }
}

/**
 * Takes the lock of run folder `dir` (created if missing) or throws a user-facing error naming
 * the run that holds it. `force` clears a stale lock (never a live one). Re-entrant within one
 * process (demo's runs, a run that evaluates itself). Temp files of crashed writes in `dir` are
 * removed once the lock is held.
 */
export function acquireRunLock(dir: string, o: { force?: boolean; command?: string } = {}): RunLock {
  mkdirSync(dir, { recursive: true });
  const file = path.join(path.resolve(dir), LOCK_FILE);
  const mine = held.get(file);
  if (mine !== undefined) {
    held.set(file, mine + 1);
    return { file, removedTemps: [], release: () => release(file) };
  }
  const info: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command: o.command ?? process.argv.slice(2).join(' ') };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try { writeSync(fd, JSON.stringify(info)); } finally { closeSync(fd); }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const owner = readLock(file);
      const stale = owner !== null && owner.host === os.hostname() && !processAlive(owner.pid);
      if (stale && o.force) { rmSync(file, { force: true }); continue; }
      if (stale) {
        throw new CatkitError('run_lock_stale', `${dir} is locked by a run that is no longer running (pid ${owner.pid} on ${owner.host}, started ${owner.started})`,
          { hint: `if no catkit run uses ${dir}, delete ${file} or pass --force (with --resume: continue that run)`, file });
      }
      const who = owner ? `pid ${owner.pid} on ${owner.host}, started ${owner.started}${owner.command ? `: catkit ${owner.command}` : ''}` : 'an unreadable lock file';
      throw new CatkitError('run_locked', `${dir} is in use by another catkit run (${who})`,
        { hint: owner && owner.host !== os.hostname() ? `wait for it to finish, or delete ${file} if that run is gone` : 'wait for it to finish or choose another --out', file });
    }
  }
  held.set(file, 1);
  if (!exitHook) { process.on('exit', onExit); exitHook = true; }
  return { file, removedTemps: removeStaleTemps(dir), release: () => release(file) };
}

function release(file: string): void {
  const n = held.get(file);
  if (n === undefined) return;
  if (n > 1) { held.set(file, n - 1); return; }
  held.delete(file);
  rmSync(file, { force: true });
}

/** Interrupted runs (Ctrl-C, a fatal error) leave no lock behind. */
function onExit(): void {
  for (const file of held.keys()) rmSync(file, { force: true });
  held.clear();
}
