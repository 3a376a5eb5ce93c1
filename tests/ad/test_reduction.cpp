#include <cmath>
#include <limits>

#include "check.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::sample;

namespace {

const double inf = std::numeric_limits<double>::infinity();

// Reference reduction by loops: every element of x is folded into the output element its index maps to once the
// reduced axes are dropped (or kept with extent 1). `axes` may be negative; empty means all axes.
template <class F>
Array ref_reduce(const Array& x, const Axes& axes, bool keepdims, double init, F fold) {
  const Shape s = shape_of(x);
  const std::size_t nd = s.size();
  std::vector<bool> reduced(nd, axes.empty());
  for (auto a : axes) reduced[static_cast<std::size_t>(a < 0 ? a + static_cast<std::ptrdiff_t>(nd) : a)] = true;
  Shape os;
  for (std::size_t d = 0; d < nd; ++d)
    if (!reduced[d])
      os.push_back(s[d]);
    else if (keepdims)
      os.push_back(1);
  Array out = Array::from_shape(os);
  std::fill(out.begin(), out.end(), init);
  std::vector<std::size_t> idx(nd);
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::size_t r = i, o = 0;
    for (std::size_t d = nd; d-- > 0;) idx[d] = r % s[d], r /= s[d];
    for (std::size_t d = 0; d < nd; ++d)
      if (!reduced[d]) o = o * s[d] + idx[d];
    out.data()[o] = fold(out.data()[o], x.data()[i]);
  }
  return out;
}

std::size_t count_of(const Shape& s, const Axes& axes) {
  std::size_t c = 1;
  for (std::size_t d = 0; d < s.size(); ++d) {
    bool r = axes.empty();
    for (auto a : axes) r = r || static_cast<std::size_t>(a < 0 ? a + static_cast<std::ptrdiff_t>(s.size()) : a) == d;
    if (r) c *= s[d];
  }
  return c;
}

Array ref_sum(const Array& x, const Axes& ax, bool kd) {
  return ref_reduce(x, ax, kd, 0.0, [](double a, double v) { return a + v; });
}
Array ref_mean(const Array& x, const Axes& ax, bool kd) {
  return Array(ref_sum(x, ax, kd) / static_cast<double>(count_of(shape_of(x), ax)));
}
Array ref_max(const Array& x, const Axes& ax, bool kd) {
  return ref_reduce(x, ax, kd, -inf, [](double a, double v) { return std::max(a, v); });
}
Array ref_min(const Array& x, const Axes& ax, bool kd) {
  return ref_reduce(x, ax, kd, inf, [](double a, double v) { return std::min(a, v); });
}
Array ref_prod(const Array& x, const Axes& ax, bool kd) {
  return ref_reduce(x, ax, kd, 1.0, [](double a, double v) { return a * v; });
}
Array ref_norm(const Array& x, const Axes& ax, bool kd) {
  return Array(xt::sqrt(ref_reduce(x, ax, kd, 0.0, [](double a, double v) { return a + v * v; })));
}
// Inputs in [-1, 1] are mild for logsumexp: no shift needed in the reference.
Array ref_logsumexp(const Array& x, const Axes& ax, bool kd) {
  return Array(xt::log(ref_reduce(x, ax, kd, 0.0, [](double a, double v) { return a + std::exp(v); })));
}

// Distinct values 0.1 apart in a scrambled order (no ties: max/min are differentiable there).
Array spread(const Shape& s) {
  Array a = Array::from_shape(s);
  const std::size_t n = a.size();
  for (std::size_t i = 0; i < n; ++i)
    a.data()[i] = 0.1 * static_cast<double>((i * 7) % n) - 0.05 * static_cast<double>(n);
  return a;
}
// Values in [-1.5, -0.5] U [0.5, 1.5]: products and norms stay away from their kinks.
Array away_from_zero(const Shape& s, std::uint64_t seed = 2) {
  Array a = sample(s, -1.0, 1.0, seed);
  return Array(a + 0.5 * xt::where(a < 0.0, -1.0, 1.0));
}

// Shapes with the axis lists to reduce over on each (empty = all axes).
struct ShapeAxes {
  Shape shape;
  std::vector<Axes> axes;
};
const std::vector<ShapeAxes> reduction_cases{
    {{}, {{}}},
    {{4}, {{}, {0}, {-1}}},
    {{2, 3}, {{}, {0}, {1}, {-1}, {-2}, {0, 1}, {-1, 0}}},
    {{2, 3, 4}, {{}, {0}, {1}, {2}, {-1}, {0, 2}, {-1, 0}, {1, 2}, {0, 1, 2}}},
};

