#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>
#include <string>

#include <xgrad/core/array.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/random.hpp>

using namespace xgrad;
namespace xr = xgrad::random;

namespace {

constexpr std::size_t kN = 100000;

double mean_of(const Array& a) { return std::accumulate(a.begin(), a.end(), 0.0) / static_cast<double>(a.size()); }

double var_of(const Array& a) {
  const double m = mean_of(a);
  double s = 0.0;
  for (double v : a) s += (v - m) * (v - m);
  return s / static_cast<double>(a.size() - 1);
}

// True when the first `n` elements of a and b (row-major) are equal.
bool same_prefix(const Array& a, const Array& b, std::size_t n) { return std::equal(a.data(), a.data() + n, b.data()); }

template <class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("threefry2x32_20 matches the Random123 known-answer vectors") {
  using A = std::array<std::uint32_t, 2>;
  // Random123 tests/kat_vectors (also asserted by JAX's testThreefry2x32): key, counter -> output.
  CHECK(xr::detail::threefry2x32(A{0, 0}, A{0, 0}) == A{0x6b200159u, 0x99ba4efeu});
  CHECK(xr::detail::threefry2x32(A{0xffffffffu, 0xffffffffu}, A{0xffffffffu, 0xffffffffu}) ==
        A{0x1cb996fcu, 0xbb002be7u});
  CHECK(xr::detail::threefry2x32(A{0x13198a2eu, 0x03707344u}, A{0x243f6a88u, 0x85a308d3u}) ==
        A{0xc4923a9cu, 0x483df7a0u});
}

TEST_CASE("key packs the seed and prints") {
  CHECK(xr::key(42) == xr::Key{0, 42});
  CHECK(xr::key((std::uint64_t{7} << 32) | 5) == xr::Key{7, 5});
  CHECK(xr::key(1) != xr::key(2));
  std::ostringstream os;
  os << xr::key(42);
  CHECK(os.str() == "Key(0, 42)");
}

TEST_CASE("bits follow the documented block layout") {
  const auto k = xr::key(3);
  const auto w = xr::bits(k, 5);
  REQUIRE(w.size() == 5);
  for (std::uint32_t j = 0; j < 3; ++j) {
    const auto b = xr::detail::threefry2x32({k.hi, k.lo}, {0, j});
    CHECK(w[2 * j] == b[0]);
    if (2 * j + 1 < 5) CHECK(w[2 * j + 1] == b[1]);
  }
  CHECK(xr::bits(k, 0).empty());
  // About half of the bits are set: mean popcount 16 with standard error sqrt(8 / 20000) = 0.02.
  const auto many = xr::bits(k, 20000);
  double pop = 0;
  for (auto v : many) pop += std::popcount(v);
  CHECK(std::abs(pop / 20000.0 - 16.0) < 0.1);
}

TEST_CASE("same key gives the same numbers; different keys differ") {
  const auto k = xr::key(0);
  CHECK(xr::uniform(k, {50}) == xr::uniform(k, {50}));
  CHECK(xr::normal(k, {50}) == xr::normal(k, {50}));
  CHECK(xr::bits(k, 8) == xr::bits(k, 8));
  CHECK(xr::uniform(k, {50}) != xr::uniform(xr::key(1), {50}));
  CHECK(xr::normal(k, {50}) != xr::normal(xr::key(1), {50}));
  CHECK(xr::bits(k, 8) != xr::bits(xr::key(1), 8));
  // A key whose hi word alone differs also gives a different stream.
  CHECK(xr::uniform(xr::Key{1, 0}, {50}) != xr::uniform(k, {50}));
}

TEST_CASE("split and fold_in are deterministic and give distinct keys") {
  const auto k = xr::key(123);
  const auto s = xr::split(k, 4);
  REQUIRE(s.size() == 4);
  CHECK(s == xr::split(k, 4));
  CHECK(xr::split(k).size() == 2);
  CHECK(xr::split(k, 0).empty());
  // Child i depends only on (k, i).
  const auto s2 = xr::split(k, 2);
  CHECK(s2[0] == s[0]);
  CHECK(s2[1] == s[1]);

  std::set<std::pair<std::uint32_t, std::uint32_t>> seen{{k.hi, k.lo}};
  for (auto c : s) seen.insert({c.hi, c.lo});
  for (std::uint32_t d = 0; d < 4; ++d) {
    const auto f = xr::fold_in(k, d);
    CHECK(f == xr::fold_in(k, d));
    seen.insert({f.hi, f.lo});
  }
  CHECK(seen.size() == 9);  // parent, 4 children, 4 folds: all different
  CHECK(xr::split(xr::key(124), 4) != s);
  CHECK(xr::fold_in(xr::key(124), 0) != xr::fold_in(k, 0));

  // Children's draws differ from each other and from the parent's.
  CHECK(xr::uniform(s[0], {20}) != xr::uniform(s[1], {20}));
  CHECK(xr::uniform(s[0], {20}) != xr::uniform(k, {20}));

  // Disjoint counter ranges: the parent's first draw block is not its first child key.
  const auto w = xr::bits(k, 2);
  CHECK(xr::Key{w[0], w[1]} != s[0]);
}

TEST_CASE("element i depends only on (key, i): independent of call order, shape and draw length") {
  const auto k = xr::key(7);
  const auto children = xr::split(k);
  const xr::Key ka = children[0], kb = children[1];
  const Array a1 = xr::uniform(ka, {100});
  const Array b1 = xr::normal(kb, {100});
  const Array b2 = xr::normal(kb, {100});  // drawn in the other order
  const Array a2 = xr::uniform(ka, {100});
  CHECK(a1 == a2);
  CHECK(b1 == b2);

  // A longer draw extends a shorter one, whatever the shape (odd lengths for Box-Muller's pairs too).
  CHECK(same_prefix(xr::uniform(k, {10}), xr::uniform(k, {25}), 10));
  CHECK(same_prefix(xr::normal(k, {7}), xr::normal(k, {8}), 7));
  CHECK(same_prefix(xr::bernoulli(k, 0.5, {9}), xr::bernoulli(k, 0.5, {40}), 9));
  const auto w3 = xr::bits(k, 3), w8 = xr::bits(k, 8);
  CHECK(std::equal(w3.begin(), w3.end(), w8.begin()));
  CHECK(same_prefix(xr::uniform(k, {2, 3}), xr::uniform(k, {6}), 6));
  CHECK(same_prefix(xr::normal(k, {3, 1, 3}), xr::normal(k, {9}), 9));
  // The 0-d draw is element 0.
  CHECK(xr::uniform(k, {})() == xr::uniform(k, {4})(0));
  CHECK(xr::normal(k, {})() == xr::normal(k, {4})(0));
}

TEST_CASE("uniform: moments, bounds and 53-bit resolution") {
  const Array u = xr::uniform(xr::key(11), {kN});
  // Standard errors: mean sqrt(1/12/N) = 9.1e-4; variance sqrt((1/80 - 1/144)/N) = 2.4e-4. Allow 5.
  CHECK(std::abs(mean_of(u) - 0.5) < 5 * 9.1e-4);
  CHECK(std::abs(var_of(u) - 1.0 / 12.0) < 5 * 2.4e-4);
  CHECK(*std::min_element(u.begin(), u.end()) >= 0.0);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.0);
  // More than 32 random bits: nearly every value has bits below 2^-32.
  const auto fine =
      std::count_if(u.begin(), u.end(), [](double v) { return std::ldexp(v, 32) != std::floor(std::ldexp(v, 32)); });
  CHECK(fine > static_cast<long>(kN) * 99 / 100);

