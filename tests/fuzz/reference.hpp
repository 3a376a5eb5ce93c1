#pragma once
// The fuzzer's reference: every op once more, in long double, written from numpy's definitions with plain loops
// over flat indices; of xgrad and xtensor it uses only the Shape type and reads the Arrays stored in nodes. It is
// the "other implementation" of the differential check, and its long double values are what the finite
// differences are taken of.
//
// Ops with kinks (relu, abs, maximum/minimum, clip, max/min reductions, norm) record on which side of the kink
// each element lies: the finite-difference check skips a graph when a stencil point lies on another side than the
// base point (a tie that holds at every stencil point is a tie of copies, which xgrad's conventions get right).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph.hpp"

namespace xgrad::fuzz {

using Real = long double;

struct Ref {
  Shape shape;
  std::vector<Real> v;
  std::size_t size() const { return v.size(); }
  Real max_abs() const {
    Real m = 0;
    for (Real x : v) m = std::max(m, std::fabs(x));
    return m;
  }
};

/// The side of every kink an evaluation passed: -1 or +1, 0 on the kink (a tie), or the set of positions where a
/// max or min is attained (a bit mask).
using Branches = std::vector<long>;

namespace ref {

inline std::size_t count(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), std::size_t{1}, std::multiplies<>());
}
inline Ref zeros(const Shape& s) { return {s, std::vector<Real>(count(s), 0.0L)}; }

// Row-major multi-index of a flat index, and back.
inline std::vector<std::size_t> unravel(std::size_t flat, const Shape& s) {
  std::vector<std::size_t> idx(s.size());
  for (std::size_t k = s.size(); k-- > 0;) {
    idx[k] = flat % s[k];
    flat /= s[k];
  }
  return idx;
}
inline std::size_t ravel(const std::vector<std::size_t>& idx, const Shape& s) {
  std::size_t flat = 0;
  for (std::size_t k = 0; k < s.size(); ++k) flat = flat * s[k] + idx[k];
  return flat;
}
// The flat index in an array of shape `from` that numpy broadcasting reads for index `idx` of shape `to`.
inline std::size_t broadcast_source(const std::vector<std::size_t>& idx, const Shape& to, const Shape& from) {
  std::vector<std::size_t> src(from.size());
  for (std::size_t k = 0; k < from.size(); ++k) {
    const std::size_t d = to.size() - from.size() + k;
    src[k] = from[k] == 1 ? 0 : idx[d];
  }
  return ravel(src, from);
}
inline Shape broadcast(const Shape& a, const Shape& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t da = i + a.size() < n ? 1 : a[i + a.size() - n], db = i + b.size() < n ? 1 : b[i + b.size() - n];
    if (da != db && da != 1 && db != 1) throw std::invalid_argument("shapes do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}
inline bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (std::size_t k = 0; k < from.size(); ++k)
    if (from[k] != 1 && from[k] != to[to.size() - from.size() + k]) return false;
  return true;
}
inline std::size_t axis_of(std::ptrdiff_t axis, std::size_t ndim) {
  return static_cast<std::size_t>(axis < 0 ? axis + static_cast<std::ptrdiff_t>(ndim) : axis);
}

inline Ref map(const Ref& a, const std::function<Real(Real)>& f) {
  Ref out{a.shape, a.v};
  for (Real& x : out.v) x = f(x);
  return out;
}
inline Ref zip(const Ref& a, const Ref& b, const std::function<Real(Real, Real)>& f) {
  Ref out = zeros(broadcast(a.shape, b.shape));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto idx = unravel(i, out.shape);
    out.v[i] = f(a.v[broadcast_source(idx, out.shape, a.shape)], b.v[broadcast_source(idx, out.shape, b.shape)]);
  }
  return out;
}
// Which side of a kink `x` (the distance to it) is on; 0 within rounding of it, where xgrad's double evaluation may
// land exactly on the kink (and take its convention there) while the long double one does not. The band is far
// below what a stencil step moves an argument (h/4 >= 2.5e-5, squared 6e-10), so a tie that persists across the
// stencil is a tie of copies.
inline constexpr Real on_kink = 1e-13L;
inline long side(Real x, Real scale) { return std::fabs(x) <= on_kink * scale ? 0 : (x < 0 ? -1 : 1); }

