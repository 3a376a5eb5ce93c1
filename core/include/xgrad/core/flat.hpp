#pragma once
// The flat view: a pytree seen as one contiguous 1-D Array holding all its leaves in tree order, and the BLAS-1
// operations on such arrays.
//
//   auto [x, unravel] = tree::ravel(params);       // the flat view and the way back (core/tree.hpp)
//   const Array g = flat::values(grads);           // the same order, without building an unravel function
//   const double slope = flat::dot(g, d);          // inner products and norms are global over all leaves
//   const Array xn = flat::axpy(x, t, d);          // x + t d
//
// Solvers, line searches, linear solvers and implicit nodes all work on this view, so every inner product, norm and
// curvature pair is global across the leaves of a pytree (jaxopt computed them per leaf: #468). Ravel/unravel itself
// is tree::ravel (like jax.flatten_util.ravel_pytree); its traced, differentiable counterpart is in ad.
//
// The operations take and return 1-D Arrays of the same size (the caller checks sizes) and, like BLAS, never
// allocate except for the array they return. Their results do not depend on the compiler's inlining: they are
// compiled once, in core/src/flat.cpp.
#include <cstddef>

#include "xgrad/core/array.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::flat {

/// sum_i a[i] b[i] over n values (BLAS ddot), summed in four interleaved partial sums (fixed order: the result does
/// not depend on where it is called from).
double dot(const double* a, const double* b, std::size_t n);
/// <a, b> over all elements (numpy.dot of two 1-D arrays; a and b have the same size).
double dot(const Array& a, const Array& b);
/// ||a||_2 = sqrt(<a, a>) (BLAS dnrm2, without its scaling against overflow).
double norm2(const Array& a);
/// x + t d, as a new 1-D array (BLAS daxpy, out of place).
Array axpy(const Array& x, double t, const Array& d);
/// a - b, as a new 1-D array (= axpy(a, -1, b)).
Array sub(const Array& a, const Array& b);
/// -a, as a new 1-D array (numpy.negative).
Array negative(const Array& a);
/// True when every element of a is finite (numpy.isfinite(a).all()).
bool all_finite(const Array& a);

/// True when every element of every leaf of a pytree is finite: all_finite of its flat view, without building it.
template <class T>
bool all_finite(const T& t) {
  bool ok = true;
  tree::for_each([&](const auto& leaf) { ok = ok && all_finite(tree::leaf_value(leaf)); }, t);
  return ok;
}

/// The flat view of a pytree's values: tree::ravel(t).first (all leaves in tree order, one 1-D Array), without
/// building the unravel function.
template <class T>
Array values(const T& t) {
  std::size_t total = 0;
  tree::for_each([&](const auto& leaf) { total += tree::leaf_value(leaf).size(); }, t);
  Array out = Array::from_shape({total});
  double* p = out.data();
  tree::for_each([&](const auto& leaf) {
    const Array& v = tree::leaf_value(leaf);
    for (double e : v) *p++ = e;
  }, t);
  return out;
}

}  // namespace xgrad::flat
