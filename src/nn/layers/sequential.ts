// Sequential: children named "0", "1", … (torchvision's `features.3.conv.1.0` keys), run in order.
import type { Tensor } from '../../tensor/index.js';
import { Module, type AnyModule } from '../module.js';
import { runChain } from '../eval-fusion.js';
import { registerTransient } from '../transient.js';

export class Sequential<In = Tensor, Out = Tensor> extends Module<In, Out> {
  constructor(...modules: AnyModule[]) {
    super();
    for (const m of modules) this.add(m);
  }

  /** Appends a module under the next index, or registers it under an explicit name. */
  override add<M extends AnyModule>(m: M): M;
  override add<M extends AnyModule>(name: string, m: M): M;
  override add<M extends AnyModule>(a: M | string, b?: M): M {
    return typeof a === 'string' ? this.registerModule(a, b!) : this.registerModule(String(this.length), a);
  }

  get length(): number { return this.namedChildren().length; }

  /** The i-th child; negative i counts from the end. */
  at<M extends AnyModule = AnyModule>(i: number): M {
    const list = this.children();
    const j = i < 0 ? i + list.length : i;
    const m = list[j];
    if (!Number.isInteger(i) || m === undefined) throw new RangeError(`Sequential: index ${i} out of range for ${list.length} modules`);
    return m as M;
  }

  [Symbol.iterator](): Iterator<AnyModule> { return this.children()[Symbol.iterator](); }

  // runChain only adds eval-mode shortcuts for its own layer classes (conv+BN folding, in-place ReLU); any other child just
  // runs. Intermediates between transient children are disposed as soon as consumed (transient.ts).
  forward(x: In): Out {
    return runChain(x as unknown as Tensor, this.children(), 'transient') as unknown as Out;
  }
}

registerTransient({ containers: [Sequential] });