// Groups of elements reduced together (in row-major order), and the shape of the result.
inline Ref reduce(const Ref& a, const Axes& axes_in, bool keepdims,
                  const std::function<Real(const std::vector<Real>&)>& f) {
  std::vector<bool> reduced(a.shape.size(), false);
  for (auto ax : axes_in) reduced[axis_of(ax, a.shape.size())] = true;
  Shape kept_shape, out_shape;
  for (std::size_t k = 0; k < a.shape.size(); ++k) {
    kept_shape.push_back(reduced[k] ? 1 : a.shape[k]);
    if (!reduced[k] || keepdims) out_shape.push_back(reduced[k] ? 1 : a.shape[k]);
  }
  std::vector<std::vector<Real>> groups(count(kept_shape));
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto idx = unravel(i, a.shape);
    for (std::size_t k = 0; k < idx.size(); ++k)
      if (reduced[k]) idx[k] = 0;
    groups[ravel(idx, kept_shape)].push_back(a.v[i]);
  }
  Ref out = zeros(out_shape);
  for (std::size_t g = 0; g < groups.size(); ++g) out.v[g] = f(groups[g]);
  return out;
}
inline Axes all_axes(const Shape& s) {
  Axes axes(s.size());
  std::iota(axes.begin(), axes.end(), 0);
  return axes;
}
// f applied to every 1-D line along `axis`, in place.
inline Ref along(const Ref& a, std::size_t axis, const std::function<std::vector<Real>(std::vector<Real>)>& f) {
  Ref out = a;
  const std::size_t n = a.shape[axis];
  std::size_t inner = 1;
  for (std::size_t k = axis + 1; k < a.shape.size(); ++k) inner *= a.shape[k];
  for (std::size_t outer = 0; outer < a.size() / std::max<std::size_t>(n * inner, 1); ++outer)
    for (std::size_t in = 0; in < inner; ++in) {
      std::vector<Real> line(n);
      for (std::size_t j = 0; j < n; ++j) line[j] = a.v[(outer * n + j) * inner + in];
      line = f(line);
      for (std::size_t j = 0; j < n; ++j) out.v[(outer * n + j) * inner + in] = line[j];
    }
  return out;
}
inline Real logsumexp(const std::vector<Real>& xs) {
  const Real m = *std::max_element(xs.begin(), xs.end());
  Real s = 0;
  for (Real x : xs) s += std::exp(x - m);
  return m + std::log(s);
}
// The largest (sign +1) or smallest (-1) element; records the positions where it is attained. (Only the whole
// set tells copies of one function, which stay tied, from a tie that breaks: in {a, b, a, b} with a = b at the
// base point, the tie of the two a's persists when a and b part.)
inline Real extreme(const std::vector<Real>& xs, int sign, Branches* br) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < xs.size(); ++i)
    if (sign * xs[i] > sign * xs[best]) best = i;
  long attained = 0;  // groups have at most 48 elements (generate.hpp)
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (side(xs[i] - xs[best], std::max(Real(1), std::fabs(xs[best]))) == 0) attained |= 1L << i;
  if (br) br->push_back(attained);
  for (Real x : xs)
    if (std::isnan(x)) return x;  // numpy's max and min propagate NaN
  return xs[best];
}

// Elements along `axis` at the given (non-negative) positions.
inline Ref take(const Ref& a, std::size_t axis, const std::vector<std::size_t>& at) {
  Shape s = a.shape;
  s[axis] = at.size();
  Ref out = zeros(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto idx = unravel(i, s);
    idx[axis] = at[idx[axis]];
    out.v[i] = a.v[ravel(idx, a.shape)];
  }
  return out;
}
inline Ref concatenate(const std::vector<const Ref*>& xs, std::size_t axis) {
  Shape s = xs[0]->shape;
  s[axis] = 0;
  for (const Ref* x : xs) s[axis] += x->shape[axis];
  Ref out = zeros(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto idx = unravel(i, s);
    std::size_t which = 0;
    while (idx[axis] >= xs[which]->shape[axis]) idx[axis] -= xs[which++]->shape[axis];
    out.v[i] = xs[which]->v[ravel(idx, xs[which]->shape)];
  }
  return out;
}

