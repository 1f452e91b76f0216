// Datasets by name, for the CLI's --dataset option.
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

export type DatasetName = keyof typeof LOADERS;
export const DATASET_NAMES = Object.freeze(Object.keys(LOADERS) as DatasetName[]);

/** Loads a dataset by name; `name` is any string so CLI input is checked here. */
export function getDataset(name: DatasetName | (string & {}), o: DatasetSourceOptions = {}): DatasetSplits {
  if (!Object.hasOwn(LOADERS, name)) {
    throw new DataError(`unknown dataset '${name}'; known datasets: ${DATASET_NAMES.join(', ')}`);
  }
  return LOADERS[name as DatasetName](o);
}
