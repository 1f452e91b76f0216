// Conversion between JS values and c10::IValue, driven by an operator schema's argument types,
// so one generic entry point can call any ATen operator.
#pragma once
#include <napi.h>
#include <ATen/core/ivalue.h>
#include <ATen/core/jit_type.h>
#include <string>

namespace catkit {

// Converts `value` to an IValue of schema type `type`. `where` names the op and argument for errors.
c10::IValue ToIValue(const Napi::Value& value, const c10::TypePtr& type, const std::string& where);
// Converts an operator result to JS: tensors become handles, tuples/lists become arrays.
Napi::Value FromIValue(Napi::Env env, const c10::IValue& value);

}  // namespace catkit
