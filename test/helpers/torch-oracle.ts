// Runs a Python snippet under Debian's python3-torch as an independent reference.
// Inputs arrive as float64 torch tensors named in `inputs`; the snippet assigns results into `out`
// (tensors or numbers), which come back as flat float64 arrays with their shapes.
import { execFileSync } from 'node:child_process';
import { Tensor, tensor } from '../../src/tensor/index.js';

export interface OracleArray { shape: number[]; data: number[] }
export type OracleInput = Tensor | OracleArray | number;

const PRELUDE = `
import sys, json, torch
torch.set_num_threads(1)
torch.manual_seed(0)
_in = json.load(sys.stdin)
def _t(v):
    return torch.tensor(v['data'], dtype=torch.float64).reshape(v['shape']) if isinstance(v, dict) else v
inp = {k: _t(v) for k, v in _in.items()}
out = {}
`;
const EPILOGUE = `
def _o(v):
    if isinstance(v, torch.Tensor):
        v = v.detach().to(torch.float64)
        return {'shape': list(v.shape), 'data': v.reshape(-1).tolist()}
    if isinstance(v, (list, tuple)):
        return [_o(x) for x in v]
    return v
json.dump({k: _o(v) for k, v in out.items()}, sys.stdout)
`;

function encode(v: OracleInput): OracleArray | number {
  if (typeof v === 'number') return v;
  if (v instanceof Tensor) return { shape: [...v.shape], data: v.toArray() };
  return v;
}

/** Runs `code` (which reads `inp[name]` and writes `out[name]`) and returns `out`. */
export function torchOracle(code: string, inputs: Record<string, OracleInput> = {}): Record<string, OracleArray & number & OracleArray[]> {
  const payload = JSON.stringify(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, encode(v)])));
  let stdout: Buffer;
  try {
    stdout = execFileSync('/usr/bin/python3', ['-c', PRELUDE + code + EPILOGUE], {
      input: payload, maxBuffer: 1 << 28, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    // Report python's traceback alone rather than the whole command line.
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`torch oracle failed:\n${stderr || String(e)}`);
  }
  return JSON.parse(stdout.toString());
}

/** The oracle array as a float64 catkit tensor. */
export const fromOracle = (a: OracleArray): Tensor => tensor(a.data, a.shape, { dtype: 'float64' });

/** Largest |a-b| / max(1, |b|) over elements; a and b flat. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}
