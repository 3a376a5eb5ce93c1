#pragma once
// Shape manipulation and indexing: reshape, transpose, squeeze, expand_dims, broadcast_to, sum_to, concatenate,
// stack, slice, take; flip, roll, pad, tile, repeat; diagonal, trace, diag, triu, tril; take_along_axis,
// scatter_add and one_hot. Negative axes and indices count from the end, as in numpy. Every rearrangement is a
// gather along an axis (take) whose adjoint is a scatter-add and back, so all of them differentiate to any order.
#include <cstddef>
#include <utility>
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

/// numpy.flip: the elements in reverse order along an axis, or along every axis.
Tensor flip(const Tensor& x);
Tensor flip(const Tensor& x, std::ptrdiff_t axis);
/// numpy.roll: elements shifted by `shift` places along an axis, those pushed off the end coming back at the start;
/// without an axis, along the flattened array (the shape is kept).
Tensor roll(const Tensor& x, std::ptrdiff_t shift);
Tensor roll(const Tensor& x, std::ptrdiff_t shift, std::ptrdiff_t axis);
/// numpy.pad with mode "constant": (before, after) counts per axis, or one pair for every axis. The padding is the
/// constant (its derivative is zero). `pad(x, {{1, 2}, {0, 1}})`.
Tensor pad(const Tensor& x, const std::vector<std::pair<std::size_t, std::size_t>>& pad_width,
           double constant_values = 0.0);
/// numpy.tile: x repeated reps[d] times along axis d. Fewer reps than axes count for the last axes; more reps than
/// axes prepend axes of extent 1 to x.
Tensor tile(const Tensor& x, const std::vector<std::size_t>& reps);
/// numpy.repeat: each element repeated `repeats` times along an axis; without an axis, of the flattened array.
Tensor repeat(const Tensor& x, std::size_t repeats);
Tensor repeat(const Tensor& x, std::size_t repeats, std::ptrdiff_t axis);

/// numpy.diagonal: the diagonal of the (axis1, axis2) planes with an offset (> 0 above the main diagonal), as the
/// last axis of the result.
Tensor diagonal(const Tensor& x, std::ptrdiff_t offset = 0, std::ptrdiff_t axis1 = 0, std::ptrdiff_t axis2 = 1);
/// numpy.trace: the sum of that diagonal.
Tensor trace(const Tensor& x, std::ptrdiff_t offset = 0, std::ptrdiff_t axis1 = 0, std::ptrdiff_t axis2 = 1);
/// numpy.diag: of a 1-D tensor, the square matrix with it on diagonal k (zero elsewhere); of a 2-D tensor, its
/// diagonal k.
Tensor diag(const Tensor& v, std::ptrdiff_t k = 0);
/// numpy.triu / tril: the last two axes with the elements below (triu) or above (tril) diagonal k set to zero.
/// Needs at least 2 axes (numpy also takes 1-D input, as a matrix of repeated rows: use broadcast_to for that).
Tensor triu(const Tensor& x, std::ptrdiff_t k = 0);
Tensor tril(const Tensor& x, std::ptrdiff_t k = 0);

/// numpy.take_along_axis: out[..., j, ...] = x[..., indices[..., j, ...], ...] along `axis`. `indices` holds integers
/// (as argsort and argmax return them) and has x's number of axes and x's extents outside `axis`. Its adjoint is a
/// scatter-add along the axis.
Tensor take_along_axis(const Tensor& x, const Array& indices, std::ptrdiff_t axis);
/// x with `updates` added at `indices` along `axis` (JAX's x.at[indices].add(updates), numpy.add.at): updates has
/// x's shape with len(indices) as the axis's extent; repeated indices add up. Differentiable in x (the identity) and
/// in updates (a gather: take(g, indices, axis)).
Tensor scatter_add(const Tensor& x, const std::vector<std::ptrdiff_t>& indices, const Tensor& updates,
                   std::ptrdiff_t axis = 0);
/// jax.nn.one_hot: labels (integers) of any shape -> labels.shape + (num_classes,), 1 at each label's class and 0
/// elsewhere; a label outside [0, num_classes) gives a row of zeros (as JAX: -1 marks padding). A constant. Throws
/// ValueError for a label that is not an integer (or NaN).
Tensor one_hot(const Array& labels, std::size_t num_classes);

}  // namespace xgrad
