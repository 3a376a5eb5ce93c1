#pragma once
// Sorting along an axis: sort (differentiable: a permutation of the elements, so its adjoint scatters the cotangent
// back to where each element came from), argsort (values) and top_k. Ties keep their order (a stable sort, as
// jnp.sort and jnp.argsort), and NaN sorts after every number, as in numpy.
#include <cstddef>

#include "xgrad/ad/tensor.hpp"

namespace xgrad {

/// numpy.argsort: the indices that sort x along an axis (the last by default), as values (not differentiable).
Array argsort(const Tensor& x, std::ptrdiff_t axis = -1);
/// numpy.sort: x sorted ascending along an axis (the last by default); take_along_axis(x, argsort(x, axis), axis).
Tensor sort(const Tensor& x, std::ptrdiff_t axis = -1);

/// The k largest elements along the last axis, largest first, and their indices (jax.lax.top_k: among equal values
/// the lower index comes first). `auto [values, indices] = top_k(x, 3);`
struct TopK {
  Tensor values;
  Array indices;
};
TopK top_k(const Tensor& x, std::size_t k);

}  // namespace xgrad
