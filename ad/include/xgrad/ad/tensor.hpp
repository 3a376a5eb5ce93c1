#pragma once
// Tensor: an immutable, cheap-to-copy handle to an array value and to its identity on the tapes that trace it.
//
//   Tensor x(Array{1.0, 2.0, 3.0});   Tensor s(2.0);   x.value();   xgrad::sum(x).item();
//
// Copying a Tensor copies a pointer; values are never modified in place. Outside of any transform a Tensor is just
// a value; inside `grad`, `vjp`, ... the operations on it are recorded on the thread's tape (xgrad/ad/tape.hpp).
#include <cstdint>
#include <memory>
#include <ostream>

#include "xgrad/core/array.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad {

namespace ad {
struct Node;
class Grads;
struct Access;
}  // namespace ad

class Tensor {
 public:
  /// A 0-d zero (no allocation: all default Tensors share one value).
  Tensor();
  /// A 0-d tensor; implicit so that `2.0 * t` and `f(x, 1.0)` read naturally.
  Tensor(double v);  // NOLINT(google-explicit-constructor)
  /// Wraps an array (implicit: an Array is a constant Tensor).
  Tensor(Array v);  // NOLINT(google-explicit-constructor)
  /// Shares `v` (zero-copy). It must own a non-const Array: a backward pass may overwrite an array that only it
  /// references (xgrad/ad/value_cache.hpp).
  Tensor(std::shared_ptr<const Array> v);  // NOLINT(google-explicit-constructor)

  /// The value. Valid as long as the Tensor exists, whatever happens to the tape.
  const Array& value() const { return *value_; }
  /// The single element of a size-1 tensor; throws MisuseError otherwise.
  double item() const;
  Shape shape() const { return Shape(value_->shape().begin(), value_->shape().end()); }
  std::size_t ndim() const { return value_->dimension(); }
  std::size_t size() const { return value_->size(); }
  /// True while an active transform traces this tensor (its derivatives are being recorded).
  bool is_traced() const;

  /// The shared value (for zero-copy interop).
  const std::shared_ptr<const Array>& shared_value() const { return value_; }

  friend std::ostream& operator<<(std::ostream& os, const Tensor& t);

 private:
  friend struct ad::Access;
  struct Null {};
  explicit Tensor(Null) {}  // no value: the arena's unused input slots
  std::shared_ptr<const Array> value_;
  std::uint64_t mask_ = 0;    // bits of the transform levels that trace this value
  std::uint64_t serial_ = 0;  // identity of its node on the tape (detects a node that has been freed)
  std::uint64_t node_ = 0;    // index of its node on the thread's tape (never reused while the tape is non-empty)
};

/// The value, with no derivative: jax.lax.stop_gradient.
Tensor stop_gradient(const Tensor& x);

}  // namespace xgrad

namespace xgrad::tree {
/// Tensor is a pytree leaf; an Array leaf converted to a Tensor becomes a constant.
template <>
struct leaf_traits<Tensor> {
  static constexpr bool is_leaf = true;
  static const Array& to_array(const Tensor& t) { return t.value(); }
  static Tensor from_array(Array a) { return Tensor(std::move(a)); }
};
}  // namespace xgrad::tree
