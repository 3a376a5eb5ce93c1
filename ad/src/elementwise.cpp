// Elementwise operations: each forward value and its backward rule together.
//
// A rule has two spellings of the same derivative. The traced one, with Tensor ops, is what makes higher order work:
// when another transform is alive the sweep records it. When none is (`!d.recording()`), the same cotangent is one
// fused loop over plain arrays (`fused`), which is what first-order gradients cost. Both are checked against finite
// differences (tests/ad/test_elementwise.cpp: first order runs the fused loop, second order the traced rule).
#include "xgrad/ad/elementwise.hpp"

#include <cmath>
#include <string>

#include "kernels.hpp"
#include "special.hpp"
#include "vmath.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/tape.hpp"

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;
using kernels::map1;
using kernels::map2;

namespace {

// g_i -> f(g_i, x_i, y_i) for a unary node (x its input, y its output; all three have one shape).
// When the sweep holds the only reference to g, g is overwritten in place: nothing else can observe it, and a
// fresh buffer would only add memory traffic.
template <class F>
Tensor fused(const Tensor& g, const Node& n, F f) {
  if (g.shared_value().use_count() != 1) return Tensor(kernels::map3(g.value(), n.in(0).value(), n.out().value(), f));
  double* o = const_cast<Array&>(g.value()).data();  // every array is created non-const
  const double *x = n.in(0).value().data(), *y = n.out().value().data();
  for (std::size_t i = 0, size = g.size(); i < size; ++i) o[i] = f(o[i], x[i], y[i]);
  return g;
}
// The cotangent g of a broadcasting op, summed back to input i's shape.
Tensor to_input(const Tensor& g, const Node& n, std::size_t i) {
  return kernels::same_shape(g.value(), n.in(i).value()) ? g : sum_to(g, n.in(i).shape());
}
// True when a binary node's inputs and cotangent share one shape (no broadcasting): the fused path applies.
bool plain(const Grads& d, const Tensor& g, const Node& n) {
  return !d.recording() && kernels::same_shape(g.value(), n.in(0).value()) &&
         kernels::same_shape(g.value(), n.in(1).value());
}
// A constant 0/1 mask.
template <class P>
Tensor mask(const Array& a, P pred) {
  return Tensor(map1(a, [&](double v) { return pred(v) ? 1.0 : 0.0; }));
}

}  // namespace

// --- arithmetic ------------------------------------------------------------------------------------------------

Tensor operator+(const Tensor& x, const Tensor& y) {
  return make("add", map2("add", x.value(), y.value(), [](double a, double b) { return a + b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, to_input(g, n, 0));
                if (d.needs(1)) d(1, to_input(g, n, 1));
              });
}

Tensor operator-(const Tensor& x, const Tensor& y) {
  return make("subtract", map2("subtract", x.value(), y.value(), [](double a, double b) { return a - b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, to_input(g, n, 0));
                if (d.needs(1)) d(1, to_input(-g, n, 1));
              });
}

