#pragma once
// Internal: the tape's access to a Tensor's trace fields. Not part of the public API.
#include "xgrad/ad/tensor.hpp"

namespace xgrad::ad {
struct Access {
  static std::uint64_t mask(const Tensor& t) { return t.mask_; }
  static std::uint64_t serial(const Tensor& t) { return t.serial_; }
  static std::uint64_t node(const Tensor& t) { return t.node_; }
  static Tensor null() { return Tensor(Tensor::Null{}); }
  static bool is_null(const Tensor& t) { return !t.value_; }
  static void set(Tensor& t, std::uint64_t mask, std::uint64_t serial, std::uint64_t node) {
    t.mask_ = mask;
    t.serial_ = serial;
    t.node_ = node;
  }
};
bool tensor_is_traced(const Tensor& t);
}  // namespace xgrad::ad
