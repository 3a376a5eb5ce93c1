// BLAS-1 on flat arrays (core/flat.hpp).
#include "xgrad/core/flat.hpp"

#include <cmath>

namespace xgrad::flat {

// Four independent partial sums: the compiler may not reorder a floating-point reduction, so one accumulator would
// serialise on the add latency (the L-BFGS two-loop recursion is dot-bound).
double dot(const double* a, const double* b, std::size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

double dot(const Array& a, const Array& b) { return dot(a.data(), b.data(), a.size()); }

double norm2(const Array& a) { return std::sqrt(dot(a, a)); }

Array axpy(const Array& x, double t, const Array& d) {
  Array out = Array::from_shape({x.size()});
  const double* px = x.data();
  const double* pd = d.data();
  double* po = out.data();
  for (std::size_t i = 0, n = x.size(); i < n; ++i) po[i] = px[i] + t * pd[i];
  return out;
}

Array sub(const Array& a, const Array& b) { return axpy(a, -1.0, b); }

Array negative(const Array& a) {
  Array out = Array::from_shape({a.size()});
  const double* pa = a.data();
  double* po = out.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) po[i] = -pa[i];
  return out;
}

bool all_finite(const Array& a) {
  const double* p = a.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

}  // namespace xgrad::flat
