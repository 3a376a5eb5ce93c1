#pragma once
// Reductions over all axes or given axes (numpy's axis/keepdims): sum, mean, max, min, prod, logsumexp, norm, var,
// stddev; softmax / log_softmax, cumsum and cumprod along an axis; argmax / argmin, any / all (values).
#include <cstddef>
#include <vector>

#include "xgrad/ad/tensor.hpp"

namespace xgrad {

using Axes = std::vector<std::ptrdiff_t>;

Tensor sum(const Tensor& x);
/// `sum(t, {1})`, `sum(t, {0, 2}, true)`.
Tensor sum(const Tensor& x, const Axes& axes, bool keepdims = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const Axes& axes, bool keepdims = false);
/// Largest/smallest element; tied maxima share the cotangent equally. Empty reductions throw ValueError.
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, const Axes& axes, bool keepdims = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, const Axes& axes, bool keepdims = false);
/// Product; first and second derivatives are exact with zeros present (products of the other elements).
Tensor prod(const Tensor& x);
Tensor prod(const Tensor& x, const Axes& axes, bool keepdims = false);
/// log(sum(exp(x))) without overflow.
Tensor logsumexp(const Tensor& x);
Tensor logsumexp(const Tensor& x, std::ptrdiff_t axis, bool keepdims = false);
Tensor softmax(const Tensor& x, std::ptrdiff_t axis = -1);
Tensor log_softmax(const Tensor& x, std::ptrdiff_t axis = -1);
/// Euclidean (Frobenius) norm over all elements or over axes; its derivative at 0 is taken as 0.
Tensor norm(const Tensor& x);
Tensor norm(const Tensor& x, const Axes& axes, bool keepdims = false);
/// Variance and standard deviation (numpy.var, numpy.std; the latter named stddev, as xtensor, since a function
/// `std` would make `std::` ambiguous after `using namespace xgrad`) over all elements or over axes, with numpy's ddof
/// (divisor count - ddof, which must be positive); stddev's derivative is infinite where the variance is 0 (as JAX).
Tensor var(const Tensor& x);
Tensor var(const Tensor& x, const Axes& axes, double ddof = 0.0, bool keepdims = false);
Tensor stddev(const Tensor& x);
Tensor stddev(const Tensor& x, const Axes& axes, double ddof = 0.0, bool keepdims = false);
/// Cumulative sum along an axis (numpy.cumsum); without an axis, over the flattened array.
Tensor cumsum(const Tensor& x);
Tensor cumsum(const Tensor& x, std::ptrdiff_t axis);
/// Cumulative product (numpy.cumprod). Computed as a scan of log2(n) shifted products (as JAX's associative scan),
/// so it differentiates to any order and is exact where x has zeros; the products are grouped differently from
/// numpy's left-to-right loop (they agree to rounding).
Tensor cumprod(const Tensor& x);
Tensor cumprod(const Tensor& x, std::ptrdiff_t axis);
/// Whether any / every element is nonzero (numpy.any, numpy.all; NaN counts as nonzero), over the flattened array
/// or along an axis, as values 1.0 and 0.0 (not differentiable). The empty any is 0, the empty all is 1.
Array any(const Tensor& x);
Array any(const Tensor& x, std::ptrdiff_t axis);
Array all(const Tensor& x);
Array all(const Tensor& x, std::ptrdiff_t axis);
/// Indices of the largest / smallest element (numpy.argmax, argmin: the first one on ties, the first NaN if any),
/// over the flattened array or along an axis, as values (not differentiable). ValueError on an empty array.
Array argmax(const Tensor& x);
Array argmax(const Tensor& x, std::ptrdiff_t axis);
Array argmin(const Tensor& x);
Array argmin(const Tensor& x, std::ptrdiff_t axis);

}  // namespace xgrad
