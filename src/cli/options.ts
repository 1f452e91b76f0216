// Option parsers shared by commands: each rejects nonsense with a message naming the option.
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';

export const int = (name: string, min = 0, max = Number.MAX_SAFE_INTEGER) => (v: string): number => {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return n;
};
export const float = (name: string, min = -Infinity, max = Infinity) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number${Number.isFinite(min) ? ` >= ${min}` : ''}${Number.isFinite(max) ? ` and <= ${max}` : ''}, got '${v}'`);
  return n;
};
export const oneOf = <T extends string>(name: string, values: readonly T[]) => (v: string): T => {
  if (!values.includes(v as T)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}, got '${v}'`);
  return v as T;
};

/** --threads, applied before any work. */
export function addThreadsOption(cmd: Command): Command {
  return cmd.option('--threads <n>', 'CPU threads for libtorch (default: all cores)', int('--threads', 1, 1024))
    // The engine reads CATKIT_THREADS when it loads, which commands do lazily after parsing.
    // More threads than cores only adds contention (measured 270× slower at 999 on 2 cores): capped, with a warning.
    .hook('preAction', (c) => {
      let t = c.opts().threads as number | undefined;
      if (!t) return;
      const cores = availableParallelism();
      if (t > cores) {
        process.stderr.write(`catkit: warning: --threads ${t} is more than the ${cores} cores of this machine; using ${cores}\n`);
        t = cores;
      }
      process.env.CATKIT_THREADS = String(t);
    });
}
