// Tensor bytes reported to V8 in coarse steps (see external_memory.cc).
#pragma once
#include <napi.h>
#include <cstdint>

namespace catkit {

// Records that handles now own `delta` more (or fewer) bytes of tensor storage.
void AccountTensorBytes(Napi::Env env, int64_t delta);

// { ownedBytes, reportedBytes, reports }: what handles own, what V8 has been told, how often it was told.
Napi::Value ExternalMemoryStats(const Napi::CallbackInfo& info);

}  // namespace catkit