Tensor operator*(const Tensor& x, const Tensor& y) {
  return make("multiply", map2("multiply", x.value(), y.value(), [](double a, double b) { return a * b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (plain(d, g, n)) {
                  auto mul = [](double a, double b) { return a * b; };
                  if (d.needs(0)) d(0, Tensor(map2("multiply", g.value(), n.in(1).value(), mul)));
                  if (d.needs(1)) d(1, Tensor(map2("multiply", g.value(), n.in(0).value(), mul)));
                  return;
                }
                if (d.needs(0)) d(0, to_input(g * n.in(1), n, 0));
                if (d.needs(1)) d(1, to_input(g * n.in(0), n, 1));
              });
}

Tensor operator/(const Tensor& x, const Tensor& y) {
  return make("divide", map2("divide", x.value(), y.value(), [](double a, double b) { return a / b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                const Tensor gy = g / n.in(1);  // d/dx = g / y,  d/dy = -g x / y^2 = -(g / y) out
                if (d.needs(0)) d(0, to_input(gy, n, 0));
                if (d.needs(1)) d(1, to_input(-gy * n.out(), n, 1));
              });
}

Tensor operator-(const Tensor& x) {
  return make("negative", map1(x.value(), [](double a) { return -a; }), {x},
              [](const Node&, const Tensor& g, Grads& d) { d(0, -g); });
}

Tensor operator+(const Tensor& x, double c) {
  return make("add", map1(x.value(), [c](double a) { return a + c; }), {x},
              [](const Node&, const Tensor& g, Grads& d) { d(0, g); });
}
Tensor operator+(double c, const Tensor& x) { return x + c; }
Tensor operator-(const Tensor& x, double c) { return x + (-c); }
Tensor operator-(double c, const Tensor& x) {
  return make("subtract", map1(x.value(), [c](double a) { return c - a; }), {x},
              [](const Node&, const Tensor& g, Grads& d) { d(0, -g); });
}

Tensor operator*(const Tensor& x, double c) {
  return make("multiply", map1(x.value(), [c](double a) { return a * c; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * n.param()); }, {.param = c});
}
Tensor operator*(double c, const Tensor& x) { return x * c; }
Tensor operator/(const Tensor& x, double c) {
  return make("divide", map1(x.value(), [c](double a) { return a / c; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g / n.param()); }, {.param = c});
}
Tensor operator/(double c, const Tensor& x) {
  return make("divide", map1(x.value(), [c](double a) { return c / a; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {  // d(c/x) = -c/x^2 = -out/x
                if (!d.recording()) return d(0, fused(g, n, [](double g, double x, double y) { return -g * y / x; }));
                d(0, -g * n.out() / n.in(0));
              });
}

// --- unary math ------------------------------------------------------------------------------------------------

Tensor exp(const Tensor& x) {
  return make("exp", kernels::map_all(x.value(), vmath::exp), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * n.out()); });
}
Tensor log(const Tensor& x) {
  return make("log", map1(x.value(), [](double a) { return std::log(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g / n.in(0)); });
}
Tensor log1p(const Tensor& x) {
  return make("log1p", map1(x.value(), [](double a) { return std::log1p(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double x, double) { return g / (1 + x); }));
                d(0, g / (1.0 + n.in(0)));
              });
}
Tensor expm1(const Tensor& x) {
  return make("expm1", map1(x.value(), [](double a) { return std::expm1(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double, double y) { return g * (y + 1); }));
                d(0, g * (n.out() + 1.0));
              });
}
Tensor sqrt(const Tensor& x) {
  return make("sqrt", map1(x.value(), [](double a) { return std::sqrt(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double, double y) { return g / (2 * y); }));
                d(0, g / (2.0 * n.out()));
              });
}
Tensor square(const Tensor& x) {
  return make("square", map1(x.value(), [](double a) { return a * a; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double x, double) { return 2 * g * x; }));
                d(0, 2.0 * g * n.in(0));
              });
}
Tensor pow(const Tensor& x, double p) {
  if (p == 0.0) return Tensor(Array(xt::ones<double>(x.value().shape())));
  if (p == 1.0) return x;
  if (p == 2.0) return square(x);
  return make("pow", map1(x.value(), [p](double a) { return std::pow(a, p); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                const double p = n.param();
                d(0, g * p * pow(n.in(0), p - 1.0));
              },
              {.param = p});
}
Tensor pow(const Tensor& x, const Tensor& y) {
  return make("pow", map2("pow", x.value(), y.value(), [](double a, double b) { return std::pow(a, b); }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, to_input(g * n.in(1) * pow(n.in(0), n.in(1) - 1.0), n, 0));
                if (d.needs(1)) d(1, to_input(g * n.out() * log(n.in(0)), n, 1));
              });
}
Tensor abs(const Tensor& x) {
  return make("abs", map1(x.value(), [](double a) { return std::abs(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * Tensor(sign(n.in(0).value()))); });
}
Tensor sin(const Tensor& x) {
  return make("sin", map1(x.value(), [](double a) { return std::sin(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * cos(n.in(0))); });
}
Tensor cos(const Tensor& x) {
  return make("cos", map1(x.value(), [](double a) { return std::cos(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, -g * sin(n.in(0))); });
}
Tensor tan(const Tensor& x) {
  return make("tan", map1(x.value(), [](double a) { return std::tan(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double, double y) { return g * (1 + y * y); }));
                d(0, g * (1.0 + square(n.out())));
              });
}
Tensor tanh(const Tensor& x) {
  return make("tanh", kernels::map_all(x.value(), vmath::tanh), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double, double y) { return g * (1 - y * y); }));
                d(0, g * (1.0 - square(n.out())));
              });
}
Tensor sigmoid(const Tensor& x) {
  // 1/(1+e^-a) for a >= 0 and e^a/(1+e^a) otherwise: no overflow either way.
  return make("sigmoid", map1(x.value(), [](double a) {
                return a >= 0 ? 1.0 / (1.0 + std::exp(-a)) : std::exp(a) / (1.0 + std::exp(a));
              }),
              {x}, [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double, double y) { return g * y * (1 - y); }));
                d(0, g * n.out() * (1.0 - n.out()));
              });
}
Tensor relu(const Tensor& x) {
  // NaN propagates as in numpy (relu(NaN) = NaN) and so does its cotangent: the output is the input there.
  return make("relu", map1(x.value(), [](double a) { return a <= 0 ? 0.0 : a; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (!d.recording()) return d(0, fused(g, n, [](double g, double x, double) { return x <= 0 ? 0.0 : g; }));
                d(0, g * mask(n.in(0).value(), [](double a) { return !(a <= 0); }));
              });
}
Tensor softplus(const Tensor& x) {
  return make("softplus", map1(x.value(), [](double a) { return std::max(a, 0.0) + std::log1p(std::exp(-std::abs(a))); }),
              {x}, [](const Node& n, const Tensor& g, Grads& d) { d(0, g * sigmoid(n.in(0))); });
}

// --- more unary math (numpy's names) ---------------------------------------------------------------------------

namespace {
constexpr double kLn2 = 0.693147180559945309417, kLn10 = 2.302585092994045684018;
constexpr double kTwoOverSqrtPi = 1.128379167095512573896, kInvSqrt2Pi = 0.398942280401432677940;
constexpr double kSqrtTwoOverPi = 0.797884560802865355879, kGeluC = 0.044715;
// A unary op whose rule is g * f'(x, y) with f' given twice: on doubles (the fused first-order loop) and on
// Tensors (the traced rule, for higher order).
template <class D, class T, class V>
Tensor unary_op(const char* op, const Tensor& x, V value) {
  return make(op, map1(x.value(), value), {x}, [](const Node& n, const Tensor& g, Grads& d) {
    if (!d.recording()) return d(0, fused(g, n, [](double g, double x, double y) { return g * D{}(x, y); }));
    d(0, g * T{}(n.in(0), n.out()));
  });
}
// Derivatives that are zero almost everywhere (floor, sign, ...): no cotangent flows.
Tensor piecewise_constant(const char* op, const Tensor& x, double (*f)(double)) {
  return make(op, map1(x.value(), f), {x}, [](const Node&, const Tensor&, Grads&) {});
}
}  // namespace

#define XGRAD_UNARY(name, value_expr, dfused_expr, dtraced_expr)                                     \
  Tensor name(const Tensor& x_) {                                                                  \
    struct Df {                                                                                    \
      double operator()(double x, double y) const { (void)x; (void)y; return dfused_expr; }          \
    };                                                                                             \
    struct Dt {                                                                                    \
      Tensor operator()(const Tensor& x, const Tensor& y) const { (void)x; (void)y; return dtraced_expr; } \
    };                                                                                             \
    return unary_op<Df, Dt>(#name, x_, [](double x) { return value_expr; });                        \
  }

XGRAD_UNARY(arcsin, std::asin(x), 1.0 / std::sqrt(1.0 - x * x), 1.0 / sqrt(1.0 - square(x)))
XGRAD_UNARY(arccos, std::acos(x), -1.0 / std::sqrt(1.0 - x * x), -1.0 / sqrt(1.0 - square(x)))
XGRAD_UNARY(arctan, std::atan(x), 1.0 / (1.0 + x * x), 1.0 / (1.0 + square(x)))
XGRAD_UNARY(sinh, std::sinh(x), std::cosh(x), cosh(x))
XGRAD_UNARY(cosh, std::cosh(x), std::sinh(x), sinh(x))
XGRAD_UNARY(arcsinh, std::asinh(x), 1.0 / std::sqrt(x * x + 1.0), 1.0 / sqrt(square(x) + 1.0))
XGRAD_UNARY(arccosh, std::acosh(x), 1.0 / std::sqrt(x * x - 1.0), 1.0 / sqrt(square(x) - 1.0))
XGRAD_UNARY(arctanh, std::atanh(x), 1.0 / (1.0 - x * x), 1.0 / (1.0 - square(x)))
XGRAD_UNARY(erf, std::erf(x), kTwoOverSqrtPi * std::exp(-x * x), kTwoOverSqrtPi * exp(-square(x)))
XGRAD_UNARY(erfc, std::erfc(x), -kTwoOverSqrtPi * std::exp(-x * x), -kTwoOverSqrtPi * exp(-square(x)))
XGRAD_UNARY(log2, std::log2(x), 1.0 / (x * kLn2), 1.0 / (x * kLn2))
XGRAD_UNARY(log10, std::log10(x), 1.0 / (x * kLn10), 1.0 / (x * kLn10))
XGRAD_UNARY(exp2, std::exp2(x), y * kLn2, y * kLn2)
XGRAD_UNARY(reciprocal, 1.0 / x, -y * y, -square(y))
XGRAD_UNARY(rsqrt, 1.0 / std::sqrt(x), -0.5 * y * y * y, -0.5 * y * square(y))
XGRAD_UNARY(silu, x / (1.0 + std::exp(-x)),
            (1.0 / (1.0 + std::exp(-x))) * (1.0 + x * (1.0 - 1.0 / (1.0 + std::exp(-x)))),
            sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))))
