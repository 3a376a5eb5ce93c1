#pragma once
// A pytree of Tensors as one flat Tensor and back, recorded on the tape (jax.flatten_util.ravel_pytree on traced
// values): tree::ravel's order, so the flat Tensor lines up with tree::ravel's Array. The solvers' flat views, the
// implicit functions and check_grads differentiate through them.
//
//   Tensor z = ravel_tensors(params);              // concatenate of reshapes
//   Params p = unravel_tensors(z * 2.0, params);   // slices and reshapes, shaped like `params`
#include <cstddef>
#include <vector>

#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/tensor.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad {

/// The leaves of a pytree as one flat Tensor, in tree::ravel's order (recorded: a concatenate of reshapes).
template <class X>
Tensor ravel_tensors(const X& x) {
  std::vector<Tensor> parts;
  tree::for_each([&](const auto& leaf) { parts.push_back(reshape(Tensor(leaf), {-1})); }, x);
  if (parts.size() == 1) return parts[0];
  if (parts.empty()) return Tensor(Array::from_shape({0}));
  return concatenate(parts, 0);
}

/// A pytree like `like` whose leaves are the consecutive pieces of flat z (recorded: slices and reshapes).
template <class X>
X unravel_tensors(const Tensor& z, const X& like) {
  std::ptrdiff_t off = 0;
  const std::size_t n = tree::num_leaves(like);
  return tree::map([&](const auto& leaf) {
    const Array& v = tree::leaf_value(leaf);
    const auto size = static_cast<std::ptrdiff_t>(v.size());
    const std::vector<std::ptrdiff_t> shape(v.shape().begin(), v.shape().end());
    Tensor piece = n == 1 ? z : slice(z, 0, off, off + size);
    off += size;
    return reshape(piece, shape);
  }, like);
}

}  // namespace xgrad