std::string axes_str(const Axes& ax) {
  std::string s = "{";
  for (auto a : ax) s += std::to_string(a) + ",";
  return s + "}";
}

Shape expected_shape(const Shape& s, const Axes& ax, bool keepdims) {
  return shape_of(ref_sum(xt::zeros<double>(s), ax, keepdims));
}

}  // namespace

TEST_CASE("reductions over all, single, multiple and negative axes: values, shapes, first/second derivatives") {
  struct Case {
    const char* name;
    Tensor (*full)(const Tensor&);
    Tensor (*along)(const Tensor&, const Axes&, bool);
    Array (*ref)(const Array&, const Axes&, bool);
    Array (*input)(const Shape&);
  };
  const std::vector<Case> cases{
      {"sum", [](const Tensor& x) { return sum(x); },
       [](const Tensor& x, const Axes& a, bool k) { return sum(x, a, k); }, ref_sum,
       [](const Shape& s) { return sample(s); }},
      {"mean", [](const Tensor& x) { return mean(x); },
       [](const Tensor& x, const Axes& a, bool k) { return mean(x, a, k); }, ref_mean,
       [](const Shape& s) { return sample(s); }},
      {"max", [](const Tensor& x) { return max(x); },
       [](const Tensor& x, const Axes& a, bool k) { return max(x, a, k); }, ref_max, spread},
      {"min", [](const Tensor& x) { return min(x); },
       [](const Tensor& x, const Axes& a, bool k) { return min(x, a, k); }, ref_min, spread},
      {"prod", [](const Tensor& x) { return prod(x); },
       [](const Tensor& x, const Axes& a, bool k) { return prod(x, a, k); }, ref_prod,
       [](const Shape& s) { return away_from_zero(s); }},
      {"norm", [](const Tensor& x) { return norm(x); },
       [](const Tensor& x, const Axes& a, bool k) { return norm(x, a, k); }, ref_norm,
       [](const Shape& s) { return away_from_zero(s); }},
  };
  for (const auto& c : cases)
    for (const auto& sc : reduction_cases) {
      const std::string name = c.name;
      CAPTURE(name);
      CAPTURE(shape_str(sc.shape));
      const Array a = c.input(sc.shape);
      // The one-argument form reduces everything to a 0-d tensor.
      const Tensor all = c.full(Tensor(a));
      check_close(all.value(), c.ref(a, {}, false));
      XGRAD_CHECK_GRADS(c.full, Tensor(a));
      for (const auto& ax : sc.axes)
        for (bool keepdims : {false, true}) {
          const std::string axes = axes_str(ax);
          CAPTURE(axes);
          CAPTURE(keepdims);
          const Tensor y = c.along(Tensor(a), ax, keepdims);
          CHECK(y.shape() == expected_shape(sc.shape, ax, keepdims));
          check_close(y.value(), c.ref(a, ax, keepdims));
          XGRAD_CHECK_GRADS([&](const Tensor& x) { return c.along(x, ax, keepdims); }, Tensor(a));
        }
    }
}

TEST_CASE("reduced shapes follow numpy's axis/keepdims rules") {
  const Tensor t(sample({2, 3, 4}));
  CHECK(sum(t).shape() == Shape{});
  CHECK(sum(t, {1}).shape() == Shape{2, 4});
  CHECK(sum(t, {0, 2}, true).shape() == Shape{1, 3, 1});
  CHECK(mean(t, {0}, true).shape() == Shape{1, 3, 4});
  CHECK(max(t, {-1}).shape() == Shape{2, 3});
  CHECK(norm(t, {-3, -1}).shape() == Shape{3});
  CHECK(prod(t, {}, true).shape() == Shape{1, 1, 1});  // an empty axis list means all axes
  CHECK(sum(Tensor(2.5)).item() == 2.5);
  CHECK(sum(Tensor(2.5), {}, true).shape() == Shape{});
  CHECK_THROWS_AS(sum(t, {3}), ShapeError);
  CHECK_THROWS_AS(sum(t, {-4}), ShapeError);
  CHECK_THROWS_AS(sum(t, {1, -2}), ShapeError);  // the same axis twice
  CHECK_THROWS_AS(logsumexp(t, 3), ShapeError);
}