XGRAD_UNARY(log_sigmoid, std::min(x, 0.0) - std::log1p(std::exp(-std::abs(x))),
            x >= 0 ? std::exp(-x) / (1.0 + std::exp(-x)) : 1.0 / (1.0 + std::exp(x)), sigmoid(-x))
XGRAD_UNARY(softsign, x / (1.0 + std::abs(x)), 1.0 / ((1.0 + std::abs(x)) * (1.0 + std::abs(x))),
            1.0 / square(1.0 + abs(x)))
#undef XGRAD_UNARY

Tensor lgamma(const Tensor& x) {
  return make("lgamma", map1(x.value(), [](double a) { return special::lgamma(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * digamma(n.in(0))); });
}
Tensor digamma(const Tensor& x) { return polygamma(0, x); }
Tensor polygamma(int order, const Tensor& x) {
  if (order < 0) throw ValueError("xgrad::polygamma: the order n = " + std::to_string(order) + " is negative");
  return make(order == 0 ? "digamma" : "polygamma",
              map1(x.value(), [order](double a) { return special::polygamma(order, a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                d(0, g * polygamma(static_cast<int>(n.ints()[0]) + 1, n.in(0)));
              },
              {.ints = {order}});
}

Tensor sign(const Tensor& x) {
  return piecewise_constant("sign", x, [](double a) { return a > 0 ? 1.0 : (a < 0 ? -1.0 : (std::isnan(a) ? a : 0.0)); });
}
Tensor floor(const Tensor& x) { return piecewise_constant("floor", x, [](double a) { return std::floor(a); }); }
Tensor ceil(const Tensor& x) { return piecewise_constant("ceil", x, [](double a) { return std::ceil(a); }); }
Tensor round(const Tensor& x) { return piecewise_constant("round", x, [](double a) { return std::nearbyint(a); }); }

Tensor gelu(const Tensor& x, bool approximate) {
  if (approximate)  // 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2/pi)
    return make("gelu", map1(x.value(), [](double a) {
                  return 0.5 * a * (1.0 + std::tanh(kSqrtTwoOverPi * (a + kGeluC * a * a * a)));
                }),
                {x}, [](const Node& n, const Tensor& g, Grads& d) {
                  const Tensor& a = n.in(0);
                  const Tensor t = tanh(kSqrtTwoOverPi * (a + kGeluC * a * square(a)));
                  d(0, g * (0.5 * (1.0 + t) +
                            0.5 * a * (1.0 - square(t)) * kSqrtTwoOverPi * (1.0 + 3.0 * kGeluC * square(a))));
                });
  // x Phi(x), Phi the standard normal CDF: derivative Phi(x) + x phi(x).
  return make("gelu", map1(x.value(), [](double a) { return 0.5 * a * std::erfc(-a / std::sqrt(2.0)); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                const Tensor& a = n.in(0);
                d(0, g * (0.5 * erfc(-a / std::sqrt(2.0)) + kInvSqrt2Pi * a * exp(-0.5 * square(a))));
              });
}

Tensor elu(const Tensor& x, double alpha) {
  return make("elu", map1(x.value(), [alpha](double a) { return a > 0 ? a : alpha * std::expm1(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                // y + alpha = alpha e^x below 0 (so the traced rule is differentiable again); 1 above.
                const double alpha = n.param();
                d(0, g * where(Array(xt::where(n.in(0).value() > 0.0, 1.0, 0.0)), Tensor(1.0), n.out() + alpha));
              },
              ad::Extra{.param = alpha});
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return make("leaky_relu", map1(x.value(), [negative_slope](double a) { return a >= 0 ? a : negative_slope * a; }),
              {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                d(0, g * Tensor(map1(n.in(0).value(), [s = n.param()](double a) { return a >= 0 ? 1.0 : s; })));
              },
              ad::Extra{.param = negative_slope});
}

// --- more binary math ------------------------------------------------------------------------------------------

Tensor arctan2(const Tensor& y, const Tensor& x) {
  return make("arctan2", map2("arctan2", y.value(), x.value(), [](double a, double b) { return std::atan2(a, b); }),
              {y, x}, [](const Node& n, const Tensor& g, Grads& d) {
                const Tensor r2 = square(n.in(0)) + square(n.in(1));
                if (d.needs(0)) d(0, to_input(g * n.in(1) / r2, n, 0));
                if (d.needs(1)) d(1, to_input(-g * n.in(0) / r2, n, 1));
              });
}
Tensor hypot(const Tensor& x, const Tensor& y) {
  return make("hypot", map2("hypot", x.value(), y.value(), [](double a, double b) { return std::hypot(a, b); }),
              {x, y}, [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, to_input(g * n.in(0) / n.out(), n, 0));
                if (d.needs(1)) d(1, to_input(g * n.in(1) / n.out(), n, 1));
              });
}
Tensor logaddexp(const Tensor& x, const Tensor& y) {
  return make("logaddexp", map2("logaddexp", x.value(), y.value(), [](double a, double b) {
                const double m = std::max(a, b);
                return std::isinf(m) && m < 0 ? m : m + std::log1p(std::exp(-std::abs(a - b)));
              }),
              {x, y}, [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, to_input(g * exp(n.in(0) - n.out()), n, 0));
                if (d.needs(1)) d(1, to_input(g * exp(n.in(1) - n.out()), n, 1));
              });
}

// --- selection -------------------------------------------------------------------------------------------------

namespace {
// Share of the cotangent that goes to the first operand of maximum/minimum: 1 where it wins, 1/2 on ties. A NaN
// operand wins (numpy propagates it, the first one when both are NaN), so the cotangent follows the value.
Tensor win_share(const Array& a, const Array& b, const char* op, bool larger) {
  return Tensor(map2(op, a, b, [larger](double u, double v) {
    if (u != u || v != v) return u != u ? 1.0 : 0.0;
    return u == v ? 0.5 : ((u > v) == larger ? 1.0 : 0.0);
  }));
}
void select_rule(const Node& n, const Tensor& g, Grads& d, bool larger) {
  const Tensor s = win_share(n.in(0).value(), n.in(1).value(), n.op, larger);
  if (d.needs(0)) d(0, to_input(g * s, n, 0));
  if (d.needs(1)) d(1, to_input(g * (1.0 - s), n, 1));
}
}  // namespace

Tensor maximum(const Tensor& x, const Tensor& y) {
  return make("maximum", map2("maximum", x.value(), y.value(), [](double a, double b) { return a >= b || a != a ? a : b; }),
              {x, y}, [](const Node& n, const Tensor& g, Grads& d) { select_rule(n, g, d, true); });
}
Tensor minimum(const Tensor& x, const Tensor& y) {
  return make("minimum", map2("minimum", x.value(), y.value(), [](double a, double b) { return a <= b || a != a ? a : b; }),
              {x, y}, [](const Node& n, const Tensor& g, Grads& d) { select_rule(n, g, d, false); });
}

Tensor where(Array cond, Tensor x, Tensor y) {
  const Shape s = broadcast_shapes(broadcast_shapes(shape_of(cond), x.shape(), "where"), y.shape(), "where");
  const Array c = kernels::unary(broadcast_array(cond, s), [](double v) { return v != 0.0 ? 1.0 : 0.0; });
  // The value is selected exactly (an inf or NaN in the branch not taken does not leak); the rule multiplies by
  // the constant 0/1 mask, so it differentiates again at every order.
  const Array xv = broadcast_array(x.value(), s), yv = broadcast_array(y.value(), s);
  Array v = Array::from_shape(s);
  for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = c.data()[i] != 0.0 ? xv.data()[i] : yv.data()[i];
  return make("where", std::move(v), {x, y, Tensor(c)},
              [](const Node& n, const Tensor& g, Grads& d) {
                const Tensor& c = n.in(2);
                if (d.needs(0)) d(0, to_input(g * c, n, 0));
                if (d.needs(1)) d(1, to_input(g * (1.0 - c), n, 1));
              });
}

Tensor clip(const Tensor& x, double lo, double hi) {
  if (!(lo <= hi))
    throw ValueError("xgrad::clip: lo (" + std::to_string(lo) + ") must not exceed hi (" + std::to_string(hi) + ")");
  return make("clip", map1(x.value(), [lo, hi](double a) { return a < lo ? lo : (a > hi ? hi : a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                // 1 where the value passed through unclipped (x == clip(x), or NaN, which clip propagates), else 0.
                const auto pass = [](double g, double x, double y) { return x == y || x != x ? g : 0.0; };
                if (!d.recording()) return d(0, fused(g, n, pass));
                d(0, g * Tensor(map2("clip", n.in(0).value(), n.out().value(),
                                     [](double a, double b) { return a == b || a != a ? 1.0 : 0.0; })));
              });
}

Array sign(const Array& x) { return kernels::unary(x, [](double a) { return a > 0 ? 1.0 : (a < 0 ? -1.0 : 0.0); }); }

}  // namespace xgrad
