// Generic operator calls through libtorch's dispatcher (autograd included): the TypeScript
// layer resolves an op once by schema name to an integer id, then calls it with positional args.
#pragma once
#include <napi.h>

namespace catkit {
Napi::Value ResolveOp(const Napi::CallbackInfo& info);  // (name, overload) -> id
Napi::Value CallOp(const Napi::CallbackInfo& info);     // (id, args[]) -> result
Napi::Value OpSchema(const Napi::CallbackInfo& info);   // (id) -> schema string, for messages and docs
}  // namespace catkit
