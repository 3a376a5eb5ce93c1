#include <cstdlib>
#include <string_view>

#include "check.hpp"
#include "special_scipy_reference.hpp"

using namespace xgrad;
using xgrad::testing::sample;

namespace {
// Shapes every elementwise op is checked on: 0-d, 1-d, 2-d, and broadcast pairs.
const std::vector<Shape> unary_shapes{{}, {3}, {2, 3}};
const std::vector<std::pair<Shape, Shape>> binary_shapes{{{}, {}},         {{3}, {3}},        {{2, 3}, {3}},
                                                         {{2, 1}, {1, 3}}, {{}, {2, 2}},      {{4, 1, 2}, {3, 1}},
                                                         {{1, 3}, {2, 3}}, {{2, 3}, {1, 1}}};
}  // namespace

TEST_CASE("unary ops: values and first/second derivatives against finite differences") {
  struct Case {
    const char* name;
    Tensor (*f)(const Tensor&);
    double (*ref)(double);
    double lo, hi;
  };
  const std::vector<Case> cases{
      {"exp", [](const Tensor& x) { return exp(x); }, [](double a) { return std::exp(a); }, -2, 2},
      {"log", [](const Tensor& x) { return log(x); }, [](double a) { return std::log(a); }, 0.5, 3},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](double a) { return std::log1p(a); }, -0.5, 3},
      {"expm1", [](const Tensor& x) { return expm1(x); }, [](double a) { return std::expm1(a); }, -2, 2},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double a) { return std::sqrt(a); }, 0.5, 4},
      {"square", [](const Tensor& x) { return square(x); }, [](double a) { return a * a; }, -2, 2},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double a) { return std::abs(a); }, 0.2, 2},
      {"abs<0", [](const Tensor& x) { return abs(x); }, [](double a) { return std::abs(a); }, -2, -0.2},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double a) { return std::sin(a); }, -3, 3},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double a) { return std::cos(a); }, -3, 3},
      {"tan", [](const Tensor& x) { return tan(x); }, [](double a) { return std::tan(a); }, -1, 1},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double a) { return std::tanh(a); }, -2, 2},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, [](double a) { return 1 / (1 + std::exp(-a)); }, -4, 4},
      {"relu", [](const Tensor& x) { return relu(x); }, [](double a) { return a > 0 ? a : 0.0; }, 0.1, 2},
      {"relu<0", [](const Tensor& x) { return relu(x); }, [](double a) { return a > 0 ? a : 0.0; }, -2, -0.1},
      {"softplus", [](const Tensor& x) { return softplus(x); }, [](double a) { return std::log1p(std::exp(a)); }, -3, 3},
      {"negative", [](const Tensor& x) { return -x; }, [](double a) { return -a; }, -2, 2},
      {"pow 3", [](const Tensor& x) { return pow(x, 3.0); }, [](double a) { return a * a * a; }, -2, 2},
      {"pow 0.5", [](const Tensor& x) { return pow(x, 0.5); }, [](double a) { return std::sqrt(a); }, 0.5, 2},
      {"clip", [](const Tensor& x) { return clip(x, -0.5, 0.5); }, [](double a) { return std::clamp(a, -0.5, 0.5); }, -1, 1},
      {"x+c", [](const Tensor& x) { return x + 2.0; }, [](double a) { return a + 2; }, -1, 1},
      {"c-x", [](const Tensor& x) { return 1.0 - x; }, [](double a) { return 1 - a; }, -1, 1},
      {"c*x", [](const Tensor& x) { return 2.0 * x; }, [](double a) { return 2 * a; }, -1, 1},
      {"x/c", [](const Tensor& x) { return x / 3.0; }, [](double a) { return a / 3; }, -1, 1},
      {"c/x", [](const Tensor& x) { return 2.0 / x; }, [](double a) { return 2 / a; }, 0.5, 2},
      {"arcsin", [](const Tensor& x) { return arcsin(x); }, [](double a) { return std::asin(a); }, -0.8, 0.8},
      {"arccos", [](const Tensor& x) { return arccos(x); }, [](double a) { return std::acos(a); }, -0.8, 0.8},
      {"arctan", [](const Tensor& x) { return arctan(x); }, [](double a) { return std::atan(a); }, -3, 3},
      {"sinh", [](const Tensor& x) { return sinh(x); }, [](double a) { return std::sinh(a); }, -2, 2},
      {"cosh", [](const Tensor& x) { return cosh(x); }, [](double a) { return std::cosh(a); }, -2, 2},
      {"arcsinh", [](const Tensor& x) { return arcsinh(x); }, [](double a) { return std::asinh(a); }, -3, 3},
      {"arccosh", [](const Tensor& x) { return arccosh(x); }, [](double a) { return std::acosh(a); }, 1.2, 4},
      {"arctanh", [](const Tensor& x) { return arctanh(x); }, [](double a) { return std::atanh(a); }, -0.8, 0.8},
      {"erf", [](const Tensor& x) { return erf(x); }, [](double a) { return std::erf(a); }, -2, 2},
      {"erfc", [](const Tensor& x) { return erfc(x); }, [](double a) { return std::erfc(a); }, -2, 2},
      {"log2", [](const Tensor& x) { return log2(x); }, [](double a) { return std::log2(a); }, 0.5, 4},
      {"log10", [](const Tensor& x) { return log10(x); }, [](double a) { return std::log10(a); }, 0.5, 4},
      {"exp2", [](const Tensor& x) { return exp2(x); }, [](double a) { return std::exp2(a); }, -2, 2},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double a) { return 1 / a; }, 0.5, 2},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double a) { return 1 / std::sqrt(a); }, 0.5, 2},
      {"gelu", [](const Tensor& x) { return gelu(x); },
       [](double a) { return 0.5 * a * (1 + std::tanh(std::sqrt(2 / M_PI) * (a + 0.044715 * a * a * a))); }, -3, 3},
      {"gelu exact", [](const Tensor& x) { return gelu(x, false); },
       [](double a) { return 0.5 * a * (1 + std::erf(a / std::sqrt(2.0))); }, -3, 3},
      {"silu", [](const Tensor& x) { return silu(x); }, [](double a) { return a / (1 + std::exp(-a)); }, -4, 4},
      {"elu>0", [](const Tensor& x) { return elu(x); }, [](double a) { return a > 0 ? a : std::expm1(a); }, 0.1, 2},
      {"elu<0", [](const Tensor& x) { return elu(x, 1.5); }, [](double a) { return a > 0 ? a : 1.5 * std::expm1(a); }, -2, -0.1},
      {"leaky_relu<0", [](const Tensor& x) { return leaky_relu(x, 0.1); }, [](double a) { return a >= 0 ? a : 0.1 * a; }, -2, -0.1},
      {"leaky_relu>0", [](const Tensor& x) { return leaky_relu(x); }, [](double a) { return a >= 0 ? a : 0.01 * a; }, 0.1, 2},
      {"log_sigmoid", [](const Tensor& x) { return log_sigmoid(x); }, [](double a) { return -std::log1p(std::exp(-a)); }, -4, 4},
      {"softsign>0", [](const Tensor& x) { return softsign(x); }, [](double a) { return a / (1 + std::abs(a)); }, 0.1, 3},
      {"softsign<0", [](const Tensor& x) { return softsign(x); }, [](double a) { return a / (1 + std::abs(a)); }, -3, -0.1},
  };
  for (const auto& c : cases)
    for (const auto& s : unary_shapes) {
      const std::string name = c.name;
      CAPTURE(name);
      CAPTURE(shape_str(s));
      Array a = sample(s, c.lo, c.hi);
      // the clip case must avoid the kinks at +-0.5
      if (std::string(c.name) == "clip") a = Array(xt::where(xt::abs(xt::abs(a) - 0.5) < 0.05, a * 0.5, a));
      Tensor y = c.f(Tensor(a));
      REQUIRE(y.shape() == s);
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(y.value().data()[i] == doctest::Approx(c.ref(a.data()[i])));
      XGRAD_CHECK_GRADS(c.f, Tensor(a));
    }
}

