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

/// A column (n, 1) array: Array{{1.0}, {2.0}} is ambiguous in xtensor.
inline Array column(std::initializer_list<double> v) {
  Array a = Array::from_shape({v.size(), 1});
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

/// CHECK that `got` has the shape of `want` and the same elements to a relative tolerance.
inline void check_close(const Array& got, const Array& want, double eps = 1e-10) {
  REQUIRE(shape_str(shape_of(got)) == shape_str(shape_of(want)));
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    CHECK(got.data()[i] == doctest::Approx(want.data()[i]).epsilon(eps));
  }
}

/// CHECK that f passes check_grads at first and second order, printing the report on failure.
#define XGRAD_CHECK_GRADS(f, args)                     \
  do {                                                 \
    auto r_ = ::xgrad::check_grads((f), (args), 2);    \
    INFO(r_.report());                                 \
    CHECK(r_.ok);                                      \
  } while (0)

}  // namespace xgrad::testing
