// Elementwise operations: each forward value and its backward rule together. Rules use Tensor ops, so they are
// recorded (and differentiable again) when another transform is alive, and run on plain arrays otherwise.
#include "xgrad/ad/elementwise.hpp"

#include <cmath>

#include "kernels.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/tape.hpp"

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;
using kernels::binary;
using kernels::unary;

namespace {
Shape shape_in(const Node& n, std::size_t i) { return n.in(i).shape(); }
// Constant masks (no derivative of their own).
Tensor mask(const Array& a, auto pred) { return Tensor(unary(a, [&](double v) { return pred(v) ? 1.0 : 0.0; })); }
}  // namespace

// --- arithmetic ------------------------------------------------------------------------------------------------

Tensor operator+(const Tensor& x, const Tensor& y) {
  return make("add", binary("add", x.value(), y.value(), [](double a, double b) { return a + b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, sum_to(g, shape_in(n, 0)));
                if (d.needs(1)) d(1, sum_to(g, shape_in(n, 1)));
              });
}

Tensor operator-(const Tensor& x, const Tensor& y) {
  return make("subtract", binary("subtract", x.value(), y.value(), [](double a, double b) { return a - b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, sum_to(g, shape_in(n, 0)));
                if (d.needs(1)) d(1, sum_to(-g, shape_in(n, 1)));
              });
}

Tensor operator*(const Tensor& x, const Tensor& y) {
  return make("multiply", binary("multiply", x.value(), y.value(), [](double a, double b) { return a * b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, sum_to(g * n.in(1), shape_in(n, 0)));
                if (d.needs(1)) d(1, sum_to(g * n.in(0), shape_in(n, 1)));
              });
}

Tensor operator/(const Tensor& x, const Tensor& y) {
  return make("divide", binary("divide", x.value(), y.value(), [](double a, double b) { return a / b; }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                const Tensor gy = g / n.in(1);
                if (d.needs(0)) d(0, sum_to(gy, shape_in(n, 0)));
                if (d.needs(1)) d(1, sum_to(-gy * n.out(), shape_in(n, 1)));
              });
}

Tensor operator-(const Tensor& x) {
  return make("negative", unary(x.value(), [](double a) { return -a; }), {x},
              [](const Node&, const Tensor& g, Grads& d) { d(0, -g); });
}

Tensor operator+(const Tensor& x, double c) {
  return make("add", unary(x.value(), [c](double a) { return a + c; }), {x},
              [](const Node&, const Tensor& g, Grads& d) { d(0, g); });
}
Tensor operator+(double c, const Tensor& x) { return x + c; }
Tensor operator-(const Tensor& x, double c) { return x + (-c); }
Tensor operator-(double c, const Tensor& x) {
  return make("subtract", unary(x.value(), [c](double a) { return c - a; }), {x},
              [](const Node&, const Tensor& g, Grads& d) { d(0, -g); });
}

Tensor operator*(const Tensor& x, double c) {
  return make("multiply", unary(x.value(), [c](double a) { return a * c; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * n.param()); }, {.param = c});
}
Tensor operator*(double c, const Tensor& x) { return x * c; }
Tensor operator/(const Tensor& x, double c) {
  return make("divide", unary(x.value(), [c](double a) { return a / c; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g / n.param()); }, {.param = c});
}
Tensor operator/(double c, const Tensor& x) {
  // d(c/x) = -c/x^2 = -out/x
  return make("divide", unary(x.value(), [c](double a) { return c / a; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, -g * n.out() / n.in(0)); });
}

// --- unary math ------------------------------------------------------------------------------------------------