TEST_CASE("binary ops broadcast like numpy, with first/second derivatives") {
  struct Case {
    const char* name;
    Tensor (*f)(const Tensor&, const Tensor&);
    double lo, hi;
  };
  const std::vector<Case> cases{
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }, -1, 1},
      {"subtract", [](const Tensor& a, const Tensor& b) { return a - b; }, -1, 1},
      {"multiply", [](const Tensor& a, const Tensor& b) { return a * b; }, -1, 1},
      {"divide", [](const Tensor& a, const Tensor& b) { return a / b; }, 0.5, 2},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -1, 1},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -1, 1},
      {"arctan2", [](const Tensor& a, const Tensor& b) { return arctan2(a, b); }, 0.5, 2},
      {"hypot", [](const Tensor& a, const Tensor& b) { return hypot(a, b); }, 0.5, 2},
      {"logaddexp", [](const Tensor& a, const Tensor& b) { return logaddexp(a, b); }, -2, 2},
  };
  for (const auto& c : cases)
    for (const auto& [sa, sb] : binary_shapes) {
      const std::string name = c.name;
      CAPTURE(name);
      CAPTURE(shape_str(sa));
      CAPTURE(shape_str(sb));
      Tensor a(sample(sa, c.lo, c.hi, 3)), b(sample(sb, c.lo, c.hi, 5));
      Tensor y = c.f(a, b);
      CHECK(y.shape() == broadcast_shapes(sa, sb));
      XGRAD_CHECK_GRADS(c.f, std::make_tuple(a, b));
    }
}

