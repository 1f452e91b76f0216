// Module entry: the whole native surface. Everything model- or method-specific lives in TypeScript.
#include <napi.h>
#include "codec.h"
#include "dispatch.h"
#include "distributed.h"
#include "external_memory.h"
#include "handle.h"
#include "runtime.h"
#include "tensor_io.h"
#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {
// glibc serves blocks over its mmap threshold (at most 32 MB) with a fresh mmap and unmaps them on
// free, so every large activation is page-faulted in again on every forward: ~230 000 minor faults
// and ~0.5 s of kernel time per MobileNetV2 or ResNet-50 eval forward at batch 32, 224² (PyTorch
// pays the same). All blocks are therefore taken from the heap (mmap off; glibc still maps memory
// when the heap cannot grow) and freed ones are kept for reuse until more than 1 GiB lies free at
// its top: a training loop or an evaluation reuses the same pages pass after pass. Skipped when the
// user tunes malloc through GLIBC_TUNABLES or sets CATKIT_MALLOC_TUNING=0.
void TuneAllocator() {
#if defined(__GLIBC__)
  const char* off = std::getenv("CATKIT_MALLOC_TUNING");
  if (off != nullptr && std::strcmp(off, "0") == 0) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace catkit;
  TuneAllocator();
  const std::pair<const char*, Napi::Function::Callback> fns[] = {
      {"resolveOp", ResolveOp},         {"callOp", CallOp},
      {"opSchema", OpSchema},           {"dispose", Dispose},
      {"isDisposed", IsDisposed},       {"liveHandles", LiveHandles},
      {"externalMemoryStats", ExternalMemoryStats},
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
