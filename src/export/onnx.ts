// ONNX export of the layer graph (opset 13), encoded with protobufjs through onnx-proto's generated
// ONNX schema. Quantization is explicit, in the QuantizeLinear/DequantizeLinear form that ONNX
// Runtime, TensorRT and OpenVINO accept:
// - weights: uint8 codes → DequantizeLinear(scale, zero point 0) → Add(grid minimum). catkit's grid
//   starts at the tensor minimum, which is in general not a whole number of steps from 0, so the
//   minimum is added after dequantization: codes · step + min, which can differ from catkit's
//   codes / s + min (src/export/weights.ts) by a float32 rounding.
// - activation sites: Relu / Clip (ReLU6 and the learned clip), then per the site's range mode:
//   'clip': QuantizeLinear → DequantizeLinear with the static scale clip / (2^b − 1);
//   'tensor': the batch's min/max (ReduceMin/ReduceMax), Q/DQ of (y − min) with scale (max − min) / (2^b − 1), + min;
//   'channel': the same per channel (per-axis Q/DQ on axis 1).
// Codes wider than 8 bits need uint16 Q/DQ (opset 21) and are refused.
import onnxProto from 'onnx-proto';
import { CatkitError } from '../errors.js';
import { checkGraph, type Graph, type GraphNode, type SiteSpec } from './graph.js';
import { dequantize, type QuantizedTensor } from './weights.js';
import type { TensorInput } from './catk.js';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

export const ONNX_OPSET = 13;
const IR_VERSION = 7; // the IR version of opset 13
const FLOAT = 1, UINT8 = 2, INT64 = 7;
/** Smallest scale of a dynamic range: a constant tensor then quantizes to code 0 and dequantizes to its value. */
const MIN_SCALE = 1e-30;

export interface OnnxOptions { producer?: string; docString?: string; /** Name of the logits output (default 'logits'). */ outputName?: string }

const attrInts = (name: string, v: readonly number[]): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...v] });
const attrInt = (name: string, v: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
const attrFloat = (name: string, v: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const raw = new Uint8Array(values.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(4 * i, values[i]!, true);
  return { name, dims: [...dims], dataType: FLOAT, rawData: raw };
}
const uint8Tensor = (name: string, dims: readonly number[], values: Uint8Array): TensorProto => ({ name, dims: [...dims], dataType: UINT8, rawData: values });
function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  const raw = new Uint8Array(values.length * 8);
  const dv = new DataView(raw.buffer);
  values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return { name, dims: [...dims], dataType: INT64, rawData: raw };
}

class OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly constants = new Map<string, string>();

  node(opType: string, inputs: string[], output: string, attribute: AttributeProto[] = []): string {
    this.nodes.push({ opType, input: inputs, output: [output], name: output, attribute });
    return output;
  }
  init(t: TensorProto): string { this.initializers.push(t); return t.name!; }
  /** A shared scalar float constant. */
  scalar(v: number): string {
    const key = `f${Math.fround(v)}`;
    let name = this.constants.get(key);
    if (!name) { name = this.init(floatTensor(`const/${Math.fround(v)}`, [], [v])); this.constants.set(key, name); }
    return name;
  }
  zeroPoint(): string {
    let name = this.constants.get('zp');
    if (!name) { name = this.init(uint8Tensor('const/zero_point_u8', [], new Uint8Array(1))); this.constants.set('zp', name); }
    return name;
  }
}

/** A weight initializer: float, or codes + DequantizeLinear (+ Add of the grid minimum). */
function weightInput(b: OnnxBuilder, t: TensorInput): string {
  if ('values' in t) return b.init(floatTensor(t.name, t.shape, t.values));
  const q: QuantizedTensor = t.quantized;
  if (q.bits > 8) throw new CatkitError('onnx_unsupported', `ONNX export: tensor '${t.name}' has ${q.bits}-bit codes; uint8 Q/DQ holds at most 8 bits`);
  if (q.scale.some((s) => s === 0)) return b.init(floatTensor(t.name, t.shape, dequantize(q, t.shape))); // constant groups: nothing to dequantize
  const codes = q.codes instanceof Uint8Array ? q.codes : Uint8Array.from(q.codes);
  const qName = b.init(uint8Tensor(`${t.name}/codes`, t.shape, codes));
  const groups = q.scale.length;
  const perChannel = q.axis === 0;
  const scale = b.init(floatTensor(`${t.name}/scale`, perChannel ? [groups] : [], q.scale));
  const zp = perChannel ? b.init(uint8Tensor(`${t.name}/zero_point`, [groups], new Uint8Array(groups))) : b.zeroPoint();
  const dq = b.node('DequantizeLinear', [qName, scale, zp], `${t.name}/dequantized`, perChannel ? [attrInt('axis', 0)] : []);
  if (q.min.every((m) => m === 0)) return dq;
  const minShape = perChannel ? [groups, ...t.shape.slice(1).map(() => 1)] : [];
  const min = b.init(floatTensor(`${t.name}/min`, minShape, q.min));
  return b.node('Add', [dq, min], t.name);
}

