// Detector names and their native input sides, without building anything: the CLI and the run
// config use them to tell a detection run from a classification one before the engine loads.
export const DETECTOR_INPUT_SIZES: Readonly<Record<string, number>> = Object.freeze({
  ssd300_vgg16: 300,
  ssd512_vgg16: 512,
  ssdlite320_mobilenet_v3_large: 320,
});

export const DETECTOR_MODEL_NAMES: readonly string[] = Object.freeze(Object.keys(DETECTOR_INPUT_SIZES));
export const isDetectorName = (name: string): boolean => Object.hasOwn(DETECTOR_INPUT_SIZES, name);