  const Array s = xr::uniform(xr::key(12), {kN}, -2.0, 3.0);
  const double lo = *std::min_element(s.begin(), s.end()), hi = *std::max_element(s.begin(), s.end());
  CHECK(lo >= -2.0);
  CHECK(hi < 3.0);
  CHECK(lo < -2.0 + 1e-3);  // the whole range is used
  CHECK(hi > 3.0 - 1e-3);
  CHECK(std::abs(mean_of(s) - 0.5) < 5 * 5.0 * 9.1e-4);

  // An interval one ulp wide holds only lo; a range wider than DBL_MAX stays finite and inside.
  const double one_up = std::nextafter(1.0, 2.0);
  const Array t = xr::uniform(xr::key(13), {1000}, 1.0, one_up);
  CHECK(std::all_of(t.begin(), t.end(), [](double v) { return v == 1.0; }));
  const Array w = xr::uniform(xr::key(14), {1000}, -DBL_MAX, DBL_MAX);
  CHECK(std::all_of(w.begin(), w.end(), [](double v) { return std::isfinite(v) && v < DBL_MAX; }));
  CHECK(std::any_of(w.begin(), w.end(), [](double v) { return v < 0; }));
  CHECK(std::any_of(w.begin(), w.end(), [](double v) { return v > 0; }));
}

