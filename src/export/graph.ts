// The network description shared by the .catk file, the ONNX writer and the TensorFlow.js runtime:
// a list of layer nodes in execution order, each naming its input values and the tensors it reads
// (state-dict keys), plus the activation sites with their quantizer settings. Pure data (it is
// stored as JSON in a .catk file), so everything here validates what it is given as untrusted.
import { CatkitError } from '../errors.js';

/** Where a quantizer's range comes from (the CAT run's --range): batch min/max, the learned clip, per channel. */
export type SiteRange = 'tensor' | 'clip' | 'channel';
export type ActivationKind = 'relu' | 'relu6';

/** One activation quantizer: the settings of the run and the learned clip. */
export interface SiteSpec {
  /** Dotted module path of the activation (e.g. `layer1.0.relu1`). */
  name: string;
  kind: ActivationKind;
  /** Quantize this site (false: a plain activation, e.g. --no-quant-edges or a float run). */
  quantize: boolean;
  bits: number;
  range: SiteRange;
  /** The learned clip |c| as float32 (null: no clip). */
  clip: number | null;
}

export type Pads = [top: number, left: number, bottom: number, right: number];

interface NodeBase { /** Output value name (the module path, or a synthetic name). */ name: string; inputs: string[] }
export interface ConvNode extends NodeBase { op: 'conv'; weight: string; bias: string | null; stride: [number, number]; pads: Pads; dilation: [number, number]; groups: number }
export interface BatchNormNode extends NodeBase { op: 'batchnorm'; weight: string; bias: string; mean: string; variance: string; eps: number }
export interface ActNode extends NodeBase { op: 'act'; kind: ActivationKind; /** Site name in Graph.sites, or null for an unquantized activation. */ site: string | null }
export interface AddNode extends NodeBase { op: 'add' }
export interface MaxPoolNode extends NodeBase { op: 'maxpool'; kernel: [number, number]; stride: [number, number]; pads: Pads }
export interface GlobalAvgPoolNode extends NodeBase { op: 'globalavgpool' }
export interface FlattenNode extends NodeBase { op: 'flatten' }
export interface LinearNode extends NodeBase { op: 'linear'; weight: string; bias: string | null }
export type GraphNode = ConvNode | BatchNormNode | ActNode | AddNode | MaxPoolNode | GlobalAvgPoolNode | FlattenNode | LinearNode;
export type GraphOp = GraphNode['op'];

export interface Graph {
  /** Input value name and shape without the batch dimension [C, H, W]. */
  input: { name: string; shape: [number, number, number] };
  nodes: GraphNode[];
  /** Name of the value holding the logits [N, classes]. */
  output: string;
  sites: SiteSpec[];
}

/** Limits a graph read from a file must respect (sizes are bounded before anything is allocated). */
export const GRAPH_LIMITS = { nodes: 10_000, dim: 1 << 16, elements: 1 << 28, kernel: 64, stride: 64, pad: 64, name: 512 } as const;

export class GraphError extends CatkitError {
  override name = 'GraphError';
  constructor(message: string) { super('graph_invalid', message); }
}

const OPS: readonly GraphOp[] = ['conv', 'batchnorm', 'act', 'add', 'maxpool', 'globalavgpool', 'flatten', 'linear'];
const INPUT_COUNT: Record<GraphOp, number> = { conv: 1, batchnorm: 1, act: 1, add: 2, maxpool: 1, globalavgpool: 1, flatten: 1, linear: 1 };

/** Value shapes without the batch dimension: [C, H, W] for feature maps, [F] after flatten. */
export type ValueShape = number[];