TEST_CASE("the documented call forms compile and compute the right thing") {
  const Array a{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  const Tensor t(a);
  CHECK(sum(t).item() == 21.0);
  check_close(sum(t, {1}).value(), Array{6.0, 15.0});
  check_close(mean(t, {0}, true).value(), Array{{2.5, 3.5, 4.5}});
  const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  check_close(logsumexp(t, 1).value(), Array{l0, l0 + 3.0});
  check_close(log_softmax(t, 1).value(), Array{{1.0 - l0, 2.0 - l0, 3.0 - l0}, {1.0 - l0, 2.0 - l0, 3.0 - l0}});
}

TEST_CASE("reductions over an empty axis") {
  const Tensor e(Array::from_shape({0, 3}));
  // The sum of nothing is 0, the product of nothing 1, the norm of nothing 0.
  check_close(sum(e, {0}).value(), xt::zeros<double>({3}));
  check_close(sum(e, {0}, true).value(), xt::zeros<double>({1, 3}));
  CHECK(sum(e).item() == 0.0);
  check_close(prod(e, {0}).value(), xt::ones<double>({3}));
  check_close(norm(e, {0}).value(), xt::zeros<double>({3}));
  // Reducing the non-empty axis gives an empty result.
  CHECK(sum(e, {1}).shape() == Shape{0});
  CHECK(max(e, {1}).shape() == Shape{0});
  CHECK(mean(e, {1}).shape() == Shape{0});
  // The gradient of the empty sum is empty too.
  const Tensor g = grad([](const Tensor& x) { return sum(sum(x, {0})); })(e);
  CHECK(g.shape() == Shape{0, 3});
  // Mean, max, min and logsumexp of nothing are undefined.
  CHECK_THROWS_AS(mean(e, {0}), ValueError);
  CHECK_THROWS_AS(mean(e), ValueError);
  CHECK_THROWS_AS(max(e, {0}), ValueError);
  CHECK_THROWS_AS(max(e), ValueError);
  CHECK_THROWS_AS(min(e, {-2}, true), ValueError);
  CHECK_THROWS_AS(logsumexp(e, 0), ValueError);
}

TEST_CASE("max and min propagate NaN as numpy does, and their cotangent goes to the NaN") {
  const double nan = std::nan("");
  CHECK(std::isnan(min(Tensor(Array{1.0, nan})).item()));
  CHECK(std::isnan(max(Tensor(Array{nan, 1.0})).item()));
  const Tensor m(Array{{1.0, nan, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor r = max(m, {1});
  CHECK(std::isnan(r.value()(0)));
  CHECK(r.value()(1) == 6.0);
  const Tensor g = grad([](const Tensor& t) { return sum(min(t, {1})); })(m);
  check_close(g.value(), Array{{0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}});
}

TEST_CASE("softmax and log_softmax over an empty axis are empty, as in scipy and jax.nn") {
  const Tensor e(Array::from_shape({2, 0}));
  CHECK(softmax(e).shape() == Shape{2, 0});
  CHECK(log_softmax(e, 1).shape() == Shape{2, 0});
  CHECK(grad([](const Tensor& t) { return sum(softmax(t)); })(e).shape() == Shape{2, 0});
  CHECK_THROWS_WITH_AS(softmax(Tensor(Array{1.0}), 1), doctest::Contains("softmax"), ShapeError);
}

TEST_CASE("max and min split the cotangent equally among ties") {
  const Tensor x(Array{1.0, 3.0, 3.0, 2.0});
  CHECK(max(x).item() == 3.0);
  check_close(grad([](const Tensor& t) { return max(t); })(x).value(), Array{0.0, 0.5, 0.5, 0.0});
  const Tensor y(Array{1.0, -2.0, -2.0, -2.0});
  CHECK(min(y).item() == -2.0);
  check_close(grad([](const Tensor& t) { return min(t); })(y).value(), Array{0.0, 1.0 / 3, 1.0 / 3, 1.0 / 3});
  // Along an axis: each row's cotangent is shared among that row's ties only.
  const Tensor m(Array{{1.0, 1.0, 0.0}, {2.0, 0.0, -1.0}});
  const Array w{10.0, 100.0};
  const Tensor gm = grad([&](const Tensor& t) { return sum(max(t, {1}) * Tensor(w)); })(m);
  check_close(gm.value(), Array{{5.0, 5.0, 0.0}, {100.0, 0.0, 0.0}});
  const Tensor gn =
      grad([&](const Tensor& t) { return sum(min(t, {0}, true)); })(Tensor(Array{{1.0, 0.0}, {1.0, 2.0}}));
  check_close(gn.value(), Array{{0.5, 1.0}, {0.5, 0.0}});
  // NaN propagates, as in numpy.
  CHECK(std::isnan(max(Tensor(Array{1.0, std::nan(""), 3.0})).item()));
  CHECK(std::isnan(min(Tensor(Array{std::nan(""), 3.0})).item()));
  // The second derivative of a piecewise-linear function is 0.
  const Array h = hessian([](const Tensor& t) { return max(t); })(Tensor(Array{1.0, 3.0, 2.0}));
  check_close(h, xt::zeros<double>({3, 3}));
}

TEST_CASE("prod with zeros: the gradient is the exact product of the others") {
  const Tensor x(Array{2.0, 0.0, 3.0, 4.0});
  CHECK(prod(x).item() == 0.0);
  check_close(grad([](const Tensor& t) { return prod(t); })(x).value(), Array{0.0, 24.0, 0.0, 0.0});
  const Tensor two(Array{0.0, 5.0, 0.0});
  check_close(grad([](const Tensor& t) { return prod(t); })(two).value(), Array{0.0, 0.0, 0.0});
  // Along an axis: one row has a zero, the other not.
  const Tensor m(Array{{2.0, 0.0, 3.0}, {1.0, 2.0, 3.0}});
  check_close(prod(m, {1}).value(), Array{0.0, 6.0});
  const Tensor gm = grad([](const Tensor& t) { return sum(prod(t, {-1})); })(m);
  check_close(gm.value(), Array{{0.0, 6.0, 0.0}, {6.0, 3.0, 2.0}});
  // The Hessian of prod(x) = x0 x1 x2 is [[0, x2, x1], [x2, 0, x0], [x1, x0, 0]]: exact away from and at zeros.
  auto hess = [](const Array& v) { return hessian([](const Tensor& t) { return prod(t); })(Tensor(v)); };
  check_close(hess(Array{2.0, 3.0, 5.0}), Array{{0.0, 5.0, 3.0}, {5.0, 0.0, 2.0}, {3.0, 2.0, 0.0}});
  check_close(hess(Array{0.0, 3.0, 5.0}), Array{{0.0, 5.0, 3.0}, {5.0, 0.0, 0.0}, {3.0, 0.0, 0.0}});
  check_close(hess(Array{0.0, 0.0, 5.0}), Array{{0.0, 5.0, 0.0}, {5.0, 0.0, 0.0}, {0.0, 0.0, 0.0}});
  check_close(hess(Array{0.0, 0.0, 0.0}), xt::zeros<double>({3, 3}));
  check_close(hess(Array{1e-12, 3.0, 5.0}), Array{{0.0, 5.0, 3.0}, {5.0, 0.0, 1e-12}, {3.0, 1e-12, 0.0}}, 1e-14);
  // Hessian-vector products along an axis with a zero in one block, against the same formula by loops.
  const Array z{{0.0, 2.0, 3.0}, {1.5, -1.0, 0.5}}, v = sample({2, 3}, -1.0, 1.0, 8);
  const Tensor hv = hvp(
      [](const Tensor& t) {
        return sum(prod(t, {1}) * Tensor(Array{1.0, -2.0}));
      },
      Tensor(z), Tensor(v));
  Array want = xt::zeros<double>({2, 3});
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 3; ++k)
        if (k != j) want(r, j) += (r == 0 ? 1.0 : -2.0) * v(r, k) * z(r, 3 - j - k);
  check_close(hv.value(), want);
  // First and second derivatives of the gradient (so up to third derivatives of prod) away from zeros; at zeros
  // the gradient's first derivative (prod's Hessian) is checked against finite differences.
  auto gprod = [](const Tensor& t) { return grad([](const Tensor& u) { return sum(prod(u, {-1})); })(t); };
  XGRAD_CHECK_GRADS(gprod, Tensor(away_from_zero({2, 3})));
  auto r1 = check_grads(gprod, Tensor(Array{{0.0, 2.0, 3.0}, {0.0, 0.0, 0.5}}), 1);
  INFO(r1.report());
  CHECK(r1.ok);
}

TEST_CASE("logsumexp: all axes and each axis, values and derivatives; large inputs stay finite") {
  for (const auto& sc : reduction_cases) {
    CAPTURE(shape_str(sc.shape));
    const Array a = sample(sc.shape, -1.0, 1.0, 4);
    check_close(logsumexp(Tensor(a)).value(), ref_logsumexp(a, {}, false));
    XGRAD_CHECK_GRADS([](const Tensor& x) { return logsumexp(x); }, Tensor(a));
    const auto nd = static_cast<std::ptrdiff_t>(sc.shape.size());
    for (std::ptrdiff_t axis = -nd; axis < nd; ++axis)
      for (bool keepdims : {false, true}) {
        CAPTURE(axis);
        CAPTURE(keepdims);
        const Tensor y = logsumexp(Tensor(a), axis, keepdims);
        check_close(y.value(), ref_logsumexp(a, {axis}, keepdims));
        XGRAD_CHECK_GRADS([&](const Tensor& x) { return logsumexp(x, axis, keepdims); }, Tensor(a));
      }
  }
  const Tensor big(Array{1000.0, 1000.0});
  const double l = logsumexp(big).item();
  CHECK(std::isfinite(l));
  CHECK(l == doctest::Approx(1000.0 + std::log(2.0)));
  check_close(grad([](const Tensor& t) { return logsumexp(t); })(big).value(), Array{0.5, 0.5});
  CHECK(logsumexp(Tensor(Array{-1000.0, -1000.0})).item() == doctest::Approx(-1000.0 + std::log(2.0)));
  // Rows of very different magnitude, each shifted by its own max.
  const Tensor rows(Array{{1000.0, 999.0}, {-1000.0, -1001.0}});
  const double l1 = std::log1p(std::exp(-1.0));
  check_close(logsumexp(rows, 1).value(), Array{1000.0 + l1, -1000.0 + l1});
  check_close(log_softmax(rows, 1).value(), Array{{-l1, -1.0 - l1}, {-l1, -1.0 - l1}});
  // -inf entries contribute nothing; an all -inf row gives -inf.
  CHECK(logsumexp(Tensor(Array{-inf, 0.0})).item() == 0.0);
  CHECK(logsumexp(Tensor(Array{-inf, -inf})).item() == -inf);
}

TEST_CASE("softmax and log_softmax along each axis: values, normalisation, derivatives") {
  for (const auto& s : std::vector<Shape>{{4}, {2, 3}, {2, 3, 4}}) {
    CAPTURE(shape_str(s));
    const Array a = sample(s, -2.0, 2.0, 6);
    const auto nd = static_cast<std::ptrdiff_t>(s.size());
    for (std::ptrdiff_t axis = -nd; axis < nd; ++axis) {
      CAPTURE(axis);
      // exp(x) / sum(exp(x)) along the axis, by loops.
      const Array lse = ref_logsumexp(a, {axis}, true);
      const Array want_log = a - lse;
      const Array want = xt::exp(want_log);
      const Tensor p = softmax(Tensor(a), axis);
      const Tensor lp = log_softmax(Tensor(a), axis);
      check_close(p.value(), want);
      check_close(lp.value(), want_log);
      check_close(ref_sum(p.value(), {axis}, false), xt::ones<double>(shape_of(ref_sum(a, {axis}, false))));
      XGRAD_CHECK_GRADS([&](const Tensor& x) { return softmax(x, axis); }, Tensor(a));
      XGRAD_CHECK_GRADS([&](const Tensor& x) { return log_softmax(x, axis); }, Tensor(a));
    }
    // The default axis is the last one.
    check_close(softmax(Tensor(a)).value(), softmax(Tensor(a), nd - 1).value(), 1e-15);
    check_close(log_softmax(Tensor(a)).value(), log_softmax(Tensor(a), nd - 1).value(), 1e-15);
  }
  // Large logits: no overflow, no NaN.
  const Tensor p = softmax(Tensor(Array{1000.0, 0.0, -1000.0}));
  check_close(p.value(), Array{1.0, 0.0, 0.0});
  const Tensor g = grad([](const Tensor& t) {
    return sum(softmax(t) * Tensor(Array{1.0, 2.0, 3.0}));
  })(Tensor(Array{1000.0, 1000.0, -1000.0}));
  // d/dx_i sum_j w_j p_j = p_i (w_i - sum_j w_j p_j), with p = (1/2, 1/2, 0): (-1/4, 1/4, 0).
  check_close(g.value(), Array{-0.25, 0.25, 0.0});
  // The gradient of the sum of each softmax row is 0 (the rows always sum to 1).
  const Tensor z = grad([](const Tensor& t) { return sum(softmax(t, 0)); })(Tensor(sample({3, 2})));
  for (double v : z.value()) CHECK(v == doctest::Approx(0.0).epsilon(1e-12));
}

TEST_CASE("norm: values, gradient x / |x|, and gradient 0 at 0") {
  const Tensor x(Array{3.0, 4.0});
  CHECK(norm(x).item() == 5.0);
  check_close(grad([](const Tensor& t) { return norm(t); })(x).value(), Array{0.6, 0.8});
  const Tensor zero(Array{0.0, 0.0, 0.0});
  CHECK(norm(zero).item() == 0.0);
  const Tensor g0 = grad([](const Tensor& t) { return norm(t); })(zero);
  check_close(g0.value(), Array{0.0, 0.0, 0.0});
  // A zero row along an axis gets 0; the other row x / |x|.
  const Tensor m(Array{{0.0, 0.0}, {3.0, -4.0}});
  check_close(norm(m, {1}).value(), Array{0.0, 5.0});
  const Tensor gm = grad([](const Tensor& t) { return sum(norm(t, {1})); })(m);
  check_close(gm.value(), Array{{0.0, 0.0}, {0.6, -0.8}});
  CHECK(norm(Tensor(-2.0)).item() == 2.0);
  // Hessian of |x| at (3, 4): (I - u u^T) / |x| with u = x / |x|.
  const Array h = hessian([](const Tensor& t) { return norm(t); })(x);
  check_close(h, Array{{0.64 / 5, -0.48 / 5}, {-0.48 / 5, 0.36 / 5}});
}

TEST_CASE("var and stddev (ddof, axes, keepdims) against xtensor, with first and second derivatives") {
  const Array a = xgrad::testing::sample({3, 4}, -1, 2, 9);
  CHECK(var(Tensor(a)).item() == doctest::Approx(xt::variance(a)()).epsilon(1e-14));
  CHECK(stddev(Tensor(a)).item() == doctest::Approx(std::sqrt(xt::variance(a)())).epsilon(1e-14));
  const Array v1 = var(Tensor(a), {1}, 1.0).value();  // ddof 1 along rows: sum of squares / 3
  for (std::size_t i = 0; i < 3; ++i) {
    double m = 0;
    for (std::size_t j = 0; j < 4; ++j) m += a(i, j) / 4.0;
    double ss = 0;
    for (std::size_t j = 0; j < 4; ++j) ss += (a(i, j) - m) * (a(i, j) - m);
    CHECK(v1(i) == doctest::Approx(ss / 3.0).epsilon(1e-14));
  }
  CHECK(var(Tensor(a), {0}, 0.0, true).shape() == Shape{1, 4});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return var(x, {1}, 1.0); }, Tensor(a));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return stddev(x, {0}, 0.0, true); }, Tensor(a));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return stddev(x); }, Tensor(a));
  CHECK_THROWS_AS(var(Tensor(a), {1}, 4.0), ValueError);  // 4 elements, ddof 4
}