TEST_CASE("normal: moments, pair independence, finiteness") {
  const Array z = xr::normal(xr::key(21), {kN});
  // Standard errors: mean 1/sqrt(N) = 3.2e-3, variance sqrt(2/N) = 4.5e-3. Allow 5.
  CHECK(std::abs(mean_of(z)) < 5 * 3.2e-3);
  CHECK(std::abs(var_of(z) - 1.0) < 5 * 4.5e-3);
  CHECK(std::all_of(z.begin(), z.end(), [](double v) { return std::isfinite(v) && std::abs(v) <= 8.58; }));
  // P(|z| < 1) = 0.682689, standard error 1.5e-3.
  const auto inside = std::count_if(z.begin(), z.end(), [](double v) { return std::abs(v) < 1; });
  CHECK(std::abs(static_cast<double>(inside) / kN - 0.682689) < 5 * 1.5e-3);
  // The two halves of a Box-Muller pair are uncorrelated: E[z_2j z_2j+1] = 0, standard error sqrt(2/N).
  double cross = 0;
  for (std::size_t j = 0; j + 1 < kN; j += 2) cross += z(j) * z(j + 1);
  CHECK(std::abs(cross / (kN / 2)) < 5 * 4.5e-3);

  const Array y = xr::normal(xr::key(22), {kN}, 3.0, 2.0);
  CHECK(std::abs(mean_of(y) - 3.0) < 5 * 2.0 * 3.2e-3);
  CHECK(std::abs(var_of(y) - 4.0) < 5 * 4.0 * 4.5e-3);
  // stddev 0 is allowed and gives the mean.
  const Array c = xr::normal(xr::key(23), {5}, -1.5, 0.0);
  CHECK(std::all_of(c.begin(), c.end(), [](double v) { return v == -1.5; }));
}

TEST_CASE("bernoulli: values, frequency, exact endpoints") {
  const Array b = xr::bernoulli(xr::key(31), 0.3, {kN});
  CHECK(std::all_of(b.begin(), b.end(), [](double v) { return v == 0.0 || v == 1.0; }));
  // Standard error sqrt(0.3 * 0.7 / N) = 1.45e-3.
  CHECK(std::abs(mean_of(b) - 0.3) < 5 * 1.45e-3);
  const Array zero = xr::bernoulli(xr::key(32), 0.0, {1000});
  const Array one = xr::bernoulli(xr::key(32), 1.0, {1000});
  CHECK(std::all_of(zero.begin(), zero.end(), [](double v) { return v == 0.0; }));
  CHECK(std::all_of(one.begin(), one.end(), [](double v) { return v == 1.0; }));
  // Same key: bernoulli(p) is uniform < p.
  const Array u = xr::uniform(xr::key(31), {100});
  for (std::size_t i = 0; i < 100; ++i) CHECK(b(i) == (u(i) < 0.3 ? 1.0 : 0.0));
}

TEST_CASE("permutation of indices") {
  const auto p = xr::permutation(xr::key(41), 1000);
  REQUIRE(p.size() == 1000);
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  CHECK(sorted == iota);
  CHECK(p != iota);
  CHECK(p == xr::permutation(xr::key(41), 1000));
  CHECK(p != xr::permutation(xr::key(42), 1000));
  CHECK(xr::permutation(xr::key(41), 0).empty());
  CHECK(xr::permutation(xr::key(41), 1) == std::vector<std::size_t>{0});
  // Each of the 6 orders of 3 elements turns up over 6000 keys (about 1000 each).
  std::set<std::vector<std::size_t>> orders;
  std::size_t first_is_zero = 0;
  for (std::uint32_t d = 0; d < 6000; ++d) {
    const auto q = xr::permutation(xr::fold_in(xr::key(43), d), 3);
    orders.insert(q);
    first_is_zero += q[0] == 0;
  }
  CHECK(orders.size() == 6);
  CHECK(std::abs(static_cast<double>(first_is_zero) / 6000 - 1.0 / 3) < 5 * 6.1e-3);  // SE sqrt(2/9/6000)
}

