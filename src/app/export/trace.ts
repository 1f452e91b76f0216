// Describes a live catkit model as the export graph (src/export/graph.ts) by walking its module tree:
// the residual blocks and the model classes of src/models are known structures, containers are
// chained, and activation modules become activation nodes carrying their site settings. A module the
// walker does not know is refused by name rather than guessed.
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Identity, Linear, MaxPool2d, Sequential, type AnyModule, type Module } from '../../nn/index.js';
import { CifarResNet, BasicBlock as CifarBasicBlock } from '../../models/resnet-cifar.js';
import { ResNet, BasicBlock, Bottleneck } from '../../models/resnet.js';
import { MobileNetV2, InvertedResidual, KerasStride2Conv2d } from '../../models/mobilenetv2.js';
import { QuantConv2d } from '../../method/index.js';
import { CatkitError } from '../../errors.js';
import type { Graph, GraphNode, Pads, SiteSpec } from '../../export/graph.js';
import { activationKind, readSite } from './sites.js';

export class TraceError extends CatkitError {
  override name = 'TraceError';
  constructor(message: string) { super('export_unsupported', message); }
}

class Tracer {
  readonly nodes: GraphNode[] = [];
  readonly sites: SiteSpec[] = [];

  /** Emits the nodes of module `m` (at dotted `path`) applied to value `x`; returns the output value. */
  module(m: AnyModule, path: string, x: string): string {
    const kind = activationKind(m);
    if (kind) {
      const site = readSite(m, path);
      if (site) this.sites.push(site);
      return this.push({ op: 'act', name: path, inputs: [x], kind, site: site ? site.name : null });
    }
    if (m instanceof Conv2d) return this.conv(m, path, x);
    if (m instanceof BatchNorm2d) {
      if (!m.weight || !m.tracksRunningStats) throw new TraceError(`${path}: batch norm without affine parameters or running statistics is not supported`);
      return this.push({ op: 'batchnorm', name: path, inputs: [x], weight: `${path}.weight`, bias: `${path}.bias`, mean: `${path}.running_mean`, variance: `${path}.running_var`, eps: m.eps });
    }
    if (m instanceof Linear) return this.push({ op: 'linear', name: path, inputs: [x], weight: `${path}.weight`, bias: m.bias ? `${path}.bias` : null });
    if (m instanceof Dropout || m instanceof Identity) return x; // evaluation: identity
    if (m instanceof AdaptiveAvgPool2d) {
      const o = m.outputSize;
      if (!(o === 1 || (Array.isArray(o) && o[0] === 1 && o[1] === 1))) throw new TraceError(`${path}: adaptive average pooling to ${JSON.stringify(o)} is not supported (only 1)`);
      return this.push({ op: 'globalavgpool', name: path, inputs: [x] });
    }
    if (m instanceof MaxPool2d) return this.maxPool(m, path, x);
    if (m instanceof CifarBasicBlock || m instanceof BasicBlock) return this.residual(m, path, x, ['conv1', 'bn1', 'relu1', 'conv2', 'bn2'], 'relu2');
    if (m instanceof Bottleneck) return this.residual(m, path, x, ['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'conv3', 'bn3'], 'relu3');
    if (m instanceof InvertedResidual) {
      const y = this.module(m.child('conv'), join(path, 'conv'), x);
      return m.useResConnect ? this.push({ op: 'add', name: join(path, 'add'), inputs: [x, y] }) : y;
    }
    if (m instanceof CifarResNet || m instanceof ResNet) {
      let y = x;
      for (const [name, c] of m.namedChildren()) {
        if (name === 'fc') y = this.push({ op: 'flatten', name: join(path, 'flatten'), inputs: [y] });
        y = this.module(c, join(path, name), y);
      }
      return y;
    }
    if (m instanceof MobileNetV2) {
      let y = this.module(m.child('features'), join(path, 'features'), x);
      y = this.push({ op: 'globalavgpool', name: join(path, 'pool'), inputs: [y] });
      y = this.push({ op: 'flatten', name: join(path, 'flatten'), inputs: [y] });
      return this.module(m.child('classifier'), join(path, 'classifier'), y);
    }
    if (m instanceof Sequential) {
      let y = x;
      for (const [name, c] of m.namedChildren()) y = this.module(c, join(path, name), y);
      return y;
    }
    throw new TraceError(`cannot export module '${path || '(root)'}' of class ${m.constructor.name}: the exporter knows catkit's ResNets and MobileNetV2 and their layers`);
  }

  private push(n: GraphNode): string { this.nodes.push(n); return n.name; }

  private conv(m: Conv2d, path: string, x: string): string {
    const [ph, pw] = m.padding;
    // Keras' stride-2 convolutions pad only bottom and right (one pixel), see models/mobilenetv2.ts.
    const padding = m instanceof QuantConv2d ? m.source : m; // a weight-quantized layer convolves through the one it replaced
    const pads: Pads = padding instanceof KerasStride2Conv2d ? [0, 0, 1, 1] : [ph, pw, ph, pw];
    return this.push({
      op: 'conv', name: path, inputs: [x], weight: `${path}.weight`, bias: m.bias ? `${path}.bias` : null,
      stride: [...m.stride], pads, dilation: [...m.dilation], groups: m.groups,
    });
  }

  private maxPool(m: MaxPool2d, path: string, x: string): string {
    const pair = (v: number | readonly number[] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0]!, v[1]!]);
    const kernel = pair(m.kernelSize as number | number[], 1);
    const stride = pair(m.options.stride as number | number[] | undefined, kernel[0]);
    if (m.options.stride === undefined) stride[1] = kernel[1];
    const pad = pair(m.options.padding as number | number[] | undefined, 0);
    const dil = pair(m.options.dilation as number | number[] | undefined, 1);
    if (m.options.ceilMode || dil[0] !== 1 || dil[1] !== 1) throw new TraceError(`${path}: max pooling with ceil mode or dilation is not supported`);
    return this.push({ op: 'maxpool', name: path, inputs: [x], kernel, stride, pads: [pad[0], pad[1], pad[0], pad[1]] });
  }

  /** main branch, shortcut (downsample or identity), add, then the block's last activation. */
  private residual(m: Module, path: string, x: string, main: string[], last: string): string {
    let y = x;
    for (const name of main) y = this.module(m.child(name), join(path, name), y);
    const ds = m.namedChildren().find(([n]) => n === 'downsample')?.[1];
    const shortcut = ds ? this.module(ds, join(path, 'downsample'), x) : x;
    const sum = this.push({ op: 'add', name: join(path, 'add'), inputs: [y, shortcut] });
    return this.module(m.child(last), join(path, last), sum);
  }
}

const join = (path: string, name: string): string => (path ? `${path}.${name}` : name);

/** The export graph of `model` for inputs of shape [C, H, W]. */
export function traceGraph(model: Module, inputShape: [number, number, number]): Graph {
  const t = new Tracer();
  const output = t.module(model, '', 'input');
  return { input: { name: 'input', shape: inputShape }, nodes: t.nodes, output, sites: t.sites };
}
