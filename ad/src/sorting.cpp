#include "xgrad/ad/sorting.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

namespace {

// The permutation that sorts each line of x along `axis` (stable; NaN last), or the first k of the descending one.
Array sorting_indices(const Tensor& x, std::size_t axis, bool descending, std::size_t k) {
  const Shape s = x.shape();
  const auto l = kernels::lines_along(s, axis);
  const std::size_t n = l.n, inner = l.inner;
  Shape rs = s;
  rs[axis] = k;
  Array out = Array::from_shape(rs);
  const double* v = x.value().data();
  std::vector<std::size_t> perm(n);
  for (std::size_t a = 0; a < l.outer; ++a)
    for (std::size_t b = 0; b < inner; ++b) {
      auto at = [&](std::size_t i) { return v[l.at(a, i, b)]; };
      // Ascending: numbers in order, then NaN. Descending: NaN first (it is "largest" in numpy's order), then
      // numbers from the largest; equal keys keep index order either way.
      auto before = [&](std::size_t i, std::size_t j) {
        const double p = at(i), q = at(j);
        if (std::isnan(p) || std::isnan(q)) return descending ? std::isnan(p) && !std::isnan(q) : !std::isnan(p) && std::isnan(q);
        return descending ? p > q : p < q;
      };
      std::iota(perm.begin(), perm.end(), std::size_t{0});
      std::stable_sort(perm.begin(), perm.end(), before);
      for (std::size_t j = 0; j < k; ++j) out.data()[(a * k + j) * inner + b] = static_cast<double>(perm[j]);
    }
  return out;
}

}  // namespace

Array argsort(const Tensor& x, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::argsort: a zero-dimensional tensor has no axis to sort");
  const std::size_t a = normalize_axis(axis, x.ndim(), "argsort");
  return sorting_indices(x, a, false, x.shape()[a]);
}

Tensor sort(const Tensor& x, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::sort: a zero-dimensional tensor has no axis to sort");
  return take_along_axis(x, argsort(x, axis), axis);
}

TopK top_k(const Tensor& x, std::size_t k) {
  if (x.ndim() == 0) throw ShapeError("xgrad::top_k: a zero-dimensional tensor has no last axis");
  const std::size_t a = x.ndim() - 1;
  if (k > x.shape()[a])
    throw ValueError("xgrad::top_k: k = " + std::to_string(k) + " is more than the last axis of shape " +
                     shape_str(x.shape()) + " holds");
  Array idx = sorting_indices(x, a, true, k);
  Tensor values = take_along_axis(x, idx, -1);
  return {std::move(values), std::move(idx)};
}

}  // namespace xgrad
