// Checking a state dict against a module before loading: every problem is collected and reported
// in one error (missing keys, unexpected keys, shape and dtype mismatches), as PyTorch does.
import type { Tensor } from '../tensor/index.js';
import { CatkitError } from '../errors.js';

export interface LoadOptions {
  /** When true (default), missing and unexpected keys are errors; mismatches always are. */
  strict?: boolean;
  /** Keys for which a missing checkpoint entry is fine (e.g. a quantizer's new `…act1.clip`). */
  allowMissing?: (key: string) => boolean;
  /** Where the state dict came from (a file name), quoted in the error message. */
  source?: string;
}
export interface LoadResult { missing: string[]; unexpected: string[] }

export class StateDictError extends CatkitError {
  override name = 'StateDictError';
  constructor(
    readonly moduleName: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    /** One line per bad entry: `key: checkpoint [..] vs model [..]`. */
    readonly mismatched: readonly string[],
    readonly source?: string,
  ) {
    const lines = [`Error(s) in loading state dict for ${moduleName}${source ? ` from ${source}` : ''}:`];
    if (missing.length) lines.push(`  missing keys (${missing.length}): ${missing.join(', ')}`);
    if (unexpected.length) lines.push(`  unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
    for (const m of mismatched) lines.push(`  mismatch: ${m}`);
    super('state_dict_mismatch', lines.join('\n'), { file: source });
  }
}

const dims = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Validates `sd` against the module's (key, tensor) entries; throws StateDictError or returns the key differences. */
export function checkStateDict(entries: readonly [string, Tensor][], sd: ReadonlyMap<string, Tensor>, o: LoadOptions, moduleName: string): LoadResult {
  const strict = o.strict ?? true;
  const missing: string[] = [];
  const mismatched: string[] = [];
  const modelKeys = new Set<string>();
  for (const [key, target] of entries) {
    modelKeys.add(key);
    const src = sd.get(key);
    if (src === undefined) {
      if (!o.allowMissing?.(key)) missing.push(key);
      continue;
    }
    if (src.isDisposed) { mismatched.push(`${key}: checkpoint tensor is disposed`); continue; }
    if (dims(src.shape) !== dims(target.shape)) mismatched.push(`${key}: checkpoint ${dims(src.shape)} vs model ${dims(target.shape)}`);
    else if (src.dtype !== target.dtype) mismatched.push(`${key}: checkpoint dtype ${src.dtype} vs model ${target.dtype}`);
  }
  const unexpected = [...sd.keys()].filter((k) => !modelKeys.has(k));
  if (mismatched.length || (strict && (missing.length || unexpected.length))) {
    throw new StateDictError(moduleName, strict ? missing : [], strict ? unexpected : [], mismatched, o.source);
  }
  return { missing, unexpected };
}
