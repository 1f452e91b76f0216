// Detection models with torchvision's names.
export { SSD, SsdHead, ScoringHead, scaleDetections, type SsdOptions, type SsdOutputs, type HeadOutputs } from './ssd.js';
export { ssd300Vgg16, ssd512Vgg16, VggSsdFeatures, VGG_SSD_REFERENCE_SITES, isVggSsdExtraSite, type VggSsdOptions } from './vgg-ssd.js';
export { ssdlite320MobileNetV3Large, SsdLiteMobileNetV3Features, type SsdLiteOptions } from './ssdlite.js';
export { buildDetector, detectorClassesFromStateDict, DETECTOR_NAMES, isDetector, type DetectorSpec } from './registry.js';