/** The tensors each node reads, by role (what a .catk file must contain for the graph). */
export function nodeTensors(n: GraphNode): { role: string; key: string }[] {
  switch (n.op) {
    case 'conv': return [{ role: 'weight', key: n.weight }, ...(n.bias ? [{ role: 'bias', key: n.bias }] : [])];
    case 'linear': return [{ role: 'weight', key: n.weight }, ...(n.bias ? [{ role: 'bias', key: n.bias }] : [])];
    case 'batchnorm': return [{ role: 'weight', key: n.weight }, { role: 'bias', key: n.bias }, { role: 'mean', key: n.mean }, { role: 'variance', key: n.variance }];
    default: return [];
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= GRAPH_LIMITS.name;
function intIn(v: unknown, lo: number, hi: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new GraphError(`${what} must be an integer in ${lo}…${hi}, got ${JSON.stringify(v)}`);
  return v;
}
function intList(v: unknown, len: number, lo: number, hi: number, what: string): number[] {
  if (!Array.isArray(v) || v.length !== len) throw new GraphError(`${what} must be a list of ${len} integers, got ${JSON.stringify(v)}`);
  return v.map((x, i) => intIn(x, lo, hi, `${what}[${i}]`));
}

/** Validates a site list read from a file (types and ranges), returning it typed. */
export function checkSites(v: unknown): SiteSpec[] {
  if (!Array.isArray(v) || v.length > GRAPH_LIMITS.nodes) throw new GraphError('sites must be a list');
  const seen = new Set<string>();
  return v.map((s, i) => {
    const where = `site ${i}`;
    if (!isObj(s) || !isName(s.name)) throw new GraphError(`${where}: needs a name`);
    if (seen.has(s.name)) throw new GraphError(`${where}: duplicate site name '${s.name}'`);
    seen.add(s.name);
    if (s.kind !== 'relu' && s.kind !== 'relu6') throw new GraphError(`site '${s.name}': kind must be relu or relu6, got ${JSON.stringify(s.kind)}`);
    if (typeof s.quantize !== 'boolean') throw new GraphError(`site '${s.name}': quantize must be true or false`);
    const bits = intIn(s.bits, 1, 16, `site '${s.name}' bits`);
    if (s.range !== 'tensor' && s.range !== 'clip' && s.range !== 'channel') throw new GraphError(`site '${s.name}': range must be tensor, clip or channel, got ${JSON.stringify(s.range)}`);
    if (s.clip !== null && !(typeof s.clip === 'number' && Number.isFinite(s.clip) && s.clip > 0)) throw new GraphError(`site '${s.name}': clip must be a positive number or null, got ${JSON.stringify(s.clip)}`);
    if (s.range === 'clip' && s.clip === null && s.quantize) throw new GraphError(`site '${s.name}': range 'clip' needs a clip value`);
    return { name: s.name, kind: s.kind, quantize: s.quantize, bits, range: s.range, clip: s.clip as number | null };
  });
}

/** Validates one node's fields (not its connections), returning it typed with only known fields. */
function checkNode(v: unknown, i: number): GraphNode {
  if (!isObj(v) || !isName(v.name)) throw new GraphError(`node ${i}: needs a name`);
  const where = `node ${i} ('${v.name}')`;
  if (!OPS.includes(v.op as GraphOp)) throw new GraphError(`${where}: unknown op ${JSON.stringify(v.op)}`);
  const op = v.op as GraphOp;
  if (!Array.isArray(v.inputs) || v.inputs.length !== INPUT_COUNT[op] || !v.inputs.every(isName)) {
    throw new GraphError(`${where}: ${op} takes ${INPUT_COUNT[op]} input name(s), got ${JSON.stringify(v.inputs)}`);
  }
  const base = { name: v.name, inputs: [...v.inputs] as string[] };
  const key = (x: unknown, what: string): string => { if (!isName(x)) throw new GraphError(`${where}: ${what} must be a tensor name`); return x; };
  const optKey = (x: unknown, what: string): string | null => (x === null ? null : key(x, what));
  const L = GRAPH_LIMITS;
  switch (op) {
    case 'conv': return {
      op, ...base, weight: key(v.weight, 'weight'), bias: optKey(v.bias, 'bias'),
      stride: intList(v.stride, 2, 1, L.stride, `${where} stride`) as [number, number],
      pads: intList(v.pads, 4, 0, L.pad, `${where} pads`) as Pads,
      dilation: intList(v.dilation, 2, 1, L.stride, `${where} dilation`) as [number, number],
      groups: intIn(v.groups, 1, L.dim, `${where} groups`),
    };
    case 'batchnorm': {
      if (typeof v.eps !== 'number' || !(v.eps > 0) || !Number.isFinite(v.eps)) throw new GraphError(`${where}: eps must be a positive number`);
      return { op, ...base, weight: key(v.weight, 'weight'), bias: key(v.bias, 'bias'), mean: key(v.mean, 'mean'), variance: key(v.variance, 'variance'), eps: v.eps };
    }
    case 'act':
      if (v.kind !== 'relu' && v.kind !== 'relu6') throw new GraphError(`${where}: kind must be relu or relu6`);
      return { op, ...base, kind: v.kind, site: v.site === null ? null : key(v.site, 'site') };
    case 'maxpool': return {
      op, ...base, kernel: intList(v.kernel, 2, 1, L.kernel, `${where} kernel`) as [number, number],
      stride: intList(v.stride, 2, 1, L.stride, `${where} stride`) as [number, number], pads: intList(v.pads, 4, 0, L.pad, `${where} pads`) as Pads,
    };
    case 'linear': return { op, ...base, weight: key(v.weight, 'weight'), bias: optKey(v.bias, 'bias') };
    case 'add': case 'globalavgpool': case 'flatten': return { op, ...base };
  }
}

const conv2dOut = (size: number, k: number, s: number, p0: number, p1: number, d: number): number => Math.floor((size + p0 + p1 - d * (k - 1) - 1) / s) + 1;

/**
 * Checks a graph read from a file against the shapes of the tensors it will get: every node's fields,
 * inputs defined before use, tensor shapes matching their role, sites existing, value sizes bounded.
 * Returns the typed graph and every value's shape (without the batch dimension).
 */
export function checkGraph(v: unknown, tensorShapes: ReadonlyMap<string, readonly number[]>): { graph: Graph; shapes: Map<string, ValueShape> } {
  if (!isObj(v)) throw new GraphError('graph must be an object');
  const inp = v.input;
  if (!isObj(inp) || !isName(inp.name)) throw new GraphError('graph input needs a name');
  const inShape = intList(inp.shape, 3, 1, GRAPH_LIMITS.dim, 'graph input shape') as [number, number, number];
  if (!Array.isArray(v.nodes) || v.nodes.length === 0 || v.nodes.length > GRAPH_LIMITS.nodes) throw new GraphError(`graph needs 1…${GRAPH_LIMITS.nodes} nodes`);
  const sites = checkSites(v.sites);
  const siteNames = new Set(sites.map((s) => s.name));
  const nodes = v.nodes.map(checkNode);
  if (!isName(v.output)) throw new GraphError('graph output must name a value');
  const shapes = new Map<string, ValueShape>([[inp.name, inShape]]);
  const tensor = (n: GraphNode, k: string, expect: (s: readonly number[]) => boolean, what: string): readonly number[] => {
    const s = tensorShapes.get(k);
    if (!s) throw new GraphError(`node '${n.name}': tensor '${k}' (${what}) is missing`);
    if (!expect(s)) throw new GraphError(`node '${n.name}': tensor '${k}' has shape [${s.join(', ')}], not a valid ${what}`);
    return s;
  };
  const usedSites = new Set<string>();
  for (const n of nodes) {
    if (shapes.has(n.name)) throw new GraphError(`node '${n.name}': value name defined twice`);
    const ins = n.inputs.map((name) => {
      const s = shapes.get(name);
      if (!s) throw new GraphError(`node '${n.name}': input '${name}' is not defined by an earlier node`);
      return s;
    });
    const x = ins[0]!;
    const map4 = (what: string): [number, number, number] => {
      if (x.length !== 3) throw new GraphError(`node '${n.name}': ${what} needs a [C, H, W] feature map, got [${x.join(', ')}]`);
      return x as [number, number, number];
    };
    let out: ValueShape;
    switch (n.op) {
      case 'conv': {
        const [c, h, w] = map4('conv');
        const ws = tensor(n, n.weight, (s) => s.length === 4, 'conv weight [out, in/groups, kh, kw]');
        if (c % n.groups !== 0 || ws[0]! % n.groups !== 0 || ws[1]! * n.groups !== c) {
          throw new GraphError(`node '${n.name}': weight [${ws.join(', ')}] with groups ${n.groups} does not take ${c} input channels`);
        }
        if (ws[2]! > GRAPH_LIMITS.kernel || ws[3]! > GRAPH_LIMITS.kernel) throw new GraphError(`node '${n.name}': kernel above ${GRAPH_LIMITS.kernel}`);
        if (n.bias) tensor(n, n.bias, (s) => s.length === 1 && s[0] === ws[0], `conv bias [${ws[0]}]`);
        out = [ws[0]!, conv2dOut(h, ws[2]!, n.stride[0], n.pads[0], n.pads[2], n.dilation[0]), conv2dOut(w, ws[3]!, n.stride[1], n.pads[1], n.pads[3], n.dilation[1])];
        break;
      }
      case 'batchnorm': {
        const [c] = map4('batchnorm');
        for (const k of [n.weight, n.bias, n.mean, n.variance]) tensor(n, k, (s) => s.length === 1 && s[0] === c, `batch-norm vector [${c}]`);
        out = [...x];
        break;
      }
      case 'act':
        if (n.site !== null) {
          if (!siteNames.has(n.site)) throw new GraphError(`node '${n.name}': site '${n.site}' is not in the site list`);
          if (usedSites.has(n.site)) throw new GraphError(`node '${n.name}': site '${n.site}' is used twice`);
          usedSites.add(n.site);
          if (sites.find((s) => s.name === n.site)!.kind !== n.kind) throw new GraphError(`node '${n.name}': kind differs from its site's`);
        }
        out = [...x];
        break;
      case 'add':
        if (ins[1]!.join(',') !== x.join(',')) throw new GraphError(`node '${n.name}': adds [${x.join(', ')}] and [${ins[1]!.join(', ')}]`);
        out = [...x];
        break;
      case 'maxpool': {
        const [c, h, w] = map4('maxpool');
        out = [c, conv2dOut(h, n.kernel[0], n.stride[0], n.pads[0], n.pads[2], 1), conv2dOut(w, n.kernel[1], n.stride[1], n.pads[1], n.pads[3], 1)];
        break;
      }
      case 'globalavgpool': out = [map4('globalavgpool')[0], 1, 1]; break;
      case 'flatten': out = [x.reduce((a, b) => a * b, 1)]; break;
      case 'linear': {
        if (x.length !== 1) throw new GraphError(`node '${n.name}': linear needs a flat [features] input, got [${x.join(', ')}]`);
        const ws = tensor(n, n.weight, (s) => s.length === 2 && s[1] === x[0], `linear weight [out, ${x[0]}]`);
        if (n.bias) tensor(n, n.bias, (s) => s.length === 1 && s[0] === ws[0], `linear bias [${ws[0]}]`);
        out = [ws[0]!];
        break;
      }
    }
    if (out.some((d) => !(d >= 1) || d > GRAPH_LIMITS.dim) || out.reduce((a, b) => a * b, 1) > GRAPH_LIMITS.elements) {
      throw new GraphError(`node '${n.name}': output shape [${out.join(', ')}] is empty or above the limits`);
    }
    shapes.set(n.name, out);
  }
  const outShape = shapes.get(v.output);
  if (!outShape || outShape.length !== 1) throw new GraphError(`graph output '${v.output}' must be a [classes] value defined by a node`);
  return { graph: { input: { name: inp.name, shape: inShape }, nodes, output: v.output, sites }, shapes };
}

/** The graph's activation sites in execution order (those its act nodes reference). */
export function sitesInOrder(g: Graph): SiteSpec[] {
  const byName = new Map(g.sites.map((s) => [s.name, s]));
  return g.nodes.flatMap((n) => (n.op === 'act' && n.site !== null ? [byName.get(n.site)!] : []));
}