TEST_CASE("broadcast values equal xtensor's, on every kernel path (scalar, suffix, keepdims, general)") {
  const std::vector<std::pair<Shape, Shape>> pairs{{{2, 3}, {3}},    {{3}, {2, 3}},       {{2, 3}, {1, 3}},
                                                   {{1, 3}, {2, 3}}, {{2, 3}, {1, 1}},    {{1, 1, 3}, {2, 3}},
                                                   {{2, 1}, {1, 3}}, {{4, 1, 2}, {3, 1}}, {{2, 3}, {}},
                                                   {{0, 3}, {3}},    {{2, 3}, {2, 1}}};
  for (const auto& [sa, sb] : pairs) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    const Array a = sample(sa, 0.5, 2, 3), b = sample(sb, 0.5, 2, 5);
    const Tensor ta(a), tb(b);
    for (auto [got, want] : {std::pair{(ta + tb).value(), Array(a + b)}, std::pair{(ta - tb).value(), Array(a - b)},
                             std::pair{(ta * tb).value(), Array(a * b)}, std::pair{(ta / tb).value(), Array(a / b)}}) {
      REQUIRE(shape_of(got) == shape_of(want));
      for (std::size_t i = 0; i < want.size(); ++i) CHECK(got.data()[i] == want.data()[i]);
    }
  }
}

TEST_CASE("mismatched shapes name the op and both shapes") {
  Tensor a(Array::from_shape({2, 3})), b(Array::from_shape({4}));
  CHECK_THROWS_WITH_AS(a + b, doctest::Contains("xgrad::add: shapes (2,3) and (4)"), ShapeError);
  CHECK_THROWS_WITH_AS(a * b, doctest::Contains("xgrad::multiply"), ShapeError);
  CHECK_THROWS_AS(clip(a, 1.0, -1.0), ValueError);
}

TEST_CASE("maximum and minimum split ties; where selects and routes gradients") {
  Tensor x(Array{1.0, 2.0}), y(Array{1.0, 3.0});
  auto g = grad([&](const Tensor& a) { return sum(maximum(a, y)); })(x);
  CHECK(g.value()(0) == doctest::Approx(0.5));
  CHECK(g.value()(1) == doctest::Approx(0.0));
  Array cond{1.0, 0.0};
  auto f = [&](const Tensor& a, const Tensor& b) { return where(cond, a * a, b * b * b); };
  Tensor w = f(x, y);
  CHECK(w.value()(0) == doctest::Approx(1.0));
  CHECK(w.value()(1) == doctest::Approx(27.0));
  XGRAD_CHECK_GRADS(f, std::make_tuple(x, y));
  // the branch not taken does not leak NaN into the value
  Tensor z = where(Array{1.0}, Tensor(Array{2.0}), log(Tensor(Array{-1.0})));
  CHECK(z.value()(0) == 2.0);
}

TEST_CASE("IEEE propagation: NaN and Inf flow through, never crash") {
  Tensor x(Array{std::nan(""), INFINITY, -INFINITY});
  Tensor y = exp(x);
  CHECK(std::isnan(y.value()(0)));
  CHECK(std::isinf(y.value()(1)));
  CHECK(y.value()(2) == 0.0);
  auto g = grad([](const Tensor& a) { return sum(tanh(a)); })(x);
  CHECK(std::isnan(g.value()(0)));
  CHECK(g.value()(1) == 0.0);
  CHECK(sigmoid(Tensor(-1000.0)).item() == 0.0);
  CHECK(softplus(Tensor(1000.0)).item() == 1000.0);
}