// numpy.matmul: 1-D operands promoted (and the added axis dropped), batch axes broadcast.
inline Ref matmul(const Ref& a0, const Ref& b0) {
  Ref a = a0, b = b0;
  if (a.shape.size() == 1) a.shape.insert(a.shape.begin(), 1);
  if (b.shape.size() == 1) b.shape.push_back(1);
  const std::size_t m = a.shape[a.shape.size() - 2], k = a.shape.back(), n = b.shape.back();
  if (b.shape[b.shape.size() - 2] != k) throw std::invalid_argument("matmul: inner extents differ");
  const Shape ab(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  Shape s = broadcast(ab, bb);
  const Shape batch = s;
  s.push_back(m);
  s.push_back(n);
  Ref out = zeros(s);
  for (std::size_t q = 0; q < count(batch); ++q) {
    const auto idx = unravel(q, batch);
    const std::size_t pa = broadcast_source(idx, batch, ab) * m * k, pb = broadcast_source(idx, batch, bb) * k * n;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        Real acc = 0;
        for (std::size_t l = 0; l < k; ++l) acc += a.v[pa + i * k + l] * b.v[pb + l * n + j];
        out.v[(q * m + i) * n + j] = acc;
      }
  }
  if (a0.shape.size() == 1) out.shape.erase(out.shape.end() - 2);
  if (b0.shape.size() == 1) out.shape.pop_back();
  return out;
}
inline Ref transpose(const Ref& a, const std::vector<std::size_t>& perm) {
  Shape s(perm.size());
  for (std::size_t k = 0; k < perm.size(); ++k) s[k] = a.shape[perm[k]];
  Ref out = zeros(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto idx = unravel(i, s);
    std::vector<std::size_t> src(perm.size());
    for (std::size_t k = 0; k < perm.size(); ++k) src[perm[k]] = idx[k];
    out.v[i] = a.v[ravel(src, a.shape)];
  }
  return out;
}
// Gaussian elimination with partial pivoting on A x = b, b of shape (n,) or (n, k).
inline Ref solve(const Ref& A, const Ref& b) {
  const std::size_t n = A.shape[0], k = b.shape.size() == 1 ? 1 : b.shape[1];
  std::vector<Real> a = A.v, x = b.v;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[p * n + c])) p = r;
    for (std::size_t j = 0; j < n; ++j) std::swap(a[c * n + j], a[p * n + j]);
    for (std::size_t j = 0; j < k; ++j) std::swap(x[c * k + j], x[p * k + j]);
    for (std::size_t r = c + 1; r < n; ++r) {
      const Real f = a[r * n + c] / a[c * n + c];
      for (std::size_t j = c; j < n; ++j) a[r * n + j] -= f * a[c * n + j];
      for (std::size_t j = 0; j < k; ++j) x[r * k + j] -= f * x[c * k + j];
    }
  }
  for (std::size_t c = n; c-- > 0;)
    for (std::size_t j = 0; j < k; ++j) {
      Real s = x[c * k + j];
      for (std::size_t l = c + 1; l < n; ++l) s -= a[c * n + l] * x[l * k + j];
      x[c * k + j] = s / a[c * n + c];
    }
  return {b.shape, x};
}
// Cholesky-Banachiewicz from the lower triangle only, as LAPACK's dpotrf('L') reads it.
inline Ref cholesky(const Ref& A) {
  const std::size_t n = A.shape[0];
  Ref L = zeros(A.shape);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      Real s = A.v[i * n + j];
      for (std::size_t l = 0; l < j; ++l) s -= L.v[i * n + l] * L.v[j * n + l];
      L.v[i * n + j] = i == j ? std::sqrt(s) : s / L.v[j * n + j];
    }
  return L;
}
inline std::vector<Real> softmax_line(std::vector<Real> xs) {
  const Real lse = logsumexp(xs);
  for (Real& x : xs) x = std::exp(x - lse);
  return xs;
}
inline std::vector<Real> log_softmax_line(std::vector<Real> xs) {
  const Real lse = logsumexp(xs);
  for (Real& x : xs) x -= lse;
  return xs;
}

