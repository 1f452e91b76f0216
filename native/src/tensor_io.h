// Tensor creation from JS memory, copies back to JS, metadata and autograd entry points.
#pragma once
#include <napi.h>

namespace catkit {
Napi::Value FromBuffer(const Napi::CallbackInfo& info);    // (ArrayBufferView, shape[], dtype) -> handle (copy)
Napi::Value ToBuffer(const Napi::CallbackInfo& info);      // (handle) -> ArrayBuffer (contiguous copy)
Napi::Value Shape(const Napi::CallbackInfo& info);         // (handle) -> number[]
Napi::Value Strides(const Napi::CallbackInfo& info);       // (handle) -> number[]
Napi::Value DType(const Napi::CallbackInfo& info);         // (handle) -> c10::ScalarType code
Napi::Value Item(const Napi::CallbackInfo& info);          // (handle) -> number
Napi::Value IsContiguous(const Napi::CallbackInfo& info);  // (handle, memoryFormat) -> boolean
Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
Napi::Value Grad(const Napi::CallbackInfo& info);          // (handle) -> handle | null
Napi::Value SetGrad(const Napi::CallbackInfo& info);       // (handle, handle | null)
Napi::Value Backward(const Napi::CallbackInfo& info);      // (handle, gradient | null, retainGraph, createGraph)
Napi::Value SameStorage(const Napi::CallbackInfo& info);   // (a, b) -> boolean
}  // namespace catkit
