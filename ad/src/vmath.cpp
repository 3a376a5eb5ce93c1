#include "vmath.hpp"

#include <cmath>
#include <cstdlib>
#include <string_view>

#if XGRAD_HAVE_LIBMVEC
#include <emmintrin.h>

extern "C" {
__m128d _ZGVbN2v_exp(__m128d);   // glibc libmvec: exp on 2 doubles, SSE2 ABI (any x86-64)
__m128d _ZGVbN2v_tanh(__m128d);  // tanh likewise (glibc >= 2.35)
}
#endif

namespace xgrad::vmath {

namespace {

enum class Path { scalar, sse2, avx2, avx512 };  // scalar first: `path` reads as scalar before it is initialised

// The widest path the build and the CPU allow, unless XGRAD_VMATH says "scalar" (libm's results, bit for bit),
// "sse2" or "avx2"; other values are ignored.
Path choose() {
  const char* env = std::getenv("XGRAD_VMATH");
  const std::string_view want = env ? env : "";
  if (want == "scalar") return Path::scalar;
#if XGRAD_HAVE_LIBMVEC
  __builtin_cpu_init();  // this runs in a static initialiser, possibly before libgcc's own
  if (want == "sse2" || !__builtin_cpu_supports("avx2")) return Path::sse2;
  if (want == "avx2" || !__builtin_cpu_supports("avx512f")) return Path::avx2;
  return Path::avx512;
#else
  return Path::scalar;
#endif
}
const Path path = choose();

template <class S>
void scalar(const double* x, double* y, std::size_t n, S s) {
  for (std::size_t i = 0; i < n; ++i) y[i] = s(x[i]);
}

#if XGRAD_HAVE_LIBMVEC
template <class V, class S>
void lanes(const double* x, double* y, std::size_t n, V v, S s) {
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(y + i, v(_mm_loadu_pd(x + i)));
  scalar(x + i, y + i, n - i, s);
}
#endif

}  // namespace

void exp(const double* x, double* y, std::size_t n) {
  auto s = [](double a) { return std::exp(a); };
#if XGRAD_HAVE_LIBMVEC
  if (path == Path::avx512) return exp_avx512(x, y, n);
  if (path == Path::avx2) return exp_avx2(x, y, n);
  if (path == Path::sse2) return lanes(x, y, n, _ZGVbN2v_exp, s);
#endif
  scalar(x, y, n, s);
}

void tanh(const double* x, double* y, std::size_t n) {
  auto s = [](double a) { return std::tanh(a); };
#if XGRAD_HAVE_LIBMVEC
  if (path == Path::avx512) return tanh_avx512(x, y, n);
  if (path == Path::avx2) return tanh_avx2(x, y, n);
  if (path == Path::sse2) return lanes(x, y, n, _ZGVbN2v_tanh, s);
#endif
  scalar(x, y, n, s);
}

}  // namespace xgrad::vmath
