// The exit-code scheme of the command line and the process-level guards that keep it true:
//   0 success · 1 internal error (a bug: printed with its stack) · 2 the user's mistake or bad
//   data (one line, plus a hint line when there is one) · 130 interrupted (Ctrl-C) · 143 terminated (SIGTERM).
// A command can only exit 0 by finishing: an unhandled rejection, an uncaught exception or an
// event loop that empties while the command is still pending all end in a non-zero code.
import { CommanderError } from 'commander';
import { isCatkitError, isUserFacing } from '../errors.js';

export const EXIT = { ok: 0, internal: 1, user: 2, interrupted: 130, terminated: 143 } as const;

/** Node's errno codes that a user's path or machine causes (not a catkit bug). */
const USER_ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory', EISDIR: 'is a directory, expected a file', ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied', EPERM: 'operation not permitted', EEXIST: 'already exists', ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system', ENAMETOOLONG: 'file name too long', ELOOP: 'too many symbolic links', EMFILE: 'too many open files',
  EDQUOT: 'disk quota exceeded', ENOTEMPTY: 'directory not empty', EBUSY: 'resource busy', EXDEV: 'cross-device link',
};

interface ErrnoError extends Error { code?: string; syscall?: string; path?: string; dest?: string }

const isErrno = (e: unknown): e is ErrnoError =>
  e instanceof Error && typeof (e as ErrnoError).code === 'string' && (e as ErrnoError).code! in USER_ERRNO && typeof (e as ErrnoError).syscall === 'string';

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

/** What to print for an error and the exit code it maps to. */
export function describeError(err: unknown): { text: string; code: number } {
  if (isUserFacing(err)) {
    const e = err as Error & { hint?: string };
    return { text: `catkit: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`, code: EXIT.user };
  }
  if (isErrno(err)) {
    const what = USER_ERRNO[err.code!]!;
    const where = err.path ? ` ${err.path}${err.dest ? ` → ${err.dest}` : ''}` : '';
    return { text: `catkit: cannot ${err.syscall}${where}: ${what} (${err.code})\n`, code: EXIT.user };
  }
  const e = err as Error | undefined;
  const kind = isCatkitError(err) ? `internal error [${err.code}]` : 'internal error';
  return { text: `catkit: ${kind}: ${e?.stack ?? String(err)}\nThis is a bug in catkit; please report it with the command line that caused it.\n`, code: EXIT.internal };
}

/** Commander's parse errors: one line, the command's usage line and where to find more (exit 2). */
export function describeCommanderError(err: CommanderError, usage: string | null): { text: string; code: number } {
  // --help and --version "fail" with exit code 0; implicit help (a group without its subcommand) was printed already.
  if (err.exitCode === 0) return { text: '', code: EXIT.ok };
  if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') return { text: '', code: EXIT.user };
  const msg = oneLine(err.message.replace(/^error: /, ''));
  return { text: `catkit: ${msg}\n${usage ? `usage: ${usage}\n` : ''}`, code: EXIT.user };
}

/**
 * Installs the process-level guards for one CLI invocation; call `finished(code)` when the
 * command's promise settles. Until then the exit code is 1, so an emptied event loop (a promise
 * that can never settle) cannot exit 0.
 */
export function guardProcess(): { finished(code: number): void } {
  let done = false;
  process.exitCode = EXIT.internal;
  const fatal = (what: string) => (err: unknown): void => {
    const d = describeError(err);
    process.stderr.write(d.code === EXIT.user ? d.text : `catkit: ${what}: ${d.text.replace(/^catkit: /, '')}`);
    done = true;
    process.exit(d.code);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
  let interrupted = false;
  process.on('SIGINT', () => {
    process.stderr.write('\ncatkit: interrupted\n');
    interrupted = true;
    // Another handler (the data-parallel launcher) stops its workers first and then returns: let it.
    if (process.listenerCount('SIGINT') > 1) return;
    done = true;
    process.exit(EXIT.interrupted);
  });
  // A scheduler or `kill` stops a run with SIGTERM: end as Ctrl-C does, so the 'exit' hooks remove the run folder's lock.
  process.on('SIGTERM', () => {
    process.stderr.write('\ncatkit: terminated\n');
    interrupted = true;
    if (process.listenerCount('SIGTERM') > 1) return;
    done = true;
    process.exit(EXIT.terminated);
  });
  process.on('exit', () => {
    if (done) return;
    process.stderr.write('catkit: internal error: the process was about to end while the command was still running (a pending promise that nothing would settle); this is a bug in catkit\n');
    process.exitCode = EXIT.internal;
  });
  return { finished(code: number) { done = true; process.exitCode = interrupted && code !== EXIT.ok ? EXIT.interrupted : code; } };
}
