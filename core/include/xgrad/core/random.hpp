#pragma once
// Counter-based pseudo-random numbers with explicit keys, as in jax.random. There is no hidden state: a draw is a
// pure function of its key, so results are identical on every platform and independent of call order.
//
// The generator is Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror, Shaw 2011, "Parallel random numbers: as
// easy as 1, 2, 3"). A Key is the cipher's 64-bit key; it names the stream of 64-bit blocks
//   B(c) = w0 * 2^32 + w1,  (w0, w1) = threefry2x32({hi, lo}, {c >> 32, c mod 2^32}),  c a 64-bit counter.
// Each use of a key reads its own disjoint counter range, so a key's draws, its split children and its fold_in
// children never share a block:
//   draws:       c = j                   for block j = 0, 1, 2, ... (j < 2^63)
//   split:       c = 2^63 + i            for child i
//   fold_in:     c = 2^63 + 2^62 + data
// Every draw reads blocks 0, 1, 2, ... of the draw range, and element i of a draw (in row-major order) depends
// only on (key, i): a longer draw extends a shorter one, and the shape does not matter, only the element count.
// Drawing twice from one key gives the same numbers (and two distributions from one key are correlated): split it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <vector>

#include "xgrad/core/array.hpp"

namespace xgrad::random {

/// A PRNG key: the two 32-bit words of a Threefry-2x32 key. A small value; copy it freely.
struct Key {
  std::uint32_t hi = 0, lo = 0;
  friend bool operator==(const Key&, const Key&) = default;
};
/// Prints "Key(0, 42)".
std::ostream& operator<<(std::ostream& os, const Key& k);

/// The key for a 64-bit seed: Key{seed >> 32, seed mod 2^32} (as jax.random.PRNGKey: key(42) is Key(0, 42)).
Key key(std::uint64_t seed);
/// `n` new keys; child i depends only on (k, i), so split(k, 3)[i] == split(k, 2)[i] for i < 2.
std::vector<Key> split(Key k, std::size_t n = 2);
/// A new key from `k` and some data (an index, a step number), without splitting.
Key fold_in(Key k, std::uint32_t data);

/// `n` raw random words: word 2j is w0 and word 2j+1 is w1 of draw block j.
std::vector<std::uint32_t> bits(Key k, std::size_t n);

/// Uniform doubles in [lo, hi). Element i uses block i: its top 53 bits m give u = m * 2^-53 in [0, 1), so every
/// multiple of 2^-53 is equally likely (all 53 mantissa bits random, unlike 32-bit floats). The value is
/// (1 - u) lo + u hi, which cannot overflow for any finite lo < hi, clamped into [lo, hi) against rounding.
/// Throws ValueError unless lo and hi are finite and lo < hi.
Array uniform(Key k, const Shape& shape, double lo = 0.0, double hi = 1.0);

/// Normal doubles, by Box-Muller: elements 2j and 2j+1 are r cos(t) and r sin(t) with r = sqrt(-2 log(1 - u_2j)),
/// t = 2 pi u_(2j+1), u_i as in uniform. 1 - u is in [2^-53, 1], so log never sees 0 and |z| <= 8.58 stddev: never
/// inf or NaN. Throws ValueError unless mean and stddev are finite and stddev >= 0.
Array normal(Key k, const Shape& shape, double mean = 0.0, double stddev = 1.0);

/// 1.0 with probability p, else 0.0: element i is u_i < p, u_i as in uniform (so p = 0 and p = 1 are exact).
/// Throws ValueError unless 0 <= p <= 1.
Array bernoulli(Key k, double p, const Shape& shape);

/// A uniformly random permutation of 0..n-1: the indices sorted by their blocks B(i) (ties, with probability
/// about n^2 / 2^65, broken by index).
std::vector<std::size_t> permutation(Key k, std::size_t n);
/// `x` with its slices along axis 0 shuffled: row r of the result is row permutation(k, x.shape()[0])[r] of x.
/// Throws ShapeError for a 0-d array, which has no axis 0.
Array permutation(Key k, const Array& x);

namespace detail {
/// The Threefry-2x32-20 block cipher: encrypts `counter` under `key`. Matches the Random123 known-answer vectors.
std::array<std::uint32_t, 2> threefry2x32(std::array<std::uint32_t, 2> key, std::array<std::uint32_t, 2> counter);
}  // namespace detail

}  // namespace xgrad::random
