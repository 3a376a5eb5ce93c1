#pragma once
// Test helpers shared by the ad suites.
#include <doctest/doctest.h>

#include <xgrad/ad/ad.hpp>

namespace xgrad::testing {

/// An array of the given shape with deterministic, well-spread values in [lo, hi].
inline Array sample(const Shape& s, double lo = -1.0, double hi = 1.0, std::uint64_t seed = 1) {
  Array a = detail::weights(s, seed);
  return (a + 1.0) * 0.5 * (hi - lo) + lo;
}

/// CHECK that f passes check_grads at first and second order, printing the report on failure.
#define XGRAD_CHECK_GRADS(f, args)                     \
  do {                                                 \
    auto r_ = ::xgrad::check_grads((f), (args), 2);    \
    INFO(r_.report());                                 \
    CHECK(r_.ok);                                      \
  } while (0)

}  // namespace xgrad::testing
