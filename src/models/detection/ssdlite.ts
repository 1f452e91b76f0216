// SSDLite320 on MobileNetV3-Large, as torchvision 0.14's ssdlite320_mobilenet_v3_large: the backbone
// is split at the C4 block's expansion (`backbone.features.0` ends with it, `backbone.features.1`
// starts with its depthwise conv), four extra blocks (1×1 → depthwise 3×3 stride 2 → 1×1, ReLU6),
// and depthwise-separable heads. BN eps 0.001, momentum 0.03; input scaled to [−1, 1].
//
// CAT sites: every ReLU/ReLU6 module (backbone ReLUs, extras' and heads' ReLU6). Hardswish outputs
// are signed (down to −0.375) and are not ReLU-like sites; they can be chosen by type.
import { tidy, type Tensor } from '../../tensor/index.js';
import { Conv2d, Module, Sequential, init, type AnyModule } from '../../nn/index.js';
import { DefaultBoxGenerator } from '../../detection/default-boxes.js';
import { ConvNormActivation, MobileNetV3Block, mobilenetV3LargeFeatures, type NormStyle } from '../mobilenetv3.js';
import { ScoringHead, SSD, SsdHead } from './ssd.js';

const NORM: NormStyle = { bnEps: 0.001, bnMomentum: 0.03 };

function normalInit(m: AnyModule): void {
  for (const c of m.modules()) if (c instanceof Conv2d) { init.normal_(c.weight, 0, 0.03); if (c.bias) init.zeros_(c.bias); }
}

function extraBlock(inC: number, outC: number): Sequential {
  const mid = Math.trunc(outC / 2);
  return new Sequential(
    new ConvNormActivation(inC, mid, 1, { ...NORM, activation: 'relu6' }),
    new ConvNormActivation(mid, mid, 3, { ...NORM, stride: 2, groups: mid, activation: 'relu6' }),
    new ConvNormActivation(mid, outC, 1, { ...NORM, activation: 'relu6' }),
  );
}

export class SsdLiteMobileNetV3Features extends Module<Tensor, Tensor[]> {
  constructor(o: { reducedTail?: boolean } = {}) {
    super();
    const layers = mobilenetV3LargeFeatures({ ...NORM, reducedTail: o.reducedTail ?? true });
    normalInit(new Sequential(...layers));
    // C4: the last strided block; the first feature map is its expansion output (MobileNetV3 paper §6.3).
    let c4 = -1;
    layers.forEach((l, i) => { if (l instanceof MobileNetV3Block && l.isStrided) c4 = i; });
    const c4Block = layers[c4] as MobileNetV3Block;
    const c4Parts = c4Block.block.namedChildren();
    const head = new Sequential(...layers.slice(0, c4));
    head.add(String(c4), c4Parts[0]![1]);
    const rest = new Sequential();
    for (const [name, m] of c4Parts.slice(1)) rest.add(name, m); // keeps torchvision's slice names (1, 2, 3)
    const tail = new Sequential(rest, ...layers.slice(c4 + 1));
    this.add('features', new Sequential(head, tail));
    const lastC = (layers[layers.length - 1] as ConvNormActivation).outChannels;
    const extra = new Sequential(extraBlock(lastC, 512), extraBlock(512, 256), extraBlock(256, 256), extraBlock(256, 128));
    normalInit(extra);
    this.add('extra', extra);
  }

  forward(x: Tensor): Tensor[] {
    return tidy(() => {
      const out: Tensor[] = [];
      let y = x;
      for (const block of [...this.child<Sequential>('features'), ...this.child<Sequential>('extra')]) {
        y = block.forward(y);
        out.push(y);
      }
      return out;
    });
  }
}

function predictionBlock(inC: number, outC: number): Sequential {
  return new Sequential(new ConvNormActivation(inC, inC, 3, { ...NORM, groups: inC, activation: 'relu6' }), new Conv2d(inC, outC, 1));
}

export interface SsdLiteOptions { numClasses?: number; reducedTail?: boolean }

/** torchvision's ssdlite320_mobilenet_v3_large (maps 20, 10, 5, 3, 2, 1; 3 234 default boxes). */
export function ssdlite320MobileNetV3Large(o: SsdLiteOptions = {}): SSD {
  const numClasses = o.numClasses ?? 91;
  const backbone = new SsdLiteMobileNetV3Features({ reducedTail: o.reducedTail });
  const anchors = new DefaultBoxGenerator({ aspectRatios: Array.from({ length: 6 }, () => [2, 3]), minRatio: 0.2, maxRatio: 0.95 });
  const reduced = o.reducedTail ?? true;
  const channels = [672, reduced ? 480 : 960, 512, 256, 256, 128];
  const perLoc = anchors.numAnchorsPerLocation();
  const cls = channels.map((c, i) => predictionBlock(c, numClasses * perLoc[i]!));
  const reg = channels.map((c, i) => predictionBlock(c, 4 * perLoc[i]!));
  const head = new SsdHead(new ScoringHead(cls, numClasses), new ScoringHead(reg, 4));
  normalInit(head);
  return new SSD(backbone, anchors, head, {
    size: [320, 320], numClasses, imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5],
    postprocess: { scoreThresh: 0.001, nmsThresh: 0.55, detectionsPerImage: 300, topkCandidates: 300 },
  });
}