TEST_CASE("permutation of an array shuffles axis 0") {
  const auto k = xr::key(51);
  Array x = Array::from_shape({5, 2, 3});
  std::iota(x.begin(), x.end(), 0.0);
  const Array y = xr::permutation(k, x);
  CHECK(shape_of(y) == Shape{5, 2, 3});
  const auto p = xr::permutation(k, 5);
  for (std::size_t r = 0; r < 5; ++r)
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j) CHECK(y(r, i, j) == x(p[r], i, j));
  CHECK(y != x);  // key 51 does not give the identity on 5 rows (probability 1/120 for a random key)

  Array v = Array::from_shape({4});
  std::iota(v.begin(), v.end(), 10.0);
  const Array pv = xr::permutation(k, v);
  std::vector<double> got(pv.begin(), pv.end());
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<double>{10, 11, 12, 13});

  CHECK(shape_of(xr::permutation(k, Array::from_shape({0, 3}))) == Shape{0, 3});
  CHECK(shape_of(xr::permutation(k, Array::from_shape({3, 0}))) == Shape{3, 0});
  Array scalar = Array::from_shape({});
  scalar() = 1.0;
  CHECK_THROWS_AS(xr::permutation(k, scalar), ShapeError);
  CHECK(message_of([&] { xr::permutation(k, scalar); }).find("xgrad::random::permutation") != std::string::npos);
}

TEST_CASE("shapes: 0-d, empty and multi-axis") {
  const auto k = xr::key(61);
  for (const Array& a : {xr::uniform(k, {}), xr::normal(k, {}), xr::bernoulli(k, 0.5, {})}) {
    CHECK(a.dimension() == 0);
    CHECK(a.size() == 1);
    CHECK(std::isfinite(a()));
  }
  for (const Array& a : {xr::uniform(k, {0}), xr::normal(k, {0}), xr::bernoulli(k, 0.5, {0})}) {
    CHECK(shape_of(a) == Shape{0});
    CHECK(a.size() == 0);
  }
  CHECK(shape_of(xr::uniform(k, {2, 0, 3})) == Shape{2, 0, 3});
  CHECK(shape_of(xr::normal(k, {3, 4}, 1.0, 2.0)) == Shape{3, 4});
  CHECK(shape_of(xr::bernoulli(k, 0.1, {1, 2, 1})) == Shape{1, 2, 1});
}

TEST_CASE("invalid arguments throw ValueError naming the operation") {
  const auto k = xr::key(0);
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(xr::uniform(k, {2}, 1.0, 1.0), ValueError);
  CHECK_THROWS_AS(xr::uniform(k, {2}, 2.0, 1.0), ValueError);
  CHECK_THROWS_AS(xr::uniform(k, {2}, nan, 1.0), ValueError);
  CHECK_THROWS_AS(xr::uniform(k, {2}, 0.0, inf), ValueError);
  CHECK_THROWS_AS(xr::uniform(k, {2}, -inf, 0.0), ValueError);
  CHECK(message_of([&] { xr::uniform(k, {2}, 2.0, 1.0); }).find("xgrad::random::uniform") != std::string::npos);

  CHECK_THROWS_AS(xr::normal(k, {2}, 0.0, -1.0), ValueError);
  CHECK_THROWS_AS(xr::normal(k, {2}, nan, 1.0), ValueError);
  CHECK_THROWS_AS(xr::normal(k, {2}, 0.0, inf), ValueError);
  CHECK(message_of([&] { xr::normal(k, {2}, 0.0, -1.0); }).find("xgrad::random::normal") != std::string::npos);

  CHECK_THROWS_AS(xr::bernoulli(k, -0.1, {2}), ValueError);
  CHECK_THROWS_AS(xr::bernoulli(k, 1.1, {2}), ValueError);
  CHECK_THROWS_AS(xr::bernoulli(k, nan, {2}), ValueError);
  CHECK(message_of([&] { xr::bernoulli(k, 2.0, {2}); }).find("xgrad::random::bernoulli") != std::string::npos);
}
