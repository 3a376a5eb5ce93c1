#include "xgrad/ad/reduction.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;

namespace {

// Normalised, sorted, unique axes; an empty list means all axes.
std::vector<std::size_t> norm_axes(const Axes& axes, std::size_t ndim, const char* op, bool all_if_empty) {
  std::vector<std::size_t> out;
  if (axes.empty() && all_if_empty) {
    for (std::size_t i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (auto a : axes) out.push_back(normalize_axis(a, ndim, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw ShapeError(std::string("xgrad::") + op + ": repeated axis");
  return out;
}
Shape kept(const Shape& s, const std::vector<std::size_t>& axes) {
  Shape k = s;
  for (auto a : axes) k[a] = 1;
  return k;
}
Axes final_shape(const Shape& s, const std::vector<std::size_t>& axes, bool keepdims) {
  Axes f;
  for (std::size_t d = 0; d < s.size(); ++d)
    if (keepdims || !std::binary_search(axes.begin(), axes.end(), d)) f.push_back(static_cast<std::ptrdiff_t>(s[d]));
  return f;
}

// Strided reduction of x to shape k (k[d] == 1 on reduced axes): out = fold(init, x over each reduced block).
template <class F>
Array reduce_to(const Array& x, const Shape& k, double init, F fold) {
  Array out = Array::from_shape(k);
  std::fill(out.begin(), out.end(), init);
  const Shape s = shape_of(x);
  const std::size_t nd = s.size();
  std::vector<std::size_t> ostride(nd, 0), idx(nd, 0);
  for (std::size_t d = nd, st = 1; d-- > 0;) {
    ostride[d] = k[d] == 1 ? 0 : st;
    st *= k[d];
  }
  std::size_t off = 0;
  double* o = out.data();
  for (std::size_t i = 0, n = x.size(); i < n; ++i) {
    o[off] = fold(o[off], x.data()[i]);
    for (std::size_t d = nd; d-- > 0;) {
      off += ostride[d];
      if (++idx[d] < s[d]) break;
      off -= ostride[d] * s[d];
      idx[d] = 0;
    }
  }
  return out;
}

// Reduce with keepdims, then drop the reduced axes unless asked to keep them.
Tensor finish(const Tensor& r, const Shape& s, const std::vector<std::size_t>& axes, bool keepdims) {
  return keepdims ? r : reshape(r, final_shape(s, axes, keepdims));
}

// max/min with keepdims; the rule splits g among tied extrema.
Tensor extremum(const Tensor& x, const std::vector<std::size_t>& axes, bool largest, const char* op) {
  const Shape k = kept(x.shape(), axes);
  for (auto a : axes)
    if (x.shape()[a] == 0)
      throw ValueError(std::string("xgrad::") + op + ": zero-size reduction over axis " + std::to_string(a) +
                       " of shape " + shape_str(x.shape()));
  const double init = largest ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  Array v = reduce_to(x.value(), k, init, [largest](double acc, double a) {
    return std::isnan(a) || std::isnan(acc) ? std::numeric_limits<double>::quiet_NaN()
                                            : (largest ? std::max(acc, a) : std::min(acc, a));
  });
  return make(op, std::move(v), {x}, [](const Node& n, const Tensor& g, Grads& d) {
    const Shape xs = n.in(0).shape();
    const Array hit = kernels::binary(n.op, n.in(0).value(), n.out().value(),
                                      [](double a, double m) { return a == m || (a != a && m != m) ? 1.0 : 0.0; });
    const Array count = unbroadcast(hit, n.out().shape());
    const Array share = kernels::binary(n.op, hit, count, [](double h, double c) { return h / c; });
    d(0, broadcast_to(g, xs) * Tensor(share));
  });
}

// f(a, c, out, K) on each reduced block of x and of c (same shape; reduced axes moved last, so a block is K
// contiguous values); the result has x's shape.
template <class F>
Array blockwise(const Array& x, const Array& c, const std::vector<std::size_t>& axes, F f) {
  const std::size_t nd = x.dimension();
  std::vector<std::size_t> perm, inv(nd);
  for (std::size_t d = 0; d < nd; ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) perm.push_back(d);
  for (auto a : axes) perm.push_back(a);
  for (std::size_t i = 0; i < nd; ++i) inv[perm[i]] = i;
  const Array t = xt::transpose(x, perm), u = xt::transpose(c, perm);
  std::size_t kk = 1;
  for (auto a : axes) kk *= x.shape()[a];
  const std::size_t m = kk == 0 ? 0 : x.size() / kk;
  Array r = Array::from_shape(t.shape());
  for (std::size_t row = 0; row < m; ++row) f(t.data() + row * kk, u.data() + row * kk, r.data() + row * kk, kk);
  return xt::transpose(r, inv);
}

// out_j = prod_{i != j} a_i (the gradient of prod), exact with zeros: prefix times suffix products.
Array prod_others(const Array& x, const std::vector<std::size_t>& axes) {
  return blockwise(x, x, axes, [](const double* a, const double*, double* o, std::size_t k) {
    double acc = 1.0;
    for (std::size_t j = 0; j < k; ++j) o[j] = acc, acc *= a[j];
    acc = 1.0;
    for (std::size_t j = k; j-- > 0;) o[j] *= acc, acc *= a[j];
  });
}

// out_j = sum_{k != j} c_k prod_{i != j, k} a_i (the Hessian of prod times c), exact with zeros, in O(K): with
// L_j = sum_{k<j} c_k prod_{i<j, i!=k} a_i and R_j its mirror, out_j = L_j * suffix_j + prefix_j * R_j.
Array prod_pairs(const Array& x, const Array& c, const std::vector<std::size_t>& axes) {
  std::vector<double> pre;
  return blockwise(x, c, axes, [&pre](const double* a, const double* g, double* o, std::size_t k) {
    pre.resize(k);
    double l = 0.0, p = 1.0;
    for (std::size_t j = 0; j < k; ++j) o[j] = l, pre[j] = p, l = l * a[j] + g[j] * p, p *= a[j];
    double r = 0.0, s = 1.0;
    for (std::size_t j = k; j-- > 0;) o[j] = o[j] * s + pre[j] * r, r = r * a[j] + g[j] * s, s *= a[j];
  });
}

}  // namespace

Tensor sum(const Tensor& x) { return sum(x, {}, false); }
Tensor sum(const Tensor& x, const Axes& axes, bool keepdims) {
  const auto ax = norm_axes(axes, x.ndim(), "sum", true);
  return finish(sum_to(x, kept(x.shape(), ax)), x.shape(), ax, keepdims);
}

Tensor mean(const Tensor& x) { return mean(x, {}, false); }
Tensor mean(const Tensor& x, const Axes& axes, bool keepdims) {
  const auto ax = norm_axes(axes, x.ndim(), "mean", true);
  std::size_t count = 1;
  for (auto a : ax) count *= x.shape()[a];
  if (count == 0) throw ValueError("xgrad::mean: mean of an empty reduction of shape " + shape_str(x.shape()));
  return sum(x, axes, keepdims) / static_cast<double>(count);
}

Tensor max(const Tensor& x) { return max(x, {}, false); }
Tensor max(const Tensor& x, const Axes& axes, bool keepdims) {
  const auto ax = norm_axes(axes, x.ndim(), "max", true);
  return finish(extremum(x, ax, true, "max"), x.shape(), ax, keepdims);
}
Tensor min(const Tensor& x) { return min(x, {}, false); }
Tensor min(const Tensor& x, const Axes& axes, bool keepdims) {
  const auto ax = norm_axes(axes, x.ndim(), "min", true);
  return finish(extremum(x, ax, false, "min"), x.shape(), ax, keepdims);
}

namespace {
// prod -> prod_others (its gradient) -> prod_pairs (its Hessian-vector product): exact with zeros through second
// order. Third derivatives use prod_pairs' derivative in x, sum_{k != j, m} e_j c_k prod_{i != j, k, m} x_i, by
// division by x_m, which needs x != 0.
std::vector<std::size_t> axes_of(const Node& n) { return {n.ints().begin(), n.ints().end()}; }

Tensor prod_pairs_op(const Tensor& x, const Tensor& c, const Axes& ints) {
  return make("prod_pairs", prod_pairs(x.value(), c.value(), {ints.begin(), ints.end()}), {x, c},
              [](const Node& n, const Tensor& e, Grads& d) {
                const Tensor &x = n.in(0), &c = n.in(1);
                const Tensor pe = prod_pairs_op(x, e, n.ints());  // the pairwise products are symmetric in j, k
                if (d.needs(1)) d(1, pe);
                if (!d.needs(0)) return;
                for (double v : x.value())
                  if (v == 0.0)
                    throw Error("xgrad::prod: third derivatives of prod at inputs containing zeros are not "
                                "implemented");
                const Tensor eo = e * n.out();
                d(0, (broadcast_to(sum_to(eo, kept(x.shape(), axes_of(n))), x.shape()) - eo - c * pe) / x);
              },
              {.ints = ints});
}

Tensor prod_others_op(const Tensor& x, const Axes& ints) {
  return make("prod_others", prod_others(x.value(), {ints.begin(), ints.end()}), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, prod_pairs_op(n.in(0), g, n.ints())); },
              {.ints = ints});
}

Tensor prod_keep(const Tensor& x, const std::vector<std::size_t>& ax) {
  Array v = reduce_to(x.value(), kept(x.shape(), ax), 1.0, [](double acc, double a) { return acc * a; });
  return make("prod", std::move(v), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                d(0, broadcast_to(g, n.in(0).shape()) * prod_others_op(n.in(0), n.ints()));
              },
              {.ints = {ax.begin(), ax.end()}});
}
}  // namespace

Tensor prod(const Tensor& x) { return prod(x, {}, false); }
Tensor prod(const Tensor& x, const Axes& axes, bool keepdims) {
  const auto ax = norm_axes(axes, x.ndim(), "prod", true);
  return finish(prod_keep(x, ax), x.shape(), ax, keepdims);
}

namespace {
Tensor logsumexp_keep(const Tensor& x, const std::vector<std::size_t>& ax) {
  const Shape k = kept(x.shape(), ax);
  for (auto a : ax)
    if (x.shape()[a] == 0)
      throw ValueError("xgrad::logsumexp: zero-size reduction over axis " + std::to_string(a) + " of shape " +
                       shape_str(x.shape()));
  const double ninf = -std::numeric_limits<double>::infinity();
  const Array m = reduce_to(x.value(), k, ninf, [](double acc, double a) { return std::max(acc, a); });
  // Shift by the max (0 where the max is infinite, so inf - inf never appears).
  const Array shift = kernels::unary(m, [](double v) { return std::isfinite(v) ? v : 0.0; });
  const Array e = kernels::binary("logsumexp", x.value(), shift, [](double a, double s) { return std::exp(a - s); });
  const Array s = reduce_to(e, k, 0.0, [](double acc, double a) { return acc + a; });
  Array v = kernels::binary("logsumexp", s, shift, [](double a, double b) { return std::log(a) + b; });
  return make("logsumexp", std::move(v), {x}, [](const Node& n, const Tensor& g, Grads& d) {
    const Shape xs = n.in(0).shape();
    d(0, broadcast_to(g, xs) * exp(n.in(0) - broadcast_to(n.out(), xs)));
  });
}
}  // namespace

Tensor logsumexp(const Tensor& x) {
  const auto ax = norm_axes({}, x.ndim(), "logsumexp", true);
  return finish(logsumexp_keep(x, ax), x.shape(), ax, false);
}
Tensor logsumexp(const Tensor& x, std::ptrdiff_t axis, bool keepdims) {
  const auto ax = norm_axes({axis}, x.ndim(), "logsumexp", false);
  return finish(logsumexp_keep(x, ax), x.shape(), ax, keepdims);
}

Tensor log_softmax(const Tensor& x, std::ptrdiff_t axis) {
  const auto ax = norm_axes({axis}, x.ndim(), "log_softmax", false);
  if (x.shape()[ax[0]] == 0) return x;  // nothing to normalise: empty, as scipy.special and jax.nn return
  return x - broadcast_to(logsumexp_keep(x, ax), x.shape());
}
Tensor softmax(const Tensor& x, std::ptrdiff_t axis) {
  normalize_axis(axis, x.ndim(), "softmax");  // errors name the user's call, not log_softmax
  return exp(log_softmax(x, axis));
}

namespace {
Tensor norm_keep(const Tensor& x, const std::vector<std::size_t>& ax) {
  const Shape k = kept(x.shape(), ax);
  Array v = kernels::unary(reduce_to(x.value(), k, 0.0, [](double acc, double a) { return acc + a * a; }),
                           [](double s) { return std::sqrt(s); });
  return make("norm", std::move(v), {x}, [](const Node& n, const Tensor& g, Grads& d) {
    const Shape xs = n.in(0).shape();
    // x / |x|, with 0 where |x| = 0 (then x = 0 too, and 0 / 1 = 0).
    const Tensor safe = n.out() + Tensor(kernels::unary(n.out().value(), [](double r) { return r == 0.0 ? 1.0 : 0.0; }));
    d(0, broadcast_to(g / safe, xs) * n.in(0));
  });
}
}  // namespace

Tensor norm(const Tensor& x) { return norm(x, {}, false); }
Tensor norm(const Tensor& x, const Axes& axes, bool keepdims) {
  const auto ax = norm_axes(axes, x.ndim(), "norm", true);
  return finish(norm_keep(x, ax), x.shape(), ax, keepdims);
}

// --- variance, standard deviation, cumulative sums, arg-extrema -------------------------------------------------

Tensor var(const Tensor& x, const Axes& axes, double ddof, bool keepdims) {
  const auto ax = norm_axes(axes, x.ndim(), "var", true);
  double count = 1;
  for (auto a : ax) count *= double(x.shape()[a]);
  if (!(count - ddof > 0))
    throw ValueError("xgrad::var: " + std::to_string(count) + " elements with ddof " + std::to_string(ddof) +
                     " (shape " + shape_str(x.shape()) + "): the divisor count - ddof must be positive");
  // Composed of ops: differentiable to any order (the two-pass formula, as numpy).
  return sum(square(x - mean(x, axes, true)), axes, keepdims) / (count - ddof);
}
Tensor var(const Tensor& x) { return var(x, {}, 0.0, false); }
Tensor stddev(const Tensor& x, const Axes& axes, double ddof, bool keepdims) { return sqrt(var(x, axes, ddof, keepdims)); }
Tensor stddev(const Tensor& x) { return sqrt(var(x)); }

namespace {
// Cumulative sum along `axis` (reverse: from the end). Each direction's adjoint is the other direction.
Array cumulative(const Array& x, std::size_t axis, bool reverse) {
  Array out = x;
  const auto l = kernels::lines_along(shape_of(x), axis);
  double* o = out.data();
  for (std::size_t a = 0; a < l.outer; ++a)
    for (std::size_t b = 0; b < l.inner; ++b) {
      double acc = 0.0;
      for (std::size_t k = 0; k < l.n; ++k) {
        const std::size_t i = l.at(a, reverse ? l.n - 1 - k : k, b);
        acc += o[i];
        o[i] = acc;
      }
    }
  return out;
}
Tensor cumsum_op(const Tensor& x, std::size_t axis, bool reverse) {
  return make(reverse ? "cumsum_reverse" : "cumsum", cumulative(x.value(), axis, reverse), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                d(0, cumsum_op(g, static_cast<std::size_t>(n.ints()[0]), n.ints()[1] == 0));
              },
              ad::Extra{.ints = {static_cast<std::ptrdiff_t>(axis), reverse ? 1 : 0}});
}
Array arg_extremum(const Tensor& x, std::ptrdiff_t axis, bool largest, const char* op) {
  if (x.size() == 0) throw ValueError(std::string("xgrad::") + op + ": an empty array of shape " + shape_str(x.shape()));
  const std::size_t ax = normalize_axis(axis, x.ndim(), op);
  const auto l = kernels::lines_along(x.shape(), ax);
  Array out = Array::from_shape(kernels::without_axis(x.shape(), ax));
  const double* v = x.value().data();
  for (std::size_t a = 0; a < l.outer; ++a)
    for (std::size_t b = 0; b < l.inner; ++b) {
      std::size_t best = 0;
      double bv = v[l.at(a, 0, b)];
      for (std::size_t k = 1; k < l.n; ++k) {
        const double c = v[l.at(a, k, b)];
        if (std::isnan(bv)) break;  // numpy: the first NaN wins
        if (std::isnan(c) || (largest ? c > bv : c < bv)) best = k, bv = c;
      }
      out.data()[a * l.inner + b] = double(best);
    }
  return out;
}
}  // namespace

