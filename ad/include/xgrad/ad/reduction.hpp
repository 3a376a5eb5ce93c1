#pragma once
// Reductions over all axes or given axes (numpy's axis/keepdims): sum, mean, max, min, prod, logsumexp, norm;
// and softmax / log_softmax along an axis.
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

}  // namespace xgrad