// numpy.einsum by its definition: every combination of the letters' values, the product of the operands' elements
// added into the output's element. Implicit output: the letters that appear once, in alphabetical order.
inline Ref einsum(const std::string& subscripts, const std::vector<const Ref*>& xs) {
  std::string lhs = subscripts, out;
  if (const auto arrow = subscripts.find("->"); arrow != std::string::npos) {
    lhs = subscripts.substr(0, arrow);
    out = subscripts.substr(arrow + 2);
  } else {
    for (char ch = 'a'; ch <= 'z'; ++ch)
      if (std::count(lhs.begin(), lhs.end(), ch) == 1) out += ch;
  }
  std::vector<std::string> terms(1);
  for (char ch : lhs)
    if (ch == ',')
      terms.emplace_back();
    else
      terms.back().push_back(ch);
  std::string letters;
  std::vector<std::size_t> extent;
  for (std::size_t t = 0; t < terms.size(); ++t)
    for (std::size_t k = 0; k < terms[t].size(); ++k)
      if (letters.find(terms[t][k]) == std::string::npos) letters += terms[t][k], extent.push_back(xs[t]->shape[k]);
  Shape s;
  for (char ch : out) s.push_back(extent[letters.find(ch)]);
  Ref r = zeros(s);
  const Shape all(extent.begin(), extent.end());
  for (std::size_t i = 0; i < count(all); ++i) {
    const auto idx = unravel(i, all);
    auto index_in = [&](const std::string& term) {
      std::vector<std::size_t> at;
      for (char ch : term) at.push_back(idx[letters.find(ch)]);
      return at;
    };
    Real prod = 1;
    for (std::size_t t = 0; t < terms.size(); ++t) prod *= xs[t]->v[ravel(index_in(terms[t]), xs[t]->shape)];
    r.v[ravel(index_in(out), s)] += prod;
  }
  return r;
}
// numpy.tensordot(a, b, k): the last k axes of a against the first k of b.
inline Ref tensordot(const Ref& a, const Ref& b, std::size_t k) {
  Shape s(a.shape.begin(), a.shape.end() - static_cast<std::ptrdiff_t>(k));
  s.insert(s.end(), b.shape.begin() + static_cast<std::ptrdiff_t>(k), b.shape.end());
  const std::size_t inner = count(Shape(b.shape.begin(), b.shape.begin() + static_cast<std::ptrdiff_t>(k)));
  const std::size_t rows = a.size() / inner, cols = b.size() / inner;
  Ref r = zeros(s);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j)
      for (std::size_t l = 0; l < inner; ++l) r.v[i * cols + j] += a.v[i * inner + l] * b.v[l * cols + j];
  return r;
}
// Substitution reading only A's lower (or upper) triangle.
inline Ref solve_triangular(const Ref& A, const Ref& b, bool lower) {
  const std::size_t n = A.shape[0], k = b.shape.size() == 1 ? 1 : b.shape[1];
  Ref x = b;
  for (std::size_t step = 0; step < n; ++step) {
    const std::size_t r = lower ? step : n - 1 - step;
    for (std::size_t j = 0; j < k; ++j) {
      Real acc = x.v[r * k + j];
      for (std::size_t c = 0; c < n; ++c)
        if (lower ? c < r : c > r) acc -= A.v[r * n + c] * x.v[c * k + j];
      x.v[r * k + j] = acc / A.v[r * n + r];
    }
  }
  return x;
}
// The determinant by elimination with partial pivoting.
inline Real det(const Ref& A) {
  const std::size_t n = A.shape[0];
  std::vector<Real> a = A.v;
  Real d = 1;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[p * n + c])) p = r;
    if (p != c) {
      d = -d;
      for (std::size_t j = 0; j < n; ++j) std::swap(a[c * n + j], a[p * n + j]);
    }
    d *= a[c * n + c];
    for (std::size_t r = c + 1; r < n; ++r) {
      const Real f = a[r * n + c] / a[c * n + c];
      for (std::size_t j = c; j < n; ++j) a[r * n + j] -= f * a[c * n + j];
    }
  }
  return d;
}
// torch's conv2d by its definition: x (N, C, H, W), w (O, C, kh, kw), b (O,); conv = {stride, padding, dilation}
// as (sh, sw, ph, pw, dh, dw).
inline Ref conv2d(const Ref& x, const Ref& w, const Ref& b, const std::vector<std::size_t>& o) {
  const std::size_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], O = w.shape[0], kh = w.shape[2],
                    kw = w.shape[3];
  const auto extent = [](std::size_t in, std::size_t k, std::size_t st, std::size_t pad, std::size_t dil) -> std::size_t {
    const std::size_t span = dil * (k - 1) + 1;
    if (in + 2 * pad < span) throw std::invalid_argument("conv2d: window larger than the input");
    return (in + 2 * pad - span) / st + 1;
  };
  const std::size_t Ho = extent(H, kh, o[0], o[2], o[4]), Wo = extent(W, kw, o[1], o[3], o[5]);
  Ref r = zeros({N, O, Ho, Wo});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t f = 0; f < O; ++f)
      for (std::size_t y = 0; y < Ho; ++y)
        for (std::size_t z = 0; z < Wo; ++z) {
          Real acc = b.v[f];
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < kh; ++i)
              for (std::size_t j = 0; j < kw; ++j) {
                const auto yy = static_cast<std::ptrdiff_t>(y * o[0] + i * o[4]) - static_cast<std::ptrdiff_t>(o[2]);
                const auto zz = static_cast<std::ptrdiff_t>(z * o[1] + j * o[5]) - static_cast<std::ptrdiff_t>(o[3]);
                const Real& tap = w.v[((f * C + c) * kh + i) * kw + j];
                if (yy < 0 || zz < 0 || yy >= static_cast<std::ptrdiff_t>(H) || zz >= static_cast<std::ptrdiff_t>(W)) {
                  acc += 0 * tap;  // padding is zeros, times the tap (NaN stays NaN, as in torch)
                  continue;
                }
                acc += x.v[((n * C + c) * H + static_cast<std::size_t>(yy)) * W + static_cast<std::size_t>(zz)] * tap;
              }
          r.v[((n * O + f) * Ho + y) * Wo + z] = acc;
        }
  return r;
}
// Pooling over the last two axes of x; p = (kh, kw, sh, sw, ph, pw), a stride of 0 meaning the window. f gets the
// window's elements inside the image (padding never wins a max; it counts as zeros in a mean: divide by kh kw).
inline Ref pool(const Ref& x, const std::vector<std::size_t>& p, const std::function<Real(const std::vector<Real>&)>& f) {
  const std::size_t N = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3], kh = p[0], kw = p[1];
  const std::size_t sh = p[2] ? p[2] : kh, sw = p[3] ? p[3] : kw, ph = p[4], pw = p[5];
  if (H + 2 * ph < kh || W + 2 * pw < kw) throw std::invalid_argument("pool: window larger than the input");
  const std::size_t Ho = (H + 2 * ph - kh) / sh + 1, Wo = (W + 2 * pw - kw) / sw + 1;
  Ref r = zeros({x.shape[0], x.shape[1], Ho, Wo});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t y = 0; y < Ho; ++y)
      for (std::size_t z = 0; z < Wo; ++z) {
        std::vector<Real> window;
        for (std::size_t i = 0; i < kh; ++i)
          for (std::size_t j = 0; j < kw; ++j) {
            const auto yy = static_cast<std::ptrdiff_t>(y * sh + i) - static_cast<std::ptrdiff_t>(ph);
            const auto zz = static_cast<std::ptrdiff_t>(z * sw + j) - static_cast<std::ptrdiff_t>(pw);
            if (yy < 0 || zz < 0 || yy >= static_cast<std::ptrdiff_t>(H) || zz >= static_cast<std::ptrdiff_t>(W)) continue;
            window.push_back(x.v[(n * H + static_cast<std::size_t>(yy)) * W + static_cast<std::size_t>(zz)]);
          }
        r.v[(n * Ho + y) * Wo + z] = f(window);
      }
  return r;
}

}  // namespace ref

