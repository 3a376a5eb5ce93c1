#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <xgrad/core/flat.hpp>
#include <xgrad/core/tree.hpp>

using namespace xgrad;

namespace {
struct FlatPair {
  Array w;
  std::vector<Array> bs;
};
Array iota(std::size_t n, double start = 1.0) {
  Array a = Array::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) a(i) = start + static_cast<double>(i);
  return a;
}
}  // namespace

TEST_CASE("flat::dot and norm2 sum over every element, for every length and tail") {
  for (std::size_t n : {0u, 1u, 3u, 4u, 5u, 8u, 9u, 101u}) {
    const Array a = iota(n), b = iota(n, -2.0);
    double expect = 0.0, sq = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      expect += a(i) * b(i);
      sq += a(i) * a(i);
    }
    CAPTURE(n);
    CHECK(flat::dot(a, b) == doctest::Approx(expect).epsilon(1e-15));
    CHECK(flat::dot(a.data(), b.data(), n) == flat::dot(a, b));
    CHECK(flat::norm2(a) == doctest::Approx(std::sqrt(sq)).epsilon(1e-15));
  }
  // Integers below 2^53: exact in any summation order.
  CHECK(flat::dot(Array{1.0, 2.0, 3.0, 4.0, 5.0}, Array{5.0, 4.0, 3.0, 2.0, 1.0}) == 35.0);
  CHECK(flat::norm2(Array{3.0, 4.0}) == 5.0);
  CHECK(flat::norm2(Array::from_shape({0})) == 0.0);
}

TEST_CASE("flat::axpy, sub and negative return new arrays and leave their inputs alone") {
  const Array x{1.0, 2.0, 3.0}, d{0.5, -1.0, 2.0};
  const Array y = flat::axpy(x, 2.0, d);
  REQUIRE(y.size() == 3);
  CHECK(y(0) == 2.0);
  CHECK(y(1) == 0.0);
  CHECK(y(2) == 7.0);
  CHECK(x(0) == 1.0);  // unchanged
  const Array s = flat::sub(x, d);
  CHECK(s(0) == 0.5);
  CHECK(s(1) == 3.0);
  CHECK(s(2) == 1.0);
  const Array m = flat::negative(d);
  CHECK(m(0) == -0.5);
  CHECK(m(1) == 1.0);
  CHECK(m(2) == -2.0);
  CHECK(m.dimension() == 1);
  CHECK(flat::axpy(Array::from_shape({0}), 3.0, Array::from_shape({0})).size() == 0);
}

TEST_CASE("flat::all_finite on arrays and on pytrees") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(flat::all_finite(Array{1.0, -2.0, 0.0}));
  CHECK(flat::all_finite(Array::from_shape({0})));
  CHECK_FALSE(flat::all_finite(Array{1.0, inf}));
  CHECK_FALSE(flat::all_finite(Array{nan, 1.0}));
  CHECK_FALSE(flat::all_finite(Array{-inf}));
  FlatPair t{Array{1.0, 2.0}, {Array{3.0}, Array{4.0, 5.0}}};
  CHECK(flat::all_finite(t));
  t.bs[1](1) = nan;
  CHECK_FALSE(flat::all_finite(t));
  std::map<std::string, Array> m{{"a", Array{1.0}}, {"b", Array{inf}}};
  CHECK_FALSE(flat::all_finite(m));
}

TEST_CASE("flat::values is tree::ravel's flat view") {
  Array w = Array::from_shape({2, 2});
  w(0, 0) = 1.0;
  w(0, 1) = 2.0;
  w(1, 0) = 3.0;
  w(1, 1) = 4.0;
  const FlatPair t{w, {Array{5.0}, Array{6.0, 7.0}}};
  const Array v = flat::values(t);
  const Array r = tree::ravel(t).first;
  REQUIRE(v.size() == 7);
  REQUIRE(v.dimension() == 1);
  for (std::size_t i = 0; i < 7; ++i) {
    CHECK(v(i) == static_cast<double>(i + 1));
    CHECK(v(i) == r(i));
  }
  CHECK(flat::values(std::vector<Array>{}).size() == 0);
  // The way back is tree::ravel's unravel: a flat view round-trips.
  const FlatPair back = tree::ravel(t).second(flat::axpy(v, 1.0, v));
  CHECK(back.w(1, 0) == 6.0);
  CHECK(back.bs[1](0) == 12.0);
}
