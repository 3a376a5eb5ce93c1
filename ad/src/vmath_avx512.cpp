// Compiled with -mavx512f (ad/sources.cmake): the 8-lane libmvec calls take and return zmm registers.
#include <immintrin.h>

#include <cmath>

#include "vmath.hpp"

extern "C" {
__m512d _ZGVeN8v_exp(__m512d);   // glibc libmvec: exp on 8 doubles, AVX-512 ABI
__m512d _ZGVeN8v_tanh(__m512d);  // tanh likewise (glibc >= 2.35)
}

namespace xgrad::vmath {

namespace {
template <class V, class S>
void lanes(const double* x, double* y, std::size_t n, V v, S s) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm512_storeu_pd(y + i, v(_mm512_loadu_pd(x + i)));
  for (; i < n; ++i) y[i] = s(x[i]);
}
}  // namespace

void exp_avx512(const double* x, double* y, std::size_t n) {
  lanes(x, y, n, _ZGVeN8v_exp, [](double a) { return std::exp(a); });
}
void tanh_avx512(const double* x, double* y, std::size_t n) {
  lanes(x, y, n, _ZGVeN8v_tanh, [](double a) { return std::tanh(a); });
}

}  // namespace xgrad::vmath
