#pragma once
// Internal: the loops that compute op values. One fused pass over contiguous memory; broadcasting falls back to
// materialising the broadcast operands (numpy semantics, with an error that names the op and both shapes).
#include <memory>

#include "xgrad/core/array.hpp"

namespace xgrad::kernels {

// Shape equality as a plain loop: shapes have a few extents, and svector's operator== went through a memcmp call
// that showed at 4 % of the per-op benchmark.
inline bool same_shape(const Array& a, const Array& b) {
  const auto& sa = a.shape();
  const auto& sb = b.shape();
  if (sa.size() != sb.size()) return false;
  for (std::size_t i = 0; i < sa.size(); ++i)
    if (sa[i] != sb[i]) return false;
  return true;
}

template <class F>
Array unary(const Array& a, F f) {
  Array r = Array::from_shape(a.shape());
  const double* x = a.data();
  double* y = r.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) y[i] = f(x[i]);
  return r;
}

// y_i = f(a_i, b_i) for same-shape arrays.
template <class F>
void zip(const Array& a, const Array& b, double* y, F f) {
  const double *x = a.data(), *z = b.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) y[i] = f(x[i], z[i]);
}

template <class F>
Array binary(const char* op, const Array& a, const Array& b, F f) {
  if (same_shape(a, b)) {
    Array r = Array::from_shape(a.shape());
    zip(a, b, r.data(), f);
    return r;
  }
  if (b.dimension() == 0) {
    const double s = b();
    return unary(a, [&](double x) { return f(x, s); });
  }
  if (a.dimension() == 0) {
    const double s = a();
    return unary(b, [&](double z) { return f(s, z); });
  }
  const Shape s = broadcast_shapes(shape_of(a), shape_of(b), op);
  return binary(op, broadcast_array(a, s), broadcast_array(b, s), f);
}

// The same, allocated straight into the shared pointer a Tensor holds (no Array move: each costs ~50 ns).
using Value = std::shared_ptr<const Array>;

inline std::shared_ptr<Array> alloc(const Array::shape_type& s) { return std::make_shared<Array>(s); }

template <class F>
Value map1(const Array& a, F f) {
  auto r = alloc(a.shape());
  const double* x = a.data();
  double* y = r->data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) y[i] = f(x[i]);
  return r;
}

template <class F>
Value map2(const char* op, const Array& a, const Array& b, F f) {
  if (!same_shape(a, b)) return std::make_shared<const Array>(binary(op, a, b, f));  // scalar or broadcast
  auto r = alloc(a.shape());
  zip(a, b, r->data(), f);
  return r;
}

// Three same-shape arrays (the fused first-order rules): out_i = f(a_i, b_i, c_i).
template <class F>
Value map3(const Array& a, const Array& b, const Array& c, F f) {
  auto r = alloc(a.shape());
  const double *x = a.data(), *y = b.data(), *z = c.data();
  double* o = r->data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) o[i] = f(x[i], y[i], z[i]);
  return r;
}


}  // namespace xgrad::kernels
