#pragma once
// Helpers shared by the benchmark binaries (not a benchmark itself: only bench_*.cpp files become executables).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>

#include <benchmark/benchmark.h>
#if XGRAD_HAVE_LIBMVEC
#include <immintrin.h>
#endif

#include "xgrad/core/array.hpp"

namespace bench {

/// Deterministic uniform values in [lo, hi) of the given shape.
inline xgrad::Array uniform(const xgrad::Shape& shape, double lo, double hi, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  xgrad::Array a = xgrad::Array::from_shape(shape);
  for (double& v : a) v = dist(gen);
  return a;
}

/// Largest |x[i] - y[i]| / max(1, |y[i]|) over n elements: a mixed absolute/relative error.
inline double max_err(const double* x, const double* y, std::size_t n) {
  double e = 0.0;
  for (std::size_t i = 0; i < n; ++i) e = std::max(e, std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i])));
  return e;
}

/// A per-operation time counter: with `ops` operations per iteration, the iteration time divided by `ops`, in
/// seconds (an inverted iteration-invariant rate; the console prints it with an SI prefix, e.g. "250.1ns").
inline benchmark::Counter time_per_op(double ops) {
  return benchmark::Counter(ops, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// Checks a gradient against a reference once; on a mismatch skips the benchmark with a message and returns false.
inline bool agree(benchmark::State& state, const char* what, const double* got, const double* want, std::size_t n,
                  double tol = 1e-10) {
  const double e = max_err(got, want, n);
  if (e <= tol) return true;
  state.SkipWithError((std::string(what) + ": xgrad and the hand-written gradient differ by " + std::to_string(e) +
                       " (tolerance " + std::to_string(tol) + ")")
                          .c_str());
  return false;
}

/// y = tanh(x) as xgrad's tanh op computes it (ad/src/vmath.hpp): glibc's 4-lane vector tanh (libmvec) when the
/// build found it and the CPU has AVX2, std::tanh otherwise. Baselines that use it compare xgrad against
/// hand-written code at equal math, isolating the cost of differentiation itself.
#if XGRAD_HAVE_LIBMVEC
extern "C" __attribute__((target("avx2"))) __m256d _ZGVdN4v_tanh(__m256d);
__attribute__((target("avx2"))) inline void tanh_avx2(const double* x, double* y, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, _ZGVdN4v_tanh(_mm256_loadu_pd(x + i)));
  for (; i < n; ++i) y[i] = std::tanh(x[i]);
}
#endif
inline void vtanh(const double* x, double* y, std::size_t n) {
#if XGRAD_HAVE_LIBMVEC
  if (__builtin_cpu_supports("avx2")) return tanh_avx2(x, y, n);
#endif
  for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

}  // namespace bench
