// Refuses a command whose output would replace one of its inputs (compared by real path, so
// `./a`, `a` and a symbolic link to a are the same file).
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { CatkitError } from '../errors.js';

/** The real path `p` has or would have once created (its folder real-pathed, plus its name). */
export function realTarget(p: string): string {
  const abs = path.resolve(p);
  try { return realpathSync(abs); } catch { /* not there yet */ }
  try { return path.join(realpathSync(path.dirname(abs)), path.basename(abs)); } catch { return abs; }
}

/** Throws (user-facing) if an output names the same file or folder as an input. Pairs are [flag, path]. */
export function refuseOutputIsInput(outputs: readonly [string, string | undefined][], inputs: readonly [string, string | undefined][]): void {
  for (const [outFlag, out] of outputs) {
    if (out === undefined) continue;
    const o = realTarget(out);
    for (const [inFlag, input] of inputs) {
      if (input === undefined || realTarget(input) !== o) continue;
      throw new CatkitError('output_is_input', `${outFlag} ${out} is the same file as ${inFlag} ${input}; refusing to overwrite an input`,
        { hint: `choose another ${outFlag}` });
    }
  }
}
