#pragma once
// Helpers shared by the benchmark binaries (not a benchmark itself: only bench_*.cpp files become executables).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

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

}  // namespace bench
