#include "vmath.hpp"

#include <cmath>

#if XGRAD_HAVE_LIBMVEC
#include <emmintrin.h>

extern "C" {
__m128d _ZGVbN2v_exp(__m128d);   // glibc libmvec: exp on 2 doubles, SSE2 ABI (any x86-64)
__m128d _ZGVbN2v_tanh(__m128d);  // tanh likewise (glibc >= 2.35)
}
#endif

namespace xgrad::vmath {

namespace {
#if XGRAD_HAVE_LIBMVEC
const bool has_avx2 = __builtin_cpu_supports("avx2");

template <class V, class S>
void lanes(const double* x, double* y, std::size_t n, V v, S s) {
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(y + i, v(_mm_loadu_pd(x + i)));
  for (; i < n; ++i) y[i] = s(x[i]);
}
#endif
}  // namespace

void exp(const double* x, double* y, std::size_t n) {
#if XGRAD_HAVE_LIBMVEC
  if (has_avx2) return exp_avx2(x, y, n);
  return lanes(x, y, n, _ZGVbN2v_exp, [](double a) { return std::exp(a); });
#else
  for (std::size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
#endif
}

void tanh(const double* x, double* y, std::size_t n) {
#if XGRAD_HAVE_LIBMVEC
  if (has_avx2) return tanh_avx2(x, y, n);
  return lanes(x, y, n, _ZGVbN2v_tanh, [](double a) { return std::tanh(a); });
#else
  for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
#endif
}

}  // namespace xgrad::vmath
