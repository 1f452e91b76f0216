// The SSD detector as torchvision 0.14 structures it: `backbone` (a list of feature maps), `head`
// (`classification_head.module_list.K`, `regression_head.module_list.K`), default boxes from a
// DefaultBoxGenerator (not a module: no state), and torchvision's transform (normalise with the
// model's mean/std, bilinear resize to the fixed input size) and postprocessing.
import { cat, noGrad, tensor, tidy, F, type Tensor } from '../../tensor/index.js';
import { Module, Sequential, type AnyModule } from '../../nn/index.js';
import { DefaultBoxGenerator } from '../../detection/default-boxes.js';
import { postprocessDetections, SSD_POSTPROCESS, type Detections, type PostprocessOptions } from '../../detection/postprocess.js';
import { multiboxLoss, type DetectionTarget, type MultiboxLoss, type MultiboxLossOptions } from '../../detection/multibox-loss.js';

export interface HeadOutputs {
  /** [N, A, 4] offsets per default box. */
  boxRegression: Tensor;
  /** [N, A, C] class logits per default box (class 0 is background). */
  clsLogits: Tensor;
}
export interface SsdOutputs extends HeadOutputs {
  /** [h, w] of each feature map the heads ran on (fixes the default boxes). */
  gridSizes: [number, number][];
  /** [h, w] of the input. */
  imageSize: [number, number];
}

/** A list of per-map prediction modules whose outputs are flattened to [N, H·W·anchors, columns] and concatenated. */
export class ScoringHead extends Module<Tensor[], Tensor> {
  readonly module_list: Sequential;
  constructor(modules: AnyModule[], readonly columns: number) {
    super();
    this.module_list = this.add('module_list', new Sequential(...modules));
  }
  forward(features: Tensor[]): Tensor {
    return tidy(() => {
      const parts = features.map((f, i) => {
        const y = this.module_list.at(i).forward(f) as Tensor;
        const [n, , h, w] = y.shape as [number, number, number, number];
        return y.view([n, -1, this.columns, h, w]).permute([0, 3, 4, 1, 2]).reshape([n, -1, this.columns]);
      });
      return cat(parts, 1);
    });
  }
}

export class SsdHead extends Module<Tensor[], HeadOutputs> {
  constructor(classification: ScoringHead, regression: ScoringHead) {
    super();
    this.add('classification_head', classification);
    this.add('regression_head', regression);
  }
  forward(features: Tensor[]): HeadOutputs {
    return {
      boxRegression: this.child<ScoringHead>('regression_head').forward(features),
      clsLogits: this.child<ScoringHead>('classification_head').forward(features),
    };
  }
}

export interface SsdOptions {
  /** Fixed input size [h, w] (torchvision resizes every image to it). */
  size: [number, number];
  numClasses: number;
  imageMean: readonly number[];
  imageStd: readonly number[];
  postprocess?: PostprocessOptions;
  loss?: MultiboxLossOptions;
}

export class SSD extends Module<Tensor, SsdOutputs> {
  size: [number, number];
  readonly numClasses: number;
  readonly imageMean: number[];
  readonly imageStd: number[];
  readonly postprocessOptions: Required<Omit<PostprocessOptions, 'boxWeights'>>;
  readonly lossOptions: MultiboxLossOptions;

  constructor(backbone: Module<Tensor, Tensor[]>, readonly anchorGenerator: DefaultBoxGenerator, head: SsdHead, o: SsdOptions) {
    super();
    this.add('backbone', backbone);
    this.add('head', head);
    this.size = [...o.size];
    this.numClasses = o.numClasses;
    this.imageMean = [...o.imageMean];
    this.imageStd = [...o.imageStd];
    this.postprocessOptions = { ...SSD_POSTPROCESS, ...o.postprocess };
    this.lossOptions = { ...o.loss };
  }

  /**
   * Changes the fixed input size (e.g. 192 for CPU-sized SSDLite runs); default boxes follow the
   * feature maps, so any size the backbone accepts works.
   */
  setInputSize(h: number, w: number = h): this {
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 32 || w < 32) throw new RangeError(`SSD: input size must be integers ≥ 32, got ${h}×${w}`);
    this.size = [h, w];
    return this;
  }

  /** Head outputs for a batch already normalised and resized (see preprocess). */
  forward(x: Tensor): SsdOutputs {
    return tidy(() => {
      const features = this.child<Module<Tensor, Tensor[]>>('backbone').forward(x);
      const head = this.child<SsdHead>('head').forward(features);
      const gridSizes = features.map((f) => [f.shape[2]!, f.shape[3]!] as [number, number]);
      return { ...head, gridSizes, imageSize: [x.shape[2]!, x.shape[3]!] as [number, number] };
    });
  }

  /** Images [N, 3, H, W] with values in [0, 1] → normalised with the model's mean/std and resized (bilinear) to its input size. */
  preprocess(images: Tensor): Tensor {
    return tidy(() => {
      const mean = tensor(this.imageMean, [1, 3, 1, 1], { dtype: images.dtype });
      const std = tensor(this.imageStd, [1, 3, 1, 1], { dtype: images.dtype });
      const x = images.sub(mean).div(std);
      const [h, w] = this.size;
      return images.shape[2] === h && images.shape[3] === w ? x : F.resizeBilinear(x, [h, w]);
    });
  }

  /** Default boxes [A, 4] (pixels of the model input) for these outputs; owned by the model. */
  anchors(out: Pick<SsdOutputs, 'gridSizes' | 'imageSize'>): Tensor {
    return this.anchorGenerator.boxes(out.imageSize, out.gridSizes);
  }

  /** Detections from outputs (boxes in model-input pixels; scale them back with `scaleDetections`). */
  postprocess(out: SsdOutputs, o: PostprocessOptions = {}): Detections[] {
    return postprocessDetections(out.boxRegression, out.clsLogits, this.anchors(out), out.imageSize, { ...this.postprocessOptions, ...o });
  }

  /** Eval-mode detection on images in [0, 1]; boxes are returned in the input images' pixels. */
  detect(images: Tensor, o: PostprocessOptions = {}): Detections[] {
    const wasTraining = this.training;
    this.eval();
    try {
      const dets = noGrad(() => tidy(() => {
        const out = this.forward(this.preprocess(images));
        return this.postprocess(out, o);
      }));
      return dets.map((d) => scaleDetections(d, images.shape[2]! / this.size[0], images.shape[3]! / this.size[1]));
    } finally { this.train(wasTraining); }
  }

  /** MultiBox loss of outputs against targets (boxes in model-input pixels). */
  loss(out: SsdOutputs, targets: readonly DetectionTarget[], o: MultiboxLossOptions = {}): MultiboxLoss {
    return multiboxLoss(out.boxRegression, out.clsLogits, this.anchors(out), targets, { ...this.lossOptions, ...o });
  }

  override dispose(): void {
    this.anchorGenerator.dispose();
    super.dispose();
  }
}

/** Boxes multiplied by (sy, sx) (torchvision's transform.postprocess from the resized to the original image). */
export function scaleDetections(d: Detections, sy: number, sx: number): Detections {
  if (sy === 1 && sx === 1) return d;
  const boxes = Float32Array.from(d.boxes, (v, i) => v * (i % 2 === 0 ? sx : sy));
  return { ...d, boxes };
}
