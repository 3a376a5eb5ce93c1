// Elementwise operations: each forward value and its backward rule together.
//
// A rule has two spellings of the same derivative. The traced one, with Tensor ops, is what makes higher order work:
// when another transform is alive the sweep records it. When none is (`!d.recording()`), the same cotangent is one
// fused loop over plain arrays (`fused`), which is what first-order gradients cost. Both are checked against finite
// differences (tests/ad/test_elementwise.cpp: first order runs the fused loop, second order the traced rule).
#include "xgrad/ad/elementwise.hpp"

#include <cmath>

#include "kernels.hpp"
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