TEST_CASE("NaN propagates through maximum, minimum, relu and clip as in numpy, and so do their cotangents") {
  const double nan = std::nan("");
  CHECK(std::isnan(maximum(Tensor(nan), Tensor(1.0)).item()));
  CHECK(std::isnan(maximum(Tensor(1.0), Tensor(nan)).item()));
  CHECK(std::isnan(minimum(Tensor(nan), Tensor(1.0)).item()));
  CHECK(std::isnan(minimum(Tensor(1.0), Tensor(nan)).item()));
  CHECK(std::isnan(relu(Tensor(nan)).item()));
  CHECK(std::isnan(clip(Tensor(nan), 0.0, 1.0).item()));
  CHECK(maximum(Tensor(2.0), Tensor(1.0)).item() == 2.0);  // and numbers are untouched
  CHECK(relu(Tensor(-0.5)).item() == 0.0);
  // The output is the NaN operand, so the cotangent goes to it (first and second order, fused and traced rules).
  const Tensor xs(Array{nan, 1.0});
  auto gm = grad([nan](const Tensor& a) { return sum(maximum(a, Tensor(Array{0.0, nan}))); })(xs);
  CHECK(gm.value()(0) == 1.0);
  CHECK(gm.value()(1) == 0.0);
  CHECK(std::isnan(sum(gm * xs).item()));
  auto gr = grad([](const Tensor& a) { return sum(relu(a) * 3.0); })(xs);
  CHECK(gr.value()(0) == 3.0);
  auto gc = grad([](const Tensor& a) { return sum(clip(a, 0.0, 0.5)); })(xs);
  CHECK(gc.value()(0) == 1.0);
  CHECK(gc.value()(1) == 0.0);
  auto gg = grad([](const Tensor& a) { return sum(grad([](const Tensor& b) { return sum(relu(b) * b); })(a)); })(xs);
  CHECK(gg.value()(0) == 2.0);  // d2/db2 of relu(b) b: NaN takes the positive side, like its first derivative
  // A solver sees the NaN: the loss of a NaN parameter is not a number.
  CHECK(std::isnan(sum(square(relu(Tensor(Array{nan, 2.0})))).item()));
}

TEST_CASE("exp and tanh (vectorised through libmvec when built with it): within 4 ulp of libm, IEEE specials kept") {
  // Every lane position and the scalar tail: sizes that are not multiples of the vector width.
  for (std::size_t n : {1u, 3u, 4u, 5u, 1001u}) {
    CAPTURE(n);
    Array x = sample({n}, -40.0, 40.0, static_cast<std::uint64_t>(n));
    for (std::size_t i = 0; i < n; i += 7) x(i) *= 1e-9;  // tiny arguments: tanh x ~ x, exp x ~ 1 + x
    const Array e = exp(Tensor(x)).value(), t = tanh(Tensor(x)).value();
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      for (auto [got, want] : {std::pair{e(i), std::exp(x(i))}, std::pair{t(i), std::tanh(x(i))}}) {
        const double ulp = std::abs(std::nextafter(want, INFINITY) - want);
        worst = std::max(worst, std::abs(got - want) / ulp);
      }
    }
    CHECK(worst <= 4.0);
    const char* path = std::getenv("XGRAD_VMATH");  // ctest runs this case again with "avx2", "sse2" and "scalar"
    if (path && std::string_view(path) == "scalar") CHECK(worst == 0.0);
  }
  const Array specials{std::nan(""), INFINITY, -INFINITY, 0.0, -0.0, 710.0, -746.0, 1e-310};
  const Array e = exp(Tensor(specials)).value(), t = tanh(Tensor(specials)).value();
  for (std::size_t i = 0; i < specials.size(); ++i) {
    CAPTURE(specials(i));
    const double we = std::exp(specials(i)), wt = std::tanh(specials(i));
    CHECK((std::isnan(we) ? std::isnan(e(i)) : e(i) == we));
    CHECK((std::isnan(wt) ? std::isnan(t(i)) : (t(i) == wt && std::signbit(t(i)) == std::signbit(wt))));
  }
}

TEST_CASE("more binary ops: values against libm, including the quadrants of arctan2 and large logaddexp") {
  const Array y{1.0, 1.0, -1.0, -1.0, 0.0}, x{1.0, -1.0, -1.0, 1.0, -2.0};
  const Array t = arctan2(Tensor(y), Tensor(x)).value();
  for (std::size_t i = 0; i < y.size(); ++i) CHECK(t(i) == doctest::Approx(std::atan2(y(i), x(i))).epsilon(1e-15));
  CHECK(hypot(Tensor(1e200), Tensor(1e200)).item() == doctest::Approx(std::sqrt(2.0) * 1e200).epsilon(1e-15));
  CHECK(logaddexp(Tensor(1000.0), Tensor(1000.0)).item() == doctest::Approx(1000.0 + std::log(2.0)).epsilon(1e-15));
  CHECK(logaddexp(Tensor(-INFINITY), Tensor(-INFINITY)).item() == -INFINITY);
  CHECK(log_sigmoid(Tensor(-800.0)).item() == -800.0);  // no overflow
}

