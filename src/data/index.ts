// Public data API: datasets, splits, loaders.
export { DataError } from './errors.js';
export { parseIdx, parseIdxPair, readIdxFile, readIdxPair, type IdxArray, type IdxImages } from './idx.js';
export {
  makeDataset, subset, limit, splitIndices, splitDataset,
  type ImageDataset, type DatasetFields, type PartSize, type SplitOptions, type SplitIndices, type Split,
} from './dataset.js';
export { computeNormalization, resolveNormalization, type Normalization } from './normalize.js';
export { renderSample, centredPlacement, type SampleGeometry, type Placement } from './augment.js';
export { DataLoader, type LoaderOptions, type Batch } from './loader.js';
export { closeSources, shardedBatches, shardedBatchCount, type BatchSource } from './batch-source.js';
export { epochBatches, shardSamples, shardBatchCount, globalBatchIndex, checkShard, type Shard } from './distributed-sampler.js';
export { mulberry32, mixSeed } from './random.js';
export { loadFashionMnist, findFashionMnist, FASHION_MNIST_CLASSES, FASHION_MNIST_DEBIAN_DIR, type FashionMnist, type FashionMnistFiles } from './fashion-mnist.js';
export { loadDigits, loadDigitsAll, digitsDir, DIGITS_CLASSES, type Digits } from './digits.js';
export { loadCifar10, loadCifar100, parseCifar, findCifar, CIFAR10_CLASSES, type Cifar, type CifarOptions, type CifarVariant, type ParseCifarOptions } from './cifar.js';
export {
  ImageFolderLoader, openImageFolder, subsetImageFolder, IMAGENET_NORMALIZATION, IMAGE_FOLDER_LAYOUT,
  type ImageFolderSplit, type ImageFolderOptions, type ImageFolderLoaderOptions, type BadImagePolicy,
} from './image-folder.js';
export { evalResizeCrop, randomResizedCropBox, type CropBox, type ResizeCrop } from './image-transforms.js';
export {
  getDataset, isImageFolderDataset, DATASET_NAMES, IMAGE_FOLDER_DATASETS,
  type DatasetName, type InMemoryDatasetName, type ImageFolderDatasetName, type DatasetSplits, type DatasetSourceOptions,
} from './registry.js';
