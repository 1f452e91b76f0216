// Embedding: a lookup table [num, dim] initialised N(0, 1); the padding row (if any) starts at zero
// and receives no gradient.
import { F, zeros, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { normal_ } from '../init.js';
import { positiveInt } from './util.js';

export class Embedding extends Module {
  /** Non-negative padding row index, or null. */
  readonly paddingIdx: number | null;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, o: { paddingIdx?: number } = {}) {
    super();
    positiveInt(numEmbeddings, 'numEmbeddings', 'Embedding');
    positiveInt(embeddingDim, 'embeddingDim', 'Embedding');
    const p = o.paddingIdx;
    if (p !== undefined && (!Number.isInteger(p) || p >= numEmbeddings || p < -numEmbeddings)) {
      throw new RangeError(`Embedding: paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${p}`);
    }
    this.paddingIdx = p === undefined ? null : p < 0 ? p + numEmbeddings : p; // negative counts from the end, as PyTorch
    this.registerParameter('weight', zeros([numEmbeddings, embeddingDim]));
    this.resetParameters();
  }

  get weight(): Tensor { return this.param('weight'); }

  resetParameters(): void {
    normal_(this.weight);
    const idx = this.paddingIdx;
    if (idx !== null) tidy(() => noGrad(() => { this.weight.select(0, idx).zero_(); }));
  }

  forward(indices: Tensor): Tensor { return F.embedding(indices, this.weight, this.paddingIdx ?? -1); }
}
