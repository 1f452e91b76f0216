// Process-wide engine settings: threads, seeding, grad mode, version.
#pragma once
#include <napi.h>

namespace catkit {
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);
Napi::Value ManualSeed(const Napi::CallbackInfo& info);
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info);  // (enabled) -> previous
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info);
Napi::Value Version(const Napi::CallbackInfo& info);
}  // namespace catkit
