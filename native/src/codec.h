// Native bulk path of the ledger's entropy coders (byte-identical to src/codec's TypeScript coders).
#pragma once
#include <napi.h>

namespace catkit {
Napi::Value CodecStats(const Napi::CallbackInfo& info);        // (symbols, zeroRuns) -> Uint32Array counts[range] (+ run-bucket counts[72])
Napi::Value CodecEncode(const Napi::CallbackInfo& info);       // (symbols, jobs, keepBytes) -> [{payload, container, bytes?}]
Napi::Value CodecEncodeAsync(const Napi::CallbackInfo& info);  // (symbols, jobs) -> Promise<[{payload, container}]> (libuv pool)
// (codes tensor handle, wide) -> Uint8Array (wide: Uint16Array) of the integer codes in logical order (codes.cc)
Napi::Value CodesToArray(const Napi::CallbackInfo& info);
}  // namespace catkit
