#pragma once
// Shape manipulation and indexing: reshape, transpose, squeeze, expand_dims, broadcast_to, sum_to, concatenate,
// stack, slice and take. Negative axes and indices count from the end, as in numpy.
#include <cstddef>
#include <vector>

#include "xgrad/ad/tensor.hpp"

namespace xgrad {

/// numpy.reshape; one extent may be -1. `reshape(t, {4, 1})`.
Tensor reshape(const Tensor& x, const std::vector<std::ptrdiff_t>& shape);
/// Reverse the axes (the matrix transpose for 2-D), or permute them: `transpose(t, {0, 2, 1})`.
Tensor transpose(const Tensor& x);
Tensor transpose(const Tensor& x, const std::vector<std::size_t>& perm);
/// Drop all size-1 axes, or the given one (which must have size 1).
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::ptrdiff_t axis);
/// Insert a size-1 axis at `axis` (in the result's numbering, as numpy does).
Tensor expand_dims(const Tensor& x, std::ptrdiff_t axis);
/// numpy.broadcast_to; its adjoint is sum_to.
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// Sum x down to `shape`, undoing a broadcast of `shape` to x's shape (the adjoint of broadcast_to).
Tensor sum_to(const Tensor& x, const Shape& shape);
/// Join tensors along an existing axis / a new axis.
Tensor concatenate(const std::vector<Tensor>& xs, std::ptrdiff_t axis = 0);
Tensor stack(const std::vector<Tensor>& xs, std::ptrdiff_t axis = 0);
/// Basic slicing along one axis, Python semantics: x[..., start:stop:step, ...] (out-of-range bounds clamp).
Tensor slice(const Tensor& x, std::ptrdiff_t axis, std::ptrdiff_t start, std::ptrdiff_t stop, std::ptrdiff_t step = 1);
/// Elements at integer indices: of the flattened array (numpy's default), or along an axis.
/// Repeated indices are allowed; the backward pass adds their cotangents (scatter-add).
Tensor take(const Tensor& x, const std::vector<std::ptrdiff_t>& indices);
Tensor take(const Tensor& x, const std::vector<std::ptrdiff_t>& indices, std::ptrdiff_t axis);

}  // namespace xgrad
