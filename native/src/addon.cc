// Module entry: the whole native surface. Everything model- or method-specific lives in TypeScript.
#include <napi.h>
#include "dispatch.h"
#include "handle.h"
#include "runtime.h"
#include "tensor_io.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace catkit;
  const std::pair<const char*, Napi::Function::Callback> fns[] = {
      {"resolveOp", ResolveOp},         {"callOp", CallOp},
      {"opSchema", OpSchema},           {"dispose", Dispose},
      {"isDisposed", IsDisposed},       {"liveHandles", LiveHandles},
      {"fromBuffer", FromBuffer},       {"toBuffer", ToBuffer},
      {"shape", Shape},                 {"strides", Strides},
      {"dtype", DType},                 {"item", Item},
      {"isContiguous", IsContiguous},   {"requiresGrad", RequiresGrad},
      {"setRequiresGrad", SetRequiresGrad}, {"grad", Grad},
      {"setGrad", SetGrad},             {"backward", Backward},
      {"sameStorage", SameStorage},     {"setNumThreads", SetNumThreads},
      {"getNumThreads", GetNumThreads}, {"manualSeed", ManualSeed},
      {"setGradEnabled", SetGradEnabled}, {"isGradEnabled", IsGradEnabled},
      {"version", Version},
  };
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}
}  // namespace

NODE_API_MODULE(catkit_native, Init)
