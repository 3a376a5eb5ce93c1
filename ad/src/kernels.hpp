#pragma once
// Internal: the loops that compute op values. One fused pass over contiguous memory. Broadcasting (numpy semantics,
// with an error that names the op and both shapes) loops directly when one operand is a scalar or a suffix of the
// other's shape, and materialises the broadcast operands otherwise.
#include <memory>

#include "value_cache.hpp"
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

// A shape seen as lines along `axis`: (outer, n, inner), element k of line (a, b) at index (a n + k) inner + b.
struct Lines {
  std::size_t outer = 1, n = 1, inner = 1;
  std::size_t at(std::size_t a, std::size_t k, std::size_t b) const { return (a * n + k) * inner + b; }
};
inline Lines lines_along(const Shape& s, std::size_t axis) {
  Lines l;
  l.n = s[axis];
  for (std::size_t d = axis + 1; d < s.size(); ++d) l.inner *= s[d];
  for (std::size_t d = 0; d < axis; ++d) l.outer *= s[d];
  return l;
}
// The shape with `axis` removed (a reduction's result).
inline Shape without_axis(const Shape& s, std::size_t axis) {
  Shape r;
  for (std::size_t d = 0; d < s.size(); ++d)
    if (d != axis) r.push_back(s[d]);
  return r;
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

// Broadcasting without materialising the common cases: `small`'s shape is a suffix of `big`'s (a bias over a
// batch) or a single element; y_i = f(big_i, small_(i mod n)), or with the operands swapped when `swap`.
template <class F>
void zip_suffix(const Array& big, const Array& small, double* y, bool swap, F f) {
  const double *x = big.data(), *z = small.data();
  const std::size_t n = small.size(), rows = n ? big.size() / n : 0;
  for (std::size_t r = 0; r < rows; ++r, x += n, y += n)
    for (std::size_t j = 0; j < n; ++j) y[j] = swap ? f(z[j], x[j]) : f(x[j], z[j]);
}

// Whether `small`'s shape, without its leading 1s (keepdims), is a suffix of `s`: its data then repeats along s.
inline bool is_suffix(const Array& small, const Shape& s) {
  const auto& ss = small.shape();
  std::size_t lead = 0;
  while (lead < ss.size() && ss[lead] == 1) ++lead;
  const std::size_t core = ss.size() - lead;
  if (core > s.size()) return false;
  for (std::size_t i = 0; i < core; ++i)
    if (ss[lead + i] != s[s.size() - core + i]) return false;
  return true;
}

// y = f(a, b) broadcast to `s` (already checked to be their broadcast shape), into y's s-shaped buffer.
template <class F>
void broadcast_zip(const Array& a, const Array& b, const Shape& s, double* y, F f) {
  const bool a_full = a.size() == shape_size(s) && a.dimension() == s.size();
  const bool b_full = b.size() == shape_size(s) && b.dimension() == s.size();
  if (a_full && b_full) return zip(a, b, y, f);
  if (a_full && is_suffix(b, s)) return zip_suffix(a, b, y, false, f);  // a single element is a suffix too
  if (b_full && is_suffix(a, s)) return zip_suffix(b, a, y, true, f);
  const Array ab = a_full ? Array() : broadcast_array(a, s), bb = b_full ? Array() : broadcast_array(b, s);
  zip(a_full ? a : ab, b_full ? b : bb, y, f);
}

template <class F>
Array binary(const char* op, const Array& a, const Array& b, F f) {
  if (same_shape(a, b)) {
    Array r = Array::from_shape(a.shape());
    zip(a, b, r.data(), f);
    return r;
  }
  const Shape s = broadcast_shapes(shape_of(a), shape_of(b), op);
  Array r = Array::from_shape(s);
  broadcast_zip(a, b, s, r.data(), f);
  return r;
}

// The same, allocated from the value cache straight into the shared pointer a Tensor holds.
using Value = std::shared_ptr<const Array>;

// From the value cache (value_cache.hpp): a recycled array when one of that size is free.
inline std::shared_ptr<Array> alloc(const Array::shape_type& s) { return ad::cache::take(s); }

template <class F>
Value map1(const Array& a, F f) {
  auto r = alloc(a.shape());
  const double* x = a.data();
  double* y = r->data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) y[i] = f(x[i]);
  return r;
}

// y = f(x) by a function that takes the whole array (the vectorised exp and tanh of vmath.hpp).
inline Value map_all(const Array& a, void (*f)(const double*, double*, std::size_t)) {
  auto r = alloc(a.shape());
  f(a.data(), r->data(), a.size());
  return r;
}

template <class F>
Value map2(const char* op, const Array& a, const Array& b, F f) {
  if (same_shape(a, b)) {
    auto r = alloc(a.shape());
    zip(a, b, r->data(), f);
    return r;
  }
  const Shape s = broadcast_shapes(shape_of(a), shape_of(b), op);
  auto r = alloc(Array::shape_type(s.begin(), s.end()));
  broadcast_zip(a, b, s, r->data(), f);
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