/** Nodes of one activation site: the activation (with its clip), then its quantizer. */
function activation(b: OnnxBuilder, n: Extract<GraphNode, { op: 'act' }>, site: SiteSpec | null, channels: number): string {
  const x = n.inputs[0]!;
  const clip = site?.clip ?? null;
  const upper = n.kind === 'relu6' ? Math.min(6, clip ?? 6) : clip;
  const quantize = site !== null && site.quantize;
  const actOut = quantize ? `${n.name}/activation` : n.name;
  const y = upper === null ? b.node('Relu', [x], actOut) : b.node('Clip', [x, b.scalar(0), b.scalar(upper)], actOut);
  if (!quantize) return y;
  if (site.bits > 8) throw new CatkitError('onnx_unsupported', `ONNX export: site '${site.name}' quantizes to ${site.bits} bits; uint8 Q/DQ holds at most 8`);
  const levels = 2 ** site.bits - 1;
  const p = n.name;
  if (site.range === 'clip') {
    const scale = b.scalar(site.clip! / levels), zp = b.zeroPoint();
    const q = b.node('QuantizeLinear', [y, scale, zp], `${p}/codes`);
    return b.node('DequantizeLinear', [q, scale, zp], p);
  }
  const perChannel = site.range === 'channel';
  const reduce = perChannel ? [attrInts('axes', [0, 2, 3]), attrInt('keepdims', 1)] : [attrInt('keepdims', 0)];
  const lo = b.node('ReduceMin', [y], `${p}/min`, reduce);
  const hi = b.node('ReduceMax', [y], `${p}/max`, reduce);
  const span = b.node('Sub', [hi, lo], `${p}/span`);
  let scale = b.node('Max', [b.node('Div', [span, b.scalar(levels)], `${p}/step`), b.scalar(MIN_SCALE)], `${p}/scale`);
  let zp = b.zeroPoint();
  const axis: AttributeProto[] = [];
  if (perChannel) {
    scale = b.node('Reshape', [scale, b.init(int64Tensor(`${p}/flat_shape`, [1], [-1]))], `${p}/scale_per_channel`);
    zp = b.init(uint8Tensor(`${p}/zero_point`, [channels], new Uint8Array(channels)));
    axis.push(attrInt('axis', 1));
  }
  const shifted = b.node('Sub', [y, lo], `${p}/shifted`);
  const q = b.node('QuantizeLinear', [shifted, scale, zp], `${p}/codes`, axis);
  const dq = b.node('DequantizeLinear', [q, scale, zp], `${p}/dequantized`, axis);
  return b.node('Add', [dq, lo], p);
}

/** Encodes the graph and its tensors as an ONNX ModelProto. */
export function writeOnnx(graph: Graph, tensors: readonly TensorInput[], o: OnnxOptions = {}): Uint8Array {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const { shapes } = checkGraph(JSON.parse(JSON.stringify(graph)), new Map(tensors.map((t) => [t.name, t.shape])));
  const sites = new Map(graph.sites.map((s) => [s.name, s]));
  const b = new OnnxBuilder();
  const weight = (key: string): string => weightInput(b, byName.get(key)!);
  for (const n of graph.nodes) {
    const x = n.inputs[0]!;
    switch (n.op) {
      case 'conv': {
        const w = byName.get(n.weight)!;
        b.node('Conv', [x, weight(n.weight), ...(n.bias ? [weight(n.bias)] : [])], n.name, [
          attrInts('kernel_shape', w.shape.slice(2)), attrInts('strides', n.stride), attrInts('pads', n.pads),
          attrInts('dilations', n.dilation), attrInt('group', n.groups),
        ]);
        break;
      }
      case 'batchnorm':
        b.node('BatchNormalization', [x, weight(n.weight), weight(n.bias), weight(n.mean), weight(n.variance)], n.name, [attrFloat('epsilon', n.eps)]);
        break;
      case 'act': activation(b, n, n.site === null ? null : sites.get(n.site)!, shapes.get(x)![0]!); break;
      case 'add': b.node('Add', [...n.inputs], n.name); break;
      case 'maxpool': b.node('MaxPool', [x], n.name, [attrInts('kernel_shape', n.kernel), attrInts('strides', n.stride), attrInts('pads', n.pads)]); break;
      case 'globalavgpool': b.node('GlobalAveragePool', [x], n.name); break;
      case 'flatten': b.node('Flatten', [x], n.name, [attrInt('axis', 1)]); break;
      case 'linear': b.node('Gemm', [x, weight(n.weight), ...(n.bias ? [weight(n.bias)] : [])], n.name, [attrInt('transB', 1)]); break;
    }
  }
  const outName = o.outputName ?? 'logits';
  b.node('Identity', [graph.output], outName);
  const [c, h, w] = graph.input.shape;
  const classes = shapes.get(graph.output)![0]!;
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION, producerName: o.producer ?? 'catkit', producerVersion: '0.1.0', docString: o.docString ?? '',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'catkit', node: b.nodes, initializer: b.initializers,
      input: [valueInfo(graph.input.name, ['N', c, h, w])], output: [valueInfo(outName, ['N', classes])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