TEST_CASE("cumsum along an axis and flattened, with first and second derivatives") {
  const Array a = xgrad::testing::sample({2, 3, 2}, -1, 1, 4);
  const Array c = cumsum(Tensor(a), 1).value();
  CHECK(c(1, 2, 0) == doctest::Approx(a(1, 0, 0) + a(1, 1, 0) + a(1, 2, 0)).epsilon(1e-15));
  CHECK(c(0, 1, 1) == doctest::Approx(a(0, 0, 1) + a(0, 1, 1)).epsilon(1e-15));
  const Array f = cumsum(Tensor(a)).value();
  REQUIRE(f.size() == 12);
  CHECK(f(11) == doctest::Approx(xt::sum(a)()).epsilon(1e-14));
  for (std::ptrdiff_t axis : {0, 1, 2, -1}) {
    CAPTURE(axis);
    XGRAD_CHECK_GRADS([axis](const Tensor& x) { return square(cumsum(x, axis)); }, Tensor(a));
  }
  XGRAD_CHECK_GRADS([](const Tensor& x) { return cumsum(x) * cumsum(x); }, Tensor(a));
  CHECK_THROWS_AS(cumsum(Tensor(a), 3), ShapeError);
}

TEST_CASE("argmax and argmin: numpy's indices, ties to the first, NaN first") {
  const Array a{{1.0, 5.0, 5.0}, {7.0, -1.0, 2.0}};
  CHECK(argmax(Tensor(a))() == 3.0);
  CHECK(argmin(Tensor(a))() == 4.0);
  CHECK(argmax(Tensor(a), 1) == Array{1.0, 0.0});
  CHECK(argmin(Tensor(a), 0) == Array{0.0, 1.0, 1.0});
  CHECK(argmax(Tensor(Array{1.0, std::nan(""), 3.0}))() == 1.0);
  CHECK_THROWS_AS(argmax(Tensor(Array::from_shape({0}))), ValueError);
}

