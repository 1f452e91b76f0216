// V8 is told about tensor memory so that its GC collects (and the leak guard's finalizers dispose)
// tensors a program dropped without dispose() under native memory pressure. Telling it about every
// tensor re-armed V8's trigger — a full mark-compact once the reported total is 64 MB above its level
// at the last GC — over and over within one forward pass, which allocates and frees gigabytes of
// activations at a nearly flat live total: about 17 GCs per MobileNetV2 eval forward at batch 32,
// each a main-thread pause plus concurrent-marking threads competing with libtorch's for the cores.
// Reports are therefore made in steps of kStep: the figure V8 holds moves only once the bytes the
// handles own have drifted kStep from it, so an allocation freed again within a pass costs nothing,
// while a leak still reaches V8 (late by at most kStep).
#include "external_memory.h"

namespace catkit {
namespace {

constexpr int64_t kStep = int64_t{512} << 20;  // 512 MiB
int64_t gOwned = 0;     // bytes the live handles own (uniquely owned storages)
int64_t gReported = 0;  // bytes V8 has been told about
double gReports = 0;

}  // namespace

void AccountTensorBytes(Napi::Env env, int64_t delta) {
  gOwned += delta;
  const int64_t drift = gOwned - gReported;
  if (drift >= kStep || drift <= -kStep) {
    Napi::MemoryManagement::AdjustExternalMemory(env, drift);
    gReported = gOwned;
    ++gReports;
  }
}

Napi::Value ExternalMemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ownedBytes", Napi::Number::New(env, static_cast<double>(gOwned)));
  o.Set("reportedBytes", Napi::Number::New(env, static_cast<double>(gReported)));
  o.Set("reports", Napi::Number::New(env, gReports));
  return o;
}

}  // namespace catkit
