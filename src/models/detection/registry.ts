// Detection models by name (the CLI's --model for --task detection) and the class count a
// torchvision-named state dict implies.
import type { Tensor } from '../../tensor/index.js';
import { CatkitError } from '../../errors.js';
import type { SSD } from './ssd.js';
import { ssd300Vgg16, ssd512Vgg16 } from './vgg-ssd.js';
import { ssdlite320MobileNetV3Large } from './ssdlite.js';
import { DETECTOR_MODEL_NAMES } from './names.js';

export interface DetectorSpec { numClasses: number }
interface Entry { build: (s: DetectorSpec) => SSD; description: string; anchorsPerLocation0: number }

const DETECTORS = new Map<string, Entry>([
  ['ssd300_vgg16', { build: (s) => ssd300Vgg16(s), description: 'SSD300, VGG16 backbone (torchvision names)', anchorsPerLocation0: 4 }],
  ['ssd512_vgg16', { build: (s) => ssd512Vgg16(s), description: 'SSD512, VGG16 backbone (torchvision high-res extractor, paper default boxes)', anchorsPerLocation0: 4 }],
  ['ssdlite320_mobilenet_v3_large', { build: (s) => ssdlite320MobileNetV3Large(s), description: 'SSDLite320, MobileNetV3-Large backbone (torchvision names)', anchorsPerLocation0: 6 }],
]);

if (DETECTOR_MODEL_NAMES.join() !== [...DETECTORS.keys()].join()) throw new Error('models/detection: names.ts and the registry list different detectors');

export const DETECTOR_NAMES = (): string[] => [...DETECTORS.keys()];
export const isDetector = (name: string): boolean => DETECTORS.has(name);

function entry(name: string): Entry {
  const e = DETECTORS.get(name);
  if (!e) throw new CatkitError('UNKNOWN_MODEL', `unknown detection model '${name}'; known: ${DETECTOR_NAMES().join(', ')}`);
  return e;
}

export function buildDetector(name: string, spec: DetectorSpec): SSD {
  if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2) throw new CatkitError('BAD_OPTION', `${name}: numClasses (background included) must be an integer ≥ 2, got ${spec.numClasses}`);
  return entry(name).build(spec);
}

/** Classes (background included) implied by the first classification-head conv of a state dict. */
export function detectorClassesFromStateDict(name: string, sd: ReadonlyMap<string, Tensor>): number | undefined {
  const e = entry(name);
  const key = [...sd.keys()].find((k) => /^head\.classification_head\.module_list\.0\.(\d+\.)?weight$/.test(k) && sd.get(k)!.rank === 4 && sd.get(k)!.shape[2] === (name.startsWith('ssdlite') ? 1 : 3));
  if (!key) return undefined;
  const out = sd.get(key)!.shape[0]!;
  return out % e.anchorsPerLocation0 === 0 ? out / e.anchorsPerLocation0 : undefined;
}
