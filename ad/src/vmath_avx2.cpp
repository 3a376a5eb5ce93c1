// Compiled with -mavx2 (ad/sources.cmake): the 4-lane libmvec calls take and return ymm registers.
#include <immintrin.h>

#include <cmath>

#include "vmath.hpp"

extern "C" {
__m256d _ZGVdN4v_exp(__m256d);   // glibc libmvec: exp on 4 doubles, AVX2 ABI
__m256d _ZGVdN4v_tanh(__m256d);  // tanh likewise (glibc >= 2.35)
}

namespace xgrad::vmath {

namespace {
template <class V, class S>
void lanes(const double* x, double* y, std::size_t n, V v, S s) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, v(_mm256_loadu_pd(x + i)));
  for (; i < n; ++i) y[i] = s(x[i]);
}
}  // namespace

void exp_avx2(const double* x, double* y, std::size_t n) {
  lanes(x, y, n, _ZGVdN4v_exp, [](double a) { return std::exp(a); });
}
void tanh_avx2(const double* x, double* y, std::size_t n) {
  lanes(x, y, n, _ZGVdN4v_tanh, [](double a) { return std::tanh(a); });
}

}  // namespace xgrad::vmath
