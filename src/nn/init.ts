// Weight initialisers with PyTorch's formulas (torch.nn.init). They fill tensors in place without
// recording autograd history and draw from libtorch's global generator (seed it with manualSeed).
import { noGrad, type Tensor } from '../tensor/index.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';
export interface KaimingOptions {
  /** Negative slope of the leaky ReLU after this layer (PyTorch's `a`); √5 reproduces Conv/Linear defaults. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

/** PyTorch's recommended gain for a nonlinearity (param = leaky_relu's negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
    default: throw new RangeError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/** fanIn = shape[1]·receptive field, fanOut = shape[0]·receptive field (receptive = product of dims ≥ 2). */
export function calculateFanInAndFanOut(t: Tensor | readonly number[]): { fanIn: number; fanOut: number } {
  const shape = Array.isArray(t) ? (t as readonly number[]) : (t as Tensor).shape;
  if (shape.length < 2) throw new RangeError(`calculateFanInAndFanOut: needs a tensor with at least 2 dims, got shape [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function fan(t: Tensor, mode: FanMode): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  if (mode === 'fan_in') return fanIn;
  if (mode === 'fan_out') return fanOut;
  throw new RangeError(`kaiming init: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
}

export function uniform_(t: Tensor, from = 0, to = 1): Tensor { return noGrad(() => t.uniform_(from, to)); }
export function normal_(t: Tensor, mean = 0, std = 1): Tensor { return noGrad(() => t.normal_(mean, std)); }
export function constant_(t: Tensor, value: number): Tensor { return noGrad(() => t.fill_(value)); }
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** He uniform: U(−b, b) with b = gain·√(3/fan). Defaults as PyTorch: a = 0, fan_in, leaky_relu. */
export function kaimingUniform_(t: Tensor, { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: KaimingOptions = {}): Tensor {
  if (t.size === 0) return t; // PyTorch warns and leaves empty tensors alone
  const bound = calculateGain(nonlinearity, a) * Math.sqrt(3 / fan(t, mode));
  return uniform_(t, -bound, bound);
}

/** He normal: N(0, std²) with std = gain/√fan. torchvision's ResNet uses mode 'fan_out', nonlinearity 'relu'. */
export function kaimingNormal_(t: Tensor, { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: KaimingOptions = {}): Tensor {
  if (t.size === 0) return t;
  return normal_(t, 0, calculateGain(nonlinearity, a) / Math.sqrt(fan(t, mode)));
}

/** Glorot uniform: U(−b, b) with b = gain·√(6/(fanIn+fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

/** Glorot normal: N(0, std²) with std = gain·√(2/(fanIn+fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/**
 * PyTorch's default Conv/Linear init (`reset_parameters`): weight kaiming-uniform with a = √5
 * (bound 1/√fanIn), bias U(−1/√fanIn, 1/√fanIn).
 */
export function defaultLayerInit_(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}
