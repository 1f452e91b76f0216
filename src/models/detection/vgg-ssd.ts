// SSD300 / SSD512 on VGG16 with torchvision 0.14's module tree (`backbone.features.N`,
// `backbone.extra.K.M`, `backbone.scale_weight`, `head.*`), so torchvision state dicts load by name.
// `features` is VGG16 up to conv4_3 (pool3 with ceil_mode), whose output is L2-normalised and
// scaled per channel (`scale_weight`, init 20); `extra.0` continues with pool4, conv5_x, the
// modified pool5 and the dilated fc6 / fc7; `extra.1…` are the SSD extra layers.
//
// CAT sites: the reference (lufficc/SSD as used by CAT) quantizes the VGG base's ReLUs — here
// every ReLU under `backbone.features` and `backbone.extra.0` — and calls F.relu in the extra layers,
// so those are not quantized there. The extras' ReLUs are still modules here (so they can be
// chosen), at `backbone.extra.1.*` … `backbone.extra.5.*`; `VGG_SSD_REFERENCE_SITES` selects the
// reference's set and `isVggSsdExtraSite` names the rest.
import { F, full, tidy, type Tensor } from '../../tensor/index.js';
import { Conv2d, MaxPool2d, Module, ReLU, Sequential, init, type AnyModule } from '../../nn/index.js';
import { DefaultBoxGenerator } from '../../detection/default-boxes.js';
import { ScoringHead, SSD, SsdHead } from './ssd.js';

/** VGG16 configuration D: channels, 'M' = 2×2 max-pool. */
const VGG16 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const;

function vgg16Layers(): AnyModule[] {
  const layers: AnyModule[] = [];
  let inC = 3, pools = 0;
  for (const v of VGG16) {
    if (v === 'M') {
      // SSD patches pool3 to ceil mode so 300 → 38 at conv4_3, as in the paper.
      layers.push(new MaxPool2d(2, { stride: 2, ceilMode: ++pools === 3 }));
    } else {
      const conv = new Conv2d(inC, v, 3, { padding: 1 });
      init.kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      init.zeros_(conv.bias!);
      layers.push(conv, new ReLU());
      inC = v;
    }
  }
  return layers;
}

function xavier(m: AnyModule): void {
  for (const c of m.modules()) if (c instanceof Conv2d) { init.xavierUniform_(c.weight); if (c.bias) init.zeros_(c.bias); }
}

function extraBlock(inC: number, mid: number, outC: number, kernel: number, stride: number, padding: number): Sequential {
  return new Sequential(new Conv2d(inC, mid, 1), new ReLU(), new Conv2d(mid, outC, kernel, { stride, padding }), new ReLU());
}

/** torchvision's SSDFeatureExtractorVGG; `highres` adds the SSD512 block (conv12_2). */
export class VggSsdFeatures extends Module<Tensor, Tensor[]> {
  constructor(readonly highres: boolean) {
    super();
    const vgg = vgg16Layers();
    this.registerParameter('scale_weight', full([512], 20));
    this.add('features', new Sequential(...vgg.slice(0, 23))); // until conv4_3 + ReLU
    const fc = new Sequential(
      new MaxPool2d(3, { stride: 1, padding: 1 }), // modified pool5
      new Conv2d(512, 1024, 3, { padding: 6, dilation: 6 }), // fc6, atrous
      new ReLU(),
      new Conv2d(1024, 1024, 1), // fc7
      new ReLU(),
    );
    xavier(fc);
    const extras = [
      extraBlock(1024, 256, 512, 3, 2, 1), // conv8_2
      extraBlock(512, 128, 256, 3, 2, 1), // conv9_2
      extraBlock(256, 128, 256, 3, 1, 0), // conv10_2
      extraBlock(256, 128, 256, 3, 1, 0), // conv11_2
    ];
    if (highres) extras.push(extraBlock(256, 128, 256, 4, 1, 0)); // conv12_2
    extras.forEach(xavier);
    // extra.0: pool4, conv5_1…conv5_3 (+ReLUs), then the fc block (VGG's own pool5 is dropped).
    this.add('extra', new Sequential(new Sequential(...vgg.slice(23, 30), fc), ...extras));
  }

  forward(x: Tensor): Tensor[] {
    return tidy(() => {
      let y = this.child('features').forward(x);
      const out = [this.param('scale_weight').view([1, -1, 1, 1]).mul(F.normalize(y))];
      for (const block of this.child<Sequential>('extra')) {
        y = block.forward(y);
        out.push(y);
      }
      return out;
    });
  }
}

/** Reference CAT sites: the VGG base's ReLUs (conv1_1 … conv5_3, fc6, fc7), not the extra layers'. */
export const isVggSsdExtraSite = (name: string): boolean => /^backbone\.extra\.[1-9]\d*\./.test(name);
export const VGG_SSD_REFERENCE_SITES = (name: string, m: AnyModule): boolean => m instanceof ReLU && !isVggSsdExtraSite(name);

function vggHead(channels: number[], anchors: number[], numClasses: number): SsdHead {
  const cls = channels.map((c, i) => new Conv2d(c, numClasses * anchors[i]!, 3, { padding: 1 }));
  const reg = channels.map((c, i) => new Conv2d(c, 4 * anchors[i]!, 3, { padding: 1 }));
  const head = new SsdHead(new ScoringHead(cls, numClasses), new ScoringHead(reg, 4));
  xavier(head);
  return head;
}

export interface VggSsdOptions {
  /** Classes including background (torchvision COCO: 91; VOC: 21). */
  numClasses?: number;
}

// torchvision's VGG SSD input convention: [0, 1] images → (x − mean)·255 (Caffe-style BGR-free means).
const VGG_MEAN = [0.48235, 0.45882, 0.40784];
const VGG_STD = [1 / 255, 1 / 255, 1 / 255];

/** torchvision's ssd300_vgg16 (maps 38, 19, 10, 5, 3, 1; 8 732 default boxes). */
export function ssd300Vgg16(o: VggSsdOptions = {}): SSD {
  const numClasses = o.numClasses ?? 91;
  const anchors = new DefaultBoxGenerator({
    aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
    scales: [0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
    steps: [8, 16, 32, 64, 100, 300],
  });
  const head = vggHead([512, 1024, 512, 256, 256, 256], anchors.numAnchorsPerLocation(), numClasses);
  return new SSD(new VggSsdFeatures(false), anchors, head, { size: [300, 300], numClasses, imageMean: VGG_MEAN, imageStd: VGG_STD });
}

/**
 * SSD512 in the same family: torchvision's high-resolution VGG extractor (one more extra block,
 * conv12_2; maps 64, 32, 16, 8, 6, 4, 1) with the SSD paper's 512 default boxes (scales 0.07 …
 * 1.05, aspect ratios 2 / 2,3 per map). Box centres follow each map's own grid.
 */
export function ssd512Vgg16(o: VggSsdOptions = {}): SSD {
  const numClasses = o.numClasses ?? 91;
  const anchors = new DefaultBoxGenerator({
    aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2], [2], [2]],
    scales: [0.07, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.05],
  });
  const head = vggHead([512, 1024, 512, 256, 256, 256, 256], anchors.numAnchorsPerLocation(), numClasses);
  return new SSD(new VggSsdFeatures(true), anchors, head, { size: [512, 512], numClasses, imageMean: VGG_MEAN, imageStd: VGG_STD });
}