/// The value of node `n` from its arguments' values. Branches of kinked ops are appended to `br` if given.
inline Ref apply(const Node& n, const std::vector<const Ref*>& in, Branches* br) {
  using namespace ref;
  const Ref* x = in.empty() ? nullptr : in[0];
  const Ref* y = in.size() > 1 ? in[1] : nullptr;
  auto record = [&](Real s, Real scale) {
    if (br) br->push_back(side(s, std::max({Real(1), std::fabs(scale)})));
  };
  const Real c = n.scalar;
  switch (n.op) {
    case Op::input: case Op::constant: {
      Ref out = zeros(n.shape);
      std::copy(n.value.begin(), n.value.end(), out.v.begin());
      return out;
    }
    case Op::add: return zip(*x, *y, [](Real a, Real b) { return a + b; });
    case Op::sub: return zip(*x, *y, [](Real a, Real b) { return a - b; });
    case Op::mul: return zip(*x, *y, [](Real a, Real b) { return a * b; });
    case Op::div: return zip(*x, *y, [](Real a, Real b) { return a / b; });
    case Op::pow: return zip(*x, *y, [](Real a, Real b) { return std::pow(a, b); });
    // NaN propagates as in numpy (std::max would return its first argument).
    case Op::maximum:
      return zip(*x, *y, [&](Real a, Real b) {
        record(a - b, std::max(std::fabs(a), std::fabs(b)));
        return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
      });
    case Op::minimum:
      return zip(*x, *y, [&](Real a, Real b) {
        record(a - b, std::max(std::fabs(a), std::fabs(b)));
        return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
      });
    case Op::where: {
      Ref cond = zeros(shape_of(n.value));
      std::copy(n.value.begin(), n.value.end(), cond.v.begin());
      Ref out = zeros(broadcast(broadcast(cond.shape, x->shape), y->shape));
      for (std::size_t i = 0; i < out.size(); ++i) {
        const auto idx = unravel(i, out.shape);
        const bool take_x = cond.v[broadcast_source(idx, out.shape, cond.shape)] != 0;
        const Ref& src = take_x ? *x : *y;
        out.v[i] = src.v[broadcast_source(idx, out.shape, src.shape)];
      }
      return out;
    }
    case Op::add_c: return map(*x, [c](Real a) { return a + c; });
    case Op::sub_c: return map(*x, [c](Real a) { return a - c; });
    case Op::rsub_c: return map(*x, [c](Real a) { return c - a; });
    case Op::mul_c: return map(*x, [c](Real a) { return a * c; });
    case Op::div_c: return map(*x, [c](Real a) { return a / c; });
    case Op::rdiv_c: return map(*x, [c](Real a) { return c / a; });
    case Op::neg: return map(*x, [](Real a) { return -a; });
    case Op::exp: return map(*x, [](Real a) { return std::exp(a); });
    case Op::log: return map(*x, [](Real a) { return std::log(a); });
    case Op::log1p: return map(*x, [](Real a) { return std::log1p(a); });
    case Op::expm1: return map(*x, [](Real a) { return std::expm1(a); });
    case Op::sqrt: return map(*x, [](Real a) { return std::sqrt(a); });
    case Op::square: return map(*x, [](Real a) { return a * a; });
    case Op::pow_c: return map(*x, [c](Real a) { return std::pow(a, c); });
    case Op::abs:
      return map(*x, [&](Real a) {
        record(a, 1);
        return std::fabs(a);
      });
    case Op::sin: return map(*x, [](Real a) { return std::sin(a); });
    case Op::cos: return map(*x, [](Real a) { return std::cos(a); });
    case Op::tan: return map(*x, [](Real a) { return std::tan(a); });
    case Op::tanh: return map(*x, [](Real a) { return std::tanh(a); });
    case Op::sigmoid: return map(*x, [](Real a) { return 1 / (1 + std::exp(-a)); });
    case Op::relu:
      return map(*x, [&](Real a) {
        record(a, 1);
        return std::isnan(a) ? a : std::max(a, Real(0));
      });
    case Op::softplus: return map(*x, [](Real a) { return std::log1p(std::exp(a)); });
    case Op::clip:
      return map(*x, [&](Real a) {
        record(a - n.lo, a);
        record(a - n.hi, a);
        return std::clamp(a, Real(n.lo), Real(n.hi));
      });
    case Op::sum_all: case Op::sum:
      return reduce(*x, n.op == Op::sum ? n.axes : all_axes(x->shape), n.keepdims, [](const std::vector<Real>& v) {
        return std::accumulate(v.begin(), v.end(), Real(0));
      });
    case Op::mean_all: case Op::mean:
      return reduce(*x, n.op == Op::mean ? n.axes : all_axes(x->shape), n.keepdims, [](const std::vector<Real>& v) {
        return std::accumulate(v.begin(), v.end(), Real(0)) / static_cast<Real>(v.size());
      });
    case Op::max_all: case Op::max:
      return reduce(*x, n.op == Op::max ? n.axes : all_axes(x->shape), n.keepdims,
                    [&](const std::vector<Real>& v) { return extreme(v, 1, br); });
    case Op::min_all: case Op::min:
      return reduce(*x, n.op == Op::min ? n.axes : all_axes(x->shape), n.keepdims,
                    [&](const std::vector<Real>& v) { return extreme(v, -1, br); });
    case Op::prod_all: case Op::prod:
      return reduce(*x, n.op == Op::prod ? n.axes : all_axes(x->shape), n.keepdims, [](const std::vector<Real>& v) {
        return std::accumulate(v.begin(), v.end(), Real(1), std::multiplies<>());
      });
    case Op::logsumexp_all: case Op::logsumexp:
      return reduce(*x, n.op == Op::logsumexp ? Axes{n.axis} : all_axes(x->shape), n.keepdims, logsumexp);
    case Op::norm_all: case Op::norm:
      return reduce(*x, n.op == Op::norm ? n.axes : all_axes(x->shape), n.keepdims, [&](const std::vector<Real>& v) {
        Real s = 0;
        for (Real a : v) s += a * a;
        record(std::sqrt(s), 1);  // the norm, not its square: a stencil step must move it past the band
        return std::sqrt(s);
      });
    case Op::softmax: return along(*x, axis_of(n.axis, x->shape.size()), softmax_line);
    case Op::log_softmax: return along(*x, axis_of(n.axis, x->shape.size()), log_softmax_line);
    case Op::reshape: {
      Shape s;
      std::size_t known = 1;
      for (auto d : n.dims) known *= d < 0 ? 1 : static_cast<std::size_t>(d);
      for (auto d : n.dims) s.push_back(d < 0 ? x->size() / known : static_cast<std::size_t>(d));
      if (count(s) != x->size()) throw std::invalid_argument("reshape: sizes differ");
      return {s, x->v};
    }
    case Op::squeeze_all: {
      Shape s;
      for (auto d : x->shape)
        if (d != 1) s.push_back(d);
      return {s, x->v};
    }
    case Op::squeeze: {
      Shape s = x->shape;
      s.erase(s.begin() + static_cast<std::ptrdiff_t>(axis_of(n.axis, s.size())));
      return {s, x->v};
    }
    case Op::expand_dims: {
      Shape s = x->shape;
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(axis_of(n.axis, s.size() + 1)), 1);
      return {s, x->v};
    }
    case Op::transpose: {
      std::vector<std::size_t> perm(x->shape.size());
      std::iota(perm.rbegin(), perm.rend(), 0);
      return transpose(*x, perm);
    }
    case Op::permute: return transpose(*x, n.perm);
    case Op::broadcast_to: {
      Ref out = zeros(n.target);
      for (std::size_t i = 0; i < out.size(); ++i)
        out.v[i] = x->v[broadcast_source(unravel(i, n.target), n.target, x->shape)];
      return out;
    }
    case Op::sum_to: {
      Ref out = zeros(n.target);
      for (std::size_t i = 0; i < x->size(); ++i)
        out.v[broadcast_source(unravel(i, x->shape), x->shape, n.target)] += x->v[i];
      return out;
    }
    case Op::concatenate: return concatenate(in, axis_of(n.axis, x->shape.size()));
    case Op::stack: {
      const std::size_t a = axis_of(n.axis, x->shape.size() + 1);
      std::vector<Ref> expanded;
      for (const Ref* r : in) {
        expanded.push_back(*r);
        expanded.back().shape.insert(expanded.back().shape.begin() + static_cast<std::ptrdiff_t>(a), 1);
      }
      std::vector<const Ref*> ptrs;
      for (const Ref& r : expanded) ptrs.push_back(&r);
      return concatenate(ptrs, a);
    }
    case Op::slice: {
      // Python's slice.indices, then every position from start while before stop.
      const std::size_t a = axis_of(n.axis, x->shape.size());
      const auto len = static_cast<std::ptrdiff_t>(x->shape[a]);
      auto bound = [&](std::ptrdiff_t i) {
        if (i < 0) i += len;
        if (i < 0) return n.step < 0 ? std::ptrdiff_t{-1} : std::ptrdiff_t{0};
        if (i >= len) return n.step < 0 ? len - 1 : len;
        return i;
      };
      std::vector<std::size_t> at;
      for (std::ptrdiff_t i = bound(n.start), e = bound(n.stop); n.step > 0 ? i < e : i > e; i += n.step)
        at.push_back(static_cast<std::size_t>(i));
      return take(*x, a, at);
    }
    case Op::take_flat: case Op::take: {
      const Ref flat{Shape{x->size()}, x->v};
      const Ref& src = n.op == Op::take ? *x : flat;
      const std::size_t a = n.op == Op::take ? axis_of(n.axis, x->shape.size()) : 0;
      const auto len = static_cast<std::ptrdiff_t>(src.shape[a]);
      std::vector<std::size_t> at;
      for (auto i : n.indices) at.push_back(static_cast<std::size_t>(i < 0 ? i + len : i));
      return take(src, a, at);
    }
    case Op::matmul: return matmul(*x, *y);
    case Op::linear: return zip(matmul(*x, *y), *in[2], [](Real a, Real b) { return a + b; });
    case Op::dot:
      if (x->shape.empty() || y->shape.empty()) return zip(*x, *y, [](Real a, Real b) { return a * b; });
      return matmul(*x, *y);
    case Op::outer: return matmul(Ref{{x->size(), 1}, x->v}, Ref{{1, y->size()}, y->v});
    case Op::solve: return solve(*x, *y);
    case Op::cholesky: return cholesky(*x);
    case Op::mse: {
      const Ref d = zip(*x, *y, [](Real a, Real b) { return (a - b) * (a - b); });
      return reduce(d, all_axes(d.shape), false, [](const std::vector<Real>& v) {
        return std::accumulate(v.begin(), v.end(), Real(0)) / static_cast<Real>(v.size());
      });
    }
    case Op::softmax_cross_entropy: {
      const std::size_t a = axis_of(n.axis, x->shape.size());
      const Ref terms = zip(along(*x, a, log_softmax_line), *y, [](Real l, Real p) { return -l * p; });
      return reduce(terms, {static_cast<std::ptrdiff_t>(a)}, false, [](const std::vector<Real>& v) {
        return std::accumulate(v.begin(), v.end(), Real(0));
      });
    }
    case Op::l2: {
      Real s = 0;
      for (const Ref* r : in)
        for (Real a : r->v) s += a * a;
      return {Shape{}, {s}};
    }
    case Op::arcsin: return map(*x, [](Real a) { return std::asin(a); });
    case Op::arccos: return map(*x, [](Real a) { return std::acos(a); });
    case Op::arctan: return map(*x, [](Real a) { return std::atan(a); });
    case Op::sinh: return map(*x, [](Real a) { return std::sinh(a); });
    case Op::cosh: return map(*x, [](Real a) { return std::cosh(a); });
    case Op::arcsinh: return map(*x, [](Real a) { return std::asinh(a); });
    case Op::arctanh: return map(*x, [](Real a) { return std::atanh(a); });
    case Op::erf: return map(*x, [](Real a) { return std::erf(a); });
    case Op::erfc: return map(*x, [](Real a) { return std::erfc(a); });
    case Op::log2: return map(*x, [](Real a) { return std::log2(a); });
    case Op::log10: return map(*x, [](Real a) { return std::log10(a); });
    case Op::exp2: return map(*x, [](Real a) { return std::exp2(a); });
    case Op::reciprocal: return map(*x, [](Real a) { return 1 / a; });
    case Op::rsqrt: return map(*x, [](Real a) { return 1 / std::sqrt(a); });
    case Op::silu: return map(*x, [](Real a) { return a / (1 + std::exp(-a)); });
    case Op::log_sigmoid: return map(*x, [](Real a) { return -std::log1p(std::exp(-a)); });
    case Op::gelu:  // the tanh form, gelu's default (approximate = true)
      return map(*x, [](Real a) {
        const Real c = std::sqrt(2 / std::acos(Real(-1)));
        return a / 2 * (1 + std::tanh(c * (a + Real(0.044715) * a * a * a)));
      });
    case Op::arctan2: return zip(*x, *y, [](Real a, Real b) { return std::atan2(a, b); });
    case Op::hypot: return zip(*x, *y, [](Real a, Real b) { return std::sqrt(a * a + b * b); });
    case Op::logaddexp:
      return zip(*x, *y, [](Real a, Real b) { return std::max(a, b) + std::log1p(std::exp(-std::fabs(a - b))); });
    case Op::cumsum: case Op::cumprod: {
      const bool product = n.op == Op::cumprod;
      return along(*x, axis_of(n.axis, x->shape.size()), [product](std::vector<Real> line) {
        for (std::size_t j = 1; j < line.size(); ++j) line[j] = product ? line[j - 1] * line[j] : line[j - 1] + line[j];
        return line;
      });
    }
    case Op::flip: case Op::roll: case Op::repeat: {
      const std::size_t a = axis_of(n.axis, x->shape.size()), len = x->shape[a];
      std::vector<std::size_t> at;
      if (n.op == Op::flip)
        for (std::size_t j = len; j-- > 0;) at.push_back(j);
      else if (n.op == Op::roll)
        for (std::size_t j = 0; j < len; ++j) {
          const auto l = static_cast<std::ptrdiff_t>(len);
          at.push_back(static_cast<std::size_t>(((static_cast<std::ptrdiff_t>(j) - n.start) % l + l) % l));
        }
      else
        for (std::size_t j = 0; j < len; ++j)
          for (std::ptrdiff_t r = 0; r < n.start; ++r) at.push_back(j);
      return take(*x, a, at);
    }
    case Op::sort:  // ties are kinks: record the gaps between neighbours
      return along(*x, axis_of(n.axis, x->shape.size()), [&](std::vector<Real> line) {
        std::stable_sort(line.begin(), line.end(),
                         [](Real a, Real b) { return !std::isnan(a) && (std::isnan(b) || a < b); });  // NaN last
        for (std::size_t j = 1; j < line.size(); ++j) record(line[j] - line[j - 1], line[j]);
        return line;
      });
    case Op::diagonal: {
      const std::size_t a1 = n.perm[0], a2 = n.perm[1];
      const auto rows = static_cast<std::ptrdiff_t>(x->shape[a1]), cols = static_cast<std::ptrdiff_t>(x->shape[a2]);
      Shape s;
      for (std::size_t d = 0; d < x->shape.size(); ++d)
        if (d != a1 && d != a2) s.push_back(x->shape[d]);
      std::vector<std::pair<std::size_t, std::size_t>> at;  // (row, column) of each diagonal element
      for (std::ptrdiff_t r = std::max<std::ptrdiff_t>(-n.start, 0), c2 = std::max<std::ptrdiff_t>(n.start, 0);
           r < rows && c2 < cols; ++r, ++c2)
        at.emplace_back(static_cast<std::size_t>(r), static_cast<std::size_t>(c2));
      s.push_back(at.size());
      Ref out = zeros(s);
      for (std::size_t i = 0; i < out.size(); ++i) {
        const auto idx = unravel(i, s);
        std::vector<std::size_t> src;
        std::size_t k = 0;
        for (std::size_t d = 0; d < x->shape.size(); ++d)
          src.push_back(d == a1 ? at[idx.back()].first : d == a2 ? at[idx.back()].second : idx[k++]);
        out.v[i] = x->v[ravel(src, x->shape)];
      }
      return out;
    }
    case Op::pad: {
      Shape s = x->shape;
      for (std::size_t d = 0; d < s.size(); ++d) s[d] += n.perm[2 * d] + n.perm[2 * d + 1];
      Ref out = zeros(s);
      for (std::size_t i = 0; i < out.size(); ++i) {
        auto idx = unravel(i, s);
        bool inside = true;
        for (std::size_t d = 0; d < s.size(); ++d) {
          inside = inside && idx[d] >= n.perm[2 * d] && idx[d] < n.perm[2 * d] + x->shape[d];
          idx[d] -= std::min(idx[d], n.perm[2 * d]);
        }
        out.v[i] = inside ? x->v[ravel(idx, x->shape)] : c;
      }
      return out;
    }
    case Op::tile: {  // reps as long as x's axes (the generator makes them so)
      Shape s = x->shape;
      for (std::size_t d = 0; d < s.size(); ++d) s[d] *= n.perm[d];
      Ref out = zeros(s);
      for (std::size_t i = 0; i < out.size(); ++i) {
        auto idx = unravel(i, s);
        for (std::size_t d = 0; d < s.size(); ++d) idx[d] %= x->shape[d];
        out.v[i] = x->v[ravel(idx, x->shape)];
      }
      return out;
    }
    case Op::einsum: return einsum(einsum_patterns[n.start], in);
    case Op::tensordot: return tensordot(*x, *y, static_cast<std::size_t>(n.start));
    case Op::solve_triangular: return solve_triangular(*x, *y, n.start != 0);
    case Op::inv: {
      Ref eye = zeros(x->shape);
      for (std::size_t i = 0; i < x->shape[0]; ++i) eye.v[i * x->shape[0] + i] = 1;
      return solve(*x, eye);
    }
    case Op::det: return {{}, {det(*x)}};
    case Op::conv2d: return conv2d(*x, *y, *in[2], n.perm);
    case Op::max_pool: return pool(*x, n.perm, [&](const std::vector<Real>& w) { return extreme(w, 1, br); });
    case Op::avg_pool:
      return pool(*x, n.perm, [&](const std::vector<Real>& w) {
        return std::accumulate(w.begin(), w.end(), Real(0)) / static_cast<Real>(n.perm[0] * n.perm[1]);
      });
    case Op::triu: case Op::tril: {
      Ref out = *x;
      const std::size_t rows = x->shape[x->shape.size() - 2], cols = x->shape.back();
      for (std::size_t i = 0; i < out.size(); ++i) {
        const auto d = static_cast<std::ptrdiff_t>(i % cols) - static_cast<std::ptrdiff_t>((i / cols) % rows);
        if (n.op == Op::triu ? d < n.start : d > n.start) out.v[i] = 0;
      }
      return out;
    }
  }
  throw std::logic_error("fuzz::apply: unknown op");
}

/// Every node's value for the inputs `theta` (all inputs' elements, flattened in order).
inline std::vector<Ref> evaluate(const Graph& g, const std::vector<Real>& theta, Branches* br) {
  std::vector<Ref> vals;
  vals.reserve(g.nodes.size());
  std::size_t offset = 0;  // inputs come first, in the order of g.inputs
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == Op::input) {
      Ref r = ref::zeros(n.shape);
      std::copy(theta.begin() + static_cast<std::ptrdiff_t>(offset),
                theta.begin() + static_cast<std::ptrdiff_t>(offset + r.size()), r.v.begin());
      offset += r.size();
      vals.push_back(std::move(r));
      continue;
    }
    std::vector<const Ref*> in;
    for (int a : n.args) in.push_back(&vals[static_cast<std::size_t>(a)]);
    vals.push_back(fuzz::apply(n, in, br));
  }
  return vals;
}

}  // namespace xgrad::fuzz