Tensor cumsum(const Tensor& x) { return cumsum_op(reshape(x, {-1}), 0, false); }
Tensor cumsum(const Tensor& x, std::ptrdiff_t axis) { return cumsum_op(x, normalize_axis(axis, x.ndim(), "cumsum"), false); }

Tensor cumprod(const Tensor& x) { return cumprod(reshape(x, {-1}), 0); }
Tensor cumprod(const Tensor& x, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::cumprod: a zero-dimensional tensor has no axis (use cumprod(x))");
  const std::size_t a = normalize_axis(axis, x.ndim(), "cumprod");
  const auto n = static_cast<std::ptrdiff_t>(x.shape()[a]);
  // Hillis-Steele: after the step with shift s, y[i] is the product of x[i - 2s + 1 .. i] (indices below 0 count 1).
  Tensor y = x;
  for (std::ptrdiff_t s = 1; s < n; s *= 2) {
    Shape ones_shape = x.shape();
    ones_shape[a] = static_cast<std::size_t>(s);
    y = y * concatenate({Tensor(Array(xt::ones<double>(ones_shape))), slice(y, static_cast<std::ptrdiff_t>(a), 0, n - s)},
                        static_cast<std::ptrdiff_t>(a));
  }
  return y;
}

namespace {
// 1.0 where any (every) element along `axis` of `v` is nonzero.
Array truth_along(const Tensor& x, std::size_t axis, bool every) {
  const auto l = kernels::lines_along(x.shape(), axis);
  Array out = Array::from_shape(kernels::without_axis(x.shape(), axis));
  const double* v = x.value().data();
  for (std::size_t a = 0; a < l.outer; ++a)
    for (std::size_t b = 0; b < l.inner; ++b) {
      bool r = every;
      for (std::size_t k = 0; k < l.n && r == every; ++k) r = v[l.at(a, k, b)] != 0.0;  // NaN != 0
      out.data()[a * l.inner + b] = r ? 1.0 : 0.0;
    }
  return out;
}
}  // namespace

Array any(const Tensor& x) { return truth_along(reshape(stop_gradient(x), {-1}), 0, false); }
Array any(const Tensor& x, std::ptrdiff_t axis) { return truth_along(x, normalize_axis(axis, x.ndim(), "any"), false); }
Array all(const Tensor& x) { return truth_along(reshape(stop_gradient(x), {-1}), 0, true); }
Array all(const Tensor& x, std::ptrdiff_t axis) { return truth_along(x, normalize_axis(axis, x.ndim(), "all"), true); }

Array argmax(const Tensor& x) { return arg_extremum(reshape(stop_gradient(x), {-1}), 0, true, "argmax"); }
Array argmax(const Tensor& x, std::ptrdiff_t axis) { return arg_extremum(x, axis, true, "argmax"); }
Array argmin(const Tensor& x) { return arg_extremum(reshape(stop_gradient(x), {-1}), 0, false, "argmin"); }
Array argmin(const Tensor& x, std::ptrdiff_t axis) { return arg_extremum(x, axis, false, "argmin"); }

}  // namespace xgrad
