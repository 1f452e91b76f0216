// Data-parallel collectives over libtorch's c10d with the Gloo backend (TCP). One process group
// per process (like torch.distributed's default group). Rendezvous runs on a background thread;
// collectives are issued on the main thread in program order (the order must be identical on
// every rank) and complete through Promises. Gradient synchronisation launches bucketed
// allreduces from autograd hooks while backward still runs.
#pragma once
#include <napi.h>

namespace catkit {
Napi::Value DistAvailable(const Napi::CallbackInfo& info);    // () -> boolean (built with c10d/Gloo)
Napi::Value DistInit(const Napi::CallbackInfo& info);         // (options) -> Promise<void>
Napi::Value DistDestroy(const Napi::CallbackInfo& info);      // () -> void
Napi::Value DistBroadcast(const Napi::CallbackInfo& info);    // (handles[], root) -> Promise<void>
Napi::Value DistAllreduce(const Napi::CallbackInfo& info);    // (handles[], op) -> Promise<void>
Napi::Value DistBarrier(const Napi::CallbackInfo& info);      // () -> Promise<void>
Napi::Value GradSyncCreate(const Napi::CallbackInfo& info);   // (handles[], bucketBytes, firstBucketBytes, overlap) -> id
Napi::Value GradSyncPrepare(const Napi::CallbackInfo& info);  // (id) -> void: arm the hooks for one backward
Napi::Value GradSyncFinish(const Napi::CallbackInfo& info);   // (id) -> stats: waits, averages, writes .grad
Napi::Value GradSyncDispose(const Napi::CallbackInfo& info);  // (id) -> void
}  // namespace catkit