Tensor exp(const Tensor& x) {
  return make("exp", unary(x.value(), [](double a) { return std::exp(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * n.out()); });
}
Tensor log(const Tensor& x) {
  return make("log", unary(x.value(), [](double a) { return std::log(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g / n.in(0)); });
}
Tensor log1p(const Tensor& x) {
  return make("log1p", unary(x.value(), [](double a) { return std::log1p(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g / (1.0 + n.in(0))); });
}
Tensor expm1(const Tensor& x) {
  return make("expm1", unary(x.value(), [](double a) { return std::expm1(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * (n.out() + 1.0)); });
}
Tensor sqrt(const Tensor& x) {
  return make("sqrt", unary(x.value(), [](double a) { return std::sqrt(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g / (2.0 * n.out())); });
}
Tensor square(const Tensor& x) {
  return make("square", unary(x.value(), [](double a) { return a * a; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, 2.0 * g * n.in(0)); });
}
Tensor pow(const Tensor& x, double p) {
  if (p == 0.0) return Tensor(Array(xt::ones<double>(x.value().shape())));
  if (p == 1.0) return x;
  if (p == 2.0) return square(x);
  return make("pow", unary(x.value(), [p](double a) { return std::pow(a, p); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                const double p = n.param();
                d(0, g * p * pow(n.in(0), p - 1.0));
              },
              {.param = p});
}
Tensor pow(const Tensor& x, const Tensor& y) {
  return make("pow", binary("pow", x.value(), y.value(), [](double a, double b) { return std::pow(a, b); }), {x, y},
              [](const Node& n, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, sum_to(g * n.in(1) * pow(n.in(0), n.in(1) - 1.0), shape_in(n, 0)));
                if (d.needs(1)) d(1, sum_to(g * n.out() * log(n.in(0)), shape_in(n, 1)));
              });
}
Tensor abs(const Tensor& x) {
  return make("abs", unary(x.value(), [](double a) { return std::abs(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * Tensor(sign(n.in(0).value()))); });
}
Tensor sin(const Tensor& x) {
  return make("sin", unary(x.value(), [](double a) { return std::sin(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * cos(n.in(0))); });
}
Tensor cos(const Tensor& x) {
  return make("cos", unary(x.value(), [](double a) { return std::cos(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, -g * sin(n.in(0))); });
}
Tensor tan(const Tensor& x) {
  return make("tan", unary(x.value(), [](double a) { return std::tan(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * (1.0 + square(n.out()))); });
}
Tensor tanh(const Tensor& x) {
  return make("tanh", unary(x.value(), [](double a) { return std::tanh(a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * (1.0 - square(n.out()))); });
}
Tensor sigmoid(const Tensor& x) {
  // 1/(1+e^-a) for a >= 0 and e^a/(1+e^a) otherwise: no overflow either way.
  return make("sigmoid", unary(x.value(), [](double a) {
                return a >= 0 ? 1.0 / (1.0 + std::exp(-a)) : std::exp(a) / (1.0 + std::exp(a));
              }),
              {x}, [](const Node& n, const Tensor& g, Grads& d) { d(0, g * n.out() * (1.0 - n.out())); });
}
Tensor relu(const Tensor& x) {
  return make("relu", unary(x.value(), [](double a) { return a > 0 ? a : 0.0; }), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, g * mask(n.in(0).value(), [](double a) { return a > 0; })); });
}
Tensor softplus(const Tensor& x) {
  return make("softplus", unary(x.value(), [](double a) { return std::max(a, 0.0) + std::log1p(std::exp(-std::abs(a))); }),
              {x}, [](const Node& n, const Tensor& g, Grads& d) { d(0, g * sigmoid(n.in(0))); });
}

// --- selection -------------------------------------------------------------------------------------------------

namespace {
// Share of the cotangent that goes to the first operand of maximum/minimum: 1 where it wins, 1/2 on ties.
Tensor win_share(const Array& a, const Array& b, const char* op, bool larger) {
  return Tensor(binary(op, a, b, [larger](double u, double v) {
    return u == v ? 0.5 : ((u > v) == larger ? 1.0 : 0.0);
  }));
}
void select_rule(const Node& n, const Tensor& g, Grads& d, bool larger) {
  const Tensor s = win_share(n.in(0).value(), n.in(1).value(), n.op, larger);
  if (d.needs(0)) d(0, sum_to(g * s, shape_in(n, 0)));
  if (d.needs(1)) d(1, sum_to(g * (1.0 - s), shape_in(n, 1)));
}
}  // namespace

Tensor maximum(const Tensor& x, const Tensor& y) {
  return make("maximum", binary("maximum", x.value(), y.value(), [](double a, double b) { return a >= b ? a : b; }),
              {x, y}, [](const Node& n, const Tensor& g, Grads& d) { select_rule(n, g, d, true); });
}
Tensor minimum(const Tensor& x, const Tensor& y) {
  return make("minimum", binary("minimum", x.value(), y.value(), [](double a, double b) { return a <= b ? a : b; }),
              {x, y}, [](const Node& n, const Tensor& g, Grads& d) { select_rule(n, g, d, false); });
}

Tensor where(Array cond, Tensor x, Tensor y) {
  const Shape s = broadcast_shapes(broadcast_shapes(shape_of(cond), x.shape(), "where"), y.shape(), "where");
  const Array c = unary(Array(xt::broadcast(cond, s)), [](double v) { return v != 0.0 ? 1.0 : 0.0; });
  // The value is selected exactly (an inf or NaN in the branch not taken does not leak); the rule multiplies by
  // the constant 0/1 mask, so it differentiates again at every order.
  const Array xv = xt::broadcast(x.value(), s), yv = xt::broadcast(y.value(), s);
  Array v = Array::from_shape(s);
  for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = c.data()[i] != 0.0 ? xv.data()[i] : yv.data()[i];
  return make("where", std::move(v), {x, y, Tensor(c)},
              [](const Node& n, const Tensor& g, Grads& d) {
                const Tensor& c = n.in(2);
                if (d.needs(0)) d(0, sum_to(g * c, shape_in(n, 0)));
                if (d.needs(1)) d(1, sum_to(g * (1.0 - c), shape_in(n, 1)));
              });
}

Tensor clip(const Tensor& x, double lo, double hi) {
  if (!(lo <= hi))
    throw ValueError("xgrad::clip: lo (" + std::to_string(lo) + ") must not exceed hi (" + std::to_string(hi) + ")");
  return make("clip", unary(x.value(), [lo, hi](double a) { return a < lo ? lo : (a > hi ? hi : a); }), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                // 1 where the value passed through unclipped (x == clip(x)), else 0.
                d(0, g * Tensor(binary("clip", n.in(0).value(), n.out().value(),
                                       [](double a, double b) { return a == b ? 1.0 : 0.0; })));
              });
}

Array sign(const Array& x) { return unary(x, [](double a) { return a > 0 ? 1.0 : (a < 0 ? -1.0 : 0.0); }); }

}  // namespace xgrad
