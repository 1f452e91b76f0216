// Module entry: the whole native surface. Everything model- or method-specific lives in TypeScript.
#include <napi.h>
#include "codec.h"
#include "dispatch.h"
#include "distributed.h"
#include "handle.h"
#include "runtime.h"
#include "tensor_io.h"
#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {
// glibc's dynamic mmap/trim thresholds make a training loop return its activation memory to the
// kernel when a step's tidy frees it, and page-fault it back in on the next step (ResNet-20 at batch
// 64: ~35k minor faults and ~10% of the step's CPU time). Fixed thresholds keep freed blocks up to
// 32 MB (glibc's own ceiling for the dynamic threshold) in the heap. Skipped when the user tunes
// malloc through GLIBC_TUNABLES or sets CATKIT_MALLOC_TUNING=0.
void TuneAllocator() {
#if defined(__GLIBC__)
  const char* off = std::getenv("CATKIT_MALLOC_TUNING");
  if (off != nullptr && std::strcmp(off, "0") == 0) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace catkit;
  TuneAllocator();
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
      {"distAvailable", DistAvailable}, {"distInit", DistInit},
      {"distDestroy", DistDestroy},     {"distBroadcast", DistBroadcast},
      {"distAllreduce", DistAllreduce}, {"distBarrier", DistBarrier},
      {"gradSyncCreate", GradSyncCreate}, {"gradSyncPrepare", GradSyncPrepare},
      {"gradSyncFinish", GradSyncFinish}, {"gradSyncDispose", GradSyncDispose},
      {"codecStats", CodecStats},       {"codecEncode", CodecEncode},
      {"codecEncodeAsync", CodecEncodeAsync}, {"codesToArray", CodesToArray},
  };
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}
}  // namespace

NODE_API_MODULE(catkit_native, Init)
