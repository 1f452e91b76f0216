// Datasets by name, for the CLI's --dataset option: small ones loaded into memory, and ImageNet-style
// image folders, which are streamed (see image-folder.ts) and so have no in-memory loader here.
import { loadCifar10, loadCifar100 } from './cifar.js';
import type { ImageDataset } from './dataset.js';
import { loadDigits } from './digits.js';
import { DataError } from './errors.js';
import { loadFashionMnist } from './fashion-mnist.js';

export interface DatasetSplits { train: ImageDataset; test: ImageDataset; classNames: readonly string[] }
export interface DatasetSourceOptions {
  /** Directory holding the dataset's files (Fashion-MNIST: optional; CIFAR: required; digits ships with catkit). */
  data?: string;
}

const LOADERS = {
  digits: (o: DatasetSourceOptions): DatasetSplits => {
    if (o.data !== undefined) throw new DataError(`the digits dataset ships with catkit and takes no --data directory (got ${o.data})`);
    return loadDigits();
  },
  'fashion-mnist': (o: DatasetSourceOptions): DatasetSplits => loadFashionMnist(o),
  cifar10: (o: DatasetSourceOptions): DatasetSplits => loadCifar10(o),
  cifar100: (o: DatasetSourceOptions): DatasetSplits => loadCifar100(o),
} as const;

/** Validation-label files a flat DIR/val/ may come with (image-folder.ts reads them). */
export const IMAGE_FOLDER_LABEL_FILES = ['LOC_val_solution.csv', 'val_labels.txt'] as const;
/** The folder layout openImageFolder accepts, for messages. */
export const IMAGE_FOLDER_LAYOUT = 'DIR/train/<wnid>/*.JPEG and DIR/val/<wnid>/*.JPEG, '
  + `or a flat DIR/val/*.JPEG with ${IMAGE_FOLDER_LABEL_FILES.join(' or ')} (in DIR or DIR/val)`;

/** Datasets read from an ImageNet-style folder (--data DIR with train/<wnid>/ and val/) by worker threads. */
export const IMAGE_FOLDER_DATASETS = Object.freeze(['imagenet'] as const);
export type ImageFolderDatasetName = (typeof IMAGE_FOLDER_DATASETS)[number];
export type InMemoryDatasetName = keyof typeof LOADERS;
export type DatasetName = InMemoryDatasetName | ImageFolderDatasetName;
export const DATASET_NAMES = Object.freeze([...Object.keys(LOADERS), ...IMAGE_FOLDER_DATASETS] as DatasetName[]);

/** Whether `name` is streamed from an image folder (open it with openImageFolder) rather than loaded by getDataset. */
export const isImageFolderDataset = (name: string): name is ImageFolderDatasetName => (IMAGE_FOLDER_DATASETS as readonly string[]).includes(name);

/** Loads an in-memory dataset by name; `name` is any string so CLI input is checked here. */
export function getDataset(name: DatasetName | (string & {}), o: DatasetSourceOptions = {}): DatasetSplits {
  if (isImageFolderDataset(name)) {
    throw new DataError(`'${name}' is streamed from an image folder, not loaded into memory: use openImageFolder(--data DIR) and ImageFolderLoader`);
  }
  if (!Object.hasOwn(LOADERS, name)) {
    throw new DataError(`unknown dataset '${name}'; known datasets: ${DATASET_NAMES.join(', ')}`);
  }
  return LOADERS[name as InMemoryDatasetName](o);
}