TEST_CASE("piecewise-constant ops: numpy's values (round halves to even) and zero derivatives") {
  const Array a{-1.5, -0.5, 0.5, 1.5, 2.5, -0.0, 0.2};
  CHECK(round(Tensor(a)).value() == Array{-2.0, -0.0, 0.0, 2.0, 2.0, -0.0, 0.0});
  CHECK(floor(Tensor(a)).value() == Array{-2.0, -1.0, 0.0, 1.0, 2.0, -0.0, 0.0});
  CHECK(ceil(Tensor(a)).value() == Array{-1.0, -0.0, 1.0, 2.0, 3.0, -0.0, 1.0});
  CHECK(sign(Tensor(a)).value() == Array{-1.0, -1.0, 1.0, 1.0, 1.0, 0.0, 1.0});
  for (auto f : {+[](const Tensor& x) { return round(x); }, +[](const Tensor& x) { return floor(x); },
                 +[](const Tensor& x) { return ceil(x); }, +[](const Tensor& x) { return sign(x); }}) {
    const Tensor g = grad([f](const Tensor& x) { return sum(f(x) * x); })(Tensor(a));
    CHECK(g.value() == f(Tensor(a)).value());  // d/dx (f(x) x) = f(x) + 0
  }
  // Away from the jumps finite differences see the same zero derivatives, at first and second order.
  const Tensor off(Array{-1.3, -0.2, 0.4, 1.7});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return round(x) * x; }, off);
  XGRAD_CHECK_GRADS([](const Tensor& x) { return floor(x) * x; }, off);
  XGRAD_CHECK_GRADS([](const Tensor& x) { return ceil(x) * x; }, off);
  XGRAD_CHECK_GRADS([](const Tensor& x) { return sign(x) * x; }, off);
}

TEST_CASE("lgamma, digamma and polygamma: scipy.special's values, poles, each the derivative of the last") {
  for (const auto& row : xgrad::testing::kSpecialReference) {
    const Tensor x(row[0]);
    CAPTURE(row[0]);
    CHECK(lgamma(x).item() == doctest::Approx(row[1]).epsilon(1e-13));
    CHECK(digamma(x).item() == doctest::Approx(row[2]).epsilon(1e-13));
    for (int n = 1; n <= 3; ++n) {
      CAPTURE(n);
      CHECK(polygamma(n, x).item() == doctest::Approx(row[2 + static_cast<std::size_t>(n)]).epsilon(1e-12));
    }
  }
  // The poles, as scipy.special.
  CHECK(digamma(Tensor(0.0)).item() == -INFINITY);
  CHECK(digamma(Tensor(-0.0)).item() == INFINITY);
  CHECK(std::isnan(digamma(Tensor(-2.0)).item()));
  CHECK(polygamma(1, Tensor(-1.0)).item() == INFINITY);
  CHECK(polygamma(2, Tensor(0.0)).item() == -INFINITY);
  CHECK(lgamma(Tensor(-3.0)).item() == INFINITY);
  CHECK(digamma(Tensor(INFINITY)).item() == INFINITY);
  CHECK(std::isnan(digamma(Tensor(NAN)).item()));
  // Each is the derivative of the one before, to third order through the tape.
  const Array pts{-2.5, -0.3, 0.7, 2.0, 9.5};
  XGRAD_CHECK_GRADS([](const Tensor& x) { return lgamma(x); }, Tensor(pts));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return digamma(x); }, Tensor(pts));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return polygamma(2, x); }, Tensor(pts));
  // The third derivative of lgamma by three nested grads is polygamma(2, x).
  auto d1 = [](const Tensor& x) { return grad([](const Tensor& z) { return lgamma(z); })(x); };
  auto d2 = [d1](const Tensor& x) { return grad(d1)(x); };
  REQUIRE(xgrad::testing::kSpecialReference[9][0] == 1.5);
  CHECK(grad(d2)(Tensor(1.5)).item() == doctest::Approx(xgrad::testing::kSpecialReference[9][4]).epsilon(1e-12));
  CHECK_THROWS_AS(polygamma(-1, Tensor(1.0)), ValueError);
}
