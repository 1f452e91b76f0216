// Named dispatcher operators (ATen's, and the addon's own catkit:: ones), resolved lazily to ids on first use.
import { native, type OpArg, type OpResult } from './native.js';

export class AtenOp {
  private id = -1;
  constructor(readonly name: string, readonly overload = '', readonly namespace = 'aten') {}
  call(args: OpArg[]): OpResult {
    if (this.id < 0) this.id = native.resolveOp(`${this.namespace}::${this.name}`, this.overload);
    return native.callOp(this.id, args);
  }
  get schema(): string {
    if (this.id < 0) this.id = native.resolveOp(`${this.namespace}::${this.name}`, this.overload);
    return native.opSchema(this.id);
  }
}

const cache = new Map<string, AtenOp>();
/** `aten('add', 'Tensor')` → the operator `aten::add.Tensor`. */
export function aten(name: string, overload = ''): AtenOp {
  const key = `${name}.${overload}`;
  let op = cache.get(key);
  if (!op) cache.set(key, (op = new AtenOp(name, overload)));
  return op;
}

/** `catkitOp('cat_site')` → the addon's own operator `catkit::cat_site` (native/src/cat_site.cc). */
export function catkitOp(name: string): AtenOp {
  const key = `catkit::${name}`;
  let op = cache.get(key);
  if (!op) cache.set(key, (op = new AtenOp(name, '', 'catkit')));
  return op;
}