TEST_CASE("cumprod: numpy's values along an axis and flattened, zeros exact, first and second derivatives") {
  const Array a = xgrad::testing::sample({2, 5, 3}, -1.5, 1.5, 5);
  for (std::size_t axis = 0; axis < 3; ++axis) {
    CAPTURE(axis);
    const Array c = cumprod(Tensor(a), static_cast<std::ptrdiff_t>(axis)).value();
    // numpy's definition: c[i] = c[i - 1] * a[i] along the axis.
    Array want = a;
    const Shape s = shape_of(a);
    for (std::size_t i = 0; i < s[0]; ++i)
      for (std::size_t j = 0; j < s[1]; ++j)
        for (std::size_t k = 0; k < s[2]; ++k) {
          std::size_t idx[3] = {i, j, k};
          if (idx[axis] == 0) continue;
          std::size_t prev[3] = {i, j, k};
          --prev[axis];
          want(i, j, k) = want(prev[0], prev[1], prev[2]) * a(i, j, k);
        }
    xgrad::testing::check_close(c, want, 1e-14);
  }
  const Array f = cumprod(Tensor(Array{2.0, 3.0, 0.0, 5.0, 7.0})).value();
  CHECK(f == Array{2.0, 6.0, 0.0, 0.0, 0.0});  // a zero is exact, and stays
  CHECK(cumprod(Tensor(Array{{1.0, 2.0}, {3.0, 4.0}})).value() == Array{1.0, 2.0, 6.0, 24.0});
  for (std::ptrdiff_t axis : {0, 1, 2, -1}) {
    CAPTURE(axis);
    XGRAD_CHECK_GRADS([axis](const Tensor& x) { return cumprod(x, axis); }, Tensor(a));
  }
  // Through a zero: d/dx_j of prod(x_0..x_4) is the product of the others, exact where x has a zero.
  const Tensor gz = grad([](const Tensor& x) { return sum(cumprod(x)); })(Tensor(Array{2.0, 0.0, 3.0}));
  xgrad::testing::check_close(gz.value(), Array{1.0, 2.0 + 2.0 * 3.0, 0.0});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return cumprod(x); }, Tensor(Array{0.5, 0.0, -2.0, 1.5}));
  CHECK(cumprod(Tensor(Array::from_shape({0}))).size() == 0);
  CHECK_THROWS_AS(cumprod(Tensor(a), 3), ShapeError);
  CHECK_THROWS_AS(cumprod(Tensor(2.0), 0), ShapeError);
}

TEST_CASE("any and all: flattened and along an axis, NaN counts as nonzero, empty any 0 and all 1") {
  const Array a{{0.0, 0.0, 1.0}, {0.0, std::nan(""), 2.0}};
  CHECK(any(Tensor(a))() == 1.0);
  CHECK(all(Tensor(a))() == 0.0);
  CHECK(any(Tensor(a), 0) == Array{0.0, 1.0, 1.0});
  CHECK(all(Tensor(a), 0) == Array{0.0, 0.0, 1.0});
  CHECK(any(Tensor(a), -1) == Array{1.0, 1.0});
  CHECK(all(Tensor(Array{std::nan(""), -1.0}))() == 1.0);
  CHECK(any(Tensor(Array::from_shape({0})))() == 0.0);
  CHECK(all(Tensor(Array::from_shape({0})))() == 1.0);
  CHECK(all(Tensor(Array::from_shape({2, 0})), 1) == Array{1.0, 1.0});
  CHECK_THROWS_AS(any(Tensor(a), 2), ShapeError);
}
