#include "xgrad/core/random.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>

#include "xgrad/core/error.hpp"

namespace xgrad::random {

namespace detail {

std::array<std::uint32_t, 2> threefry2x32(std::array<std::uint32_t, 2> key, std::array<std::uint32_t, 2> counter) {
  // Rotation constants R_{2x32} of the paper, used in turn by rounds 0..7, 8..15, 16..19.
  constexpr int rot[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  // Key schedule: the two key words and their parity word (the paper's C240 constant xor both words).
  const std::uint32_t ks[3] = {key[0], key[1], 0x1BD11BDAu ^ key[0] ^ key[1]};
  std::uint32_t x0 = counter[0] + ks[0], x1 = counter[1] + ks[1];
  for (int r = 0; r < 20; ++r) {
    // MIX: add, rotate, xor. With two words the paper's permutation is the identity.
    x0 += x1;
    x1 = std::rotl(x1, rot[r % 8]) ^ x0;
    if (r % 4 == 3) {  // inject subkey s after every 4 rounds, rotating through ks and adding s to the last word
      const std::uint32_t s = static_cast<std::uint32_t>(r / 4 + 1);
      x0 += ks[s % 3];
      x1 += ks[(s + 1) % 3] + s;
    }
  }
  return {x0, x1};
}

}  // namespace detail

namespace {

// Counter ranges (see the header): draws below 2^63, split children from 2^63, fold_in from 2^63 + 2^62.
constexpr std::uint64_t kSplitBase = std::uint64_t{1} << 63;
constexpr std::uint64_t kFoldBase = kSplitBase | std::uint64_t{1} << 62;

// Block c of k's stream, w0 in the high half.
std::uint64_t block(Key k, std::uint64_t c) {
  const auto w =
      detail::threefry2x32({k.hi, k.lo}, {static_cast<std::uint32_t>(c >> 32), static_cast<std::uint32_t>(c)});
  return std::uint64_t{w[0]} << 32 | w[1];
}

Key key_of(std::uint64_t b) { return {static_cast<std::uint32_t>(b >> 32), static_cast<std::uint32_t>(b)}; }

// u_j in [0, 1): the top 53 bits of block j, exactly representable as a double.
double unit(Key k, std::uint64_t j) { return static_cast<double>(block(k, j) >> 11) * 0x1p-53; }

std::string num(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Key& k) { return os << "Key(" << k.hi << ", " << k.lo << ")"; }

Key key(std::uint64_t seed) { return key_of(seed); }

std::vector<Key> split(Key k, std::size_t n) {
  std::vector<Key> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = key_of(block(k, kSplitBase + i));
  return out;
}

Key fold_in(Key k, std::uint32_t data) { return key_of(block(k, kFoldBase + data)); }

std::vector<std::uint32_t> bits(Key k, std::size_t n) {
  std::vector<std::uint32_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t b = block(k, i / 2);  // recomputed for the odd word: simple, and bits() is not hot
    out[i] = static_cast<std::uint32_t>(i % 2 == 0 ? b >> 32 : b);
  }
  return out;
}

Array uniform(Key k, const Shape& shape, double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
    throw ValueError("xgrad::random::uniform: need finite lo < hi, got lo=" + num(lo) + ", hi=" + num(hi));
  shape_size(shape, "random.uniform");
  Array out = Array::from_shape(shape);
  const double below_hi = std::nextafter(hi, lo);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double u = unit(k, i);
    // The convex combination stays finite even when hi - lo overflows; rounding may still reach hi (or, by an ulp,
    // leave the interval), so clamp.
    out.data()[i] = std::clamp((1.0 - u) * lo + u * hi, lo, below_hi);
  }
  return out;
}

Array normal(Key k, const Shape& shape, double mean, double stddev) {
  if (!std::isfinite(mean) || !std::isfinite(stddev) || !(stddev >= 0.0))
    throw ValueError("xgrad::random::normal: need finite mean and finite stddev >= 0, got mean=" + num(mean) +
                     ", stddev=" + num(stddev));
  shape_size(shape, "random.normal");
  Array out = Array::from_shape(shape);
  double* o = out.data();
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(1.0 - unit(k, i)));  // 1 - u >= 2^-53: log(0) cannot happen
    const double t = 2.0 * std::numbers::pi * unit(k, i + 1);
    o[i] = mean + stddev * r * std::cos(t);
    if (i + 1 < n) o[i + 1] = mean + stddev * r * std::sin(t);
  }
  return out;
}

Array bernoulli(Key k, double p, const Shape& shape) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError("xgrad::random::bernoulli: p must be in [0, 1], got " + num(p));
  shape_size(shape, "random.bernoulli");
  Array out = Array::from_shape(shape);
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = unit(k, i) < p ? 1.0 : 0.0;
  return out;
}

std::vector<std::size_t> permutation(Key k, std::size_t n) {
  // Sorting by i.i.d. 64-bit keys gives every order the same probability (up to ties), needs no bounded-integer
  // draws, and keeps element i tied to block i.
  std::vector<std::pair<std::uint64_t, std::size_t>> tagged(n);
  for (std::size_t i = 0; i < n; ++i) tagged[i] = {block(k, i), i};
  std::sort(tagged.begin(), tagged.end());
  std::vector<std::size_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = tagged[i].second;
  return out;
}

Array permutation(Key k, const Array& x) {
  if (x.dimension() == 0)
    throw ShapeError("xgrad::random::permutation: x has shape " + shape_str(shape_of(x)) +
                     "; a 0-d array has no axis 0 to shuffle");
  const std::size_t n = x.shape()[0];
  const auto perm = permutation(k, n);
  Array out = Array::from_shape(x.shape());
  const std::size_t row = n == 0 ? 0 : x.size() / n;  // Array is row-major: each axis-0 slice is contiguous
  for (std::size_t r = 0; r < n; ++r) std::copy_n(x.data() + perm[r] * row, row, out.data() + r * row);
  return out;
}

}  // namespace xgrad::random
