// 01_gradients: the transforms on small functions, each checked against a derivative worked out by hand.
//
// Run: ./example_01_gradients        (writes derivatives.csv and, with gnuplot, derivatives.png)
#include <cmath>
#include <cstdio>
#include <xgrad/xgrad.hpp>

#include "../plot.hpp"

using xgrad::Array;
using xgrad::Tensor;

// A model is an ordinary struct: a pytree. grad returns the same struct.
struct Line {
  Tensor slope;
  Tensor intercept;
};

static int failures = 0;
static void expect(const char* what, double got, double want) {
  const bool ok = std::abs(got - want) <= 1e-9 * std::max(1.0, std::abs(want));
  std::printf("  %-44s %12.8f  (by hand %12.8f) %s\n", what, got, want, ok ? "ok" : "MISMATCH");
  failures += !ok;
}

int main() {
  using namespace xgrad;

  // 1. grad: f(x) = x^2 sin(x);  f'(x) = 2x sin x + x^2 cos x.
  auto f = [](const Tensor& x) { return sum(square(x) * sin(x)); };
  const double x0 = 1.3;
  std::printf("grad and value_and_grad of f(x) = x^2 sin(x) at x = %.1f\n", x0);
  expect("f'(x)", grad(f)(Tensor(x0)).item(), 2 * x0 * std::sin(x0) + x0 * x0 * std::cos(x0));
  auto [value, slope] = value_and_grad(f)(Tensor(x0));
  expect("f(x)", value.item(), x0 * x0 * std::sin(x0));

  // 2. Higher order: grad of grad.  f''(x) = 2 sin x + 4x cos x - x^2 sin x.
  auto df = [&](const Tensor& x) { return sum(grad(f)(x)); };
  expect("f''(x) = grad(grad(f))", grad(df)(Tensor(x0)).item(),
         2 * std::sin(x0) + 4 * x0 * std::cos(x0) - x0 * x0 * std::sin(x0));

  // 3. vjp and jvp of a vector function g(x) = [x0 x1, exp(x0)]. J = [[x1, x0], [e^x0, 0]].
  auto g = [](const Tensor& x) {
    Tensor a = take(x, {0}), b = take(x, {1});
    return concatenate({a * b, exp(a)});
  };
  Tensor x(Array{0.5, -2.0});
  auto [y, pullback] = vjp(g, x);
  Tensor u(Array{1.0, 3.0});  // u^T J = [x1 + 3 e^x0, x0]
  Tensor uJ = pullback(u);
  std::printf("vjp and jvp of g(x) = [x0 x1, exp(x0)] at x = (0.5, -2)\n");
  expect("(u^T J)_0", uJ.value()(0), -2.0 + 3 * std::exp(0.5));
  expect("(u^T J)_1", uJ.value()(1), 0.5);
  auto [y2, Jv] = jvp(g, x, Tensor(Array{1.0, 1.0}));  // J v = [x1 + x0, e^x0]
  expect("(J v)_0", Jv.value()(0), -1.5);
  expect("(J v)_1", Jv.value()(1), std::exp(0.5));

  // 4. Hessian-vector product of h(x) = sum(x^4) / 4: H = diag(3 x^2).
  auto h = [](const Tensor& x) { return sum(pow(x, 4.0)) / 4.0; };
  Tensor hv = hvp(h, x, Tensor(Array{1.0, 2.0}));
  std::printf("hvp of h(x) = sum(x^4)/4\n");
  expect("(H v)_0", hv.value()(0), 3 * 0.25 * 1.0);
  expect("(H v)_1", hv.value()(1), 3 * 4.0 * 2.0);

  // 5. Pytrees: the gradient of a loss with respect to a struct is that struct.
  Line line{Tensor(2.0), Tensor(-1.0)};
  Tensor xs(Array{0.0, 1.0, 2.0}), ys(Array{1.0, 2.0, 2.0});
  auto loss = [](const Line& l, const Tensor& x, const Tensor& y) { return mean(square(l.slope * x + l.intercept - y)); };
  Line dl = grad(loss)(line, xs, ys);
  // residuals r = (2x - 1) - y = (-2, -1, 1); dL/dslope = mean(2 r x) = 2/3 (0 - 1 + 2); dL/dintercept = mean(2r)
  std::printf("pytrees: grad of a loss with respect to %s\n", tree::repr(line).c_str());
  expect("dL/dslope", dl.slope.item(), 2.0 / 3.0);
  expect("dL/dintercept", dl.intercept.item(), 2.0 * (-2.0) / 3.0);

  // 6. The picture: f, f', f'' on a grid, computed by the transforms.
  std::vector<double> gx, gf, gd1, gd2;
  for (int i = 0; i <= 200; ++i) {
    const double t = -6.0 + 12.0 * i / 200.0;
    gx.push_back(t);
    gf.push_back(f(Tensor(t)).item());
    gd1.push_back(grad(f)(Tensor(t)).item());
    gd2.push_back(grad(df)(Tensor(t)).item());
  }
  example::write_csv("derivatives.csv", {"x", "f", "df", "d2f"}, {gx, gf, gd1, gd2});
  example::gnuplot("derivatives.gp",
                   "set terminal pngcairo size 800,500; set output 'derivatives.png'\n"
                   "set datafile separator ','; set key top left; set grid\n"
                   "set title 'f(x) = x^2 sin(x) and its derivatives by grad and grad(grad)'\n"
                   "plot 'derivatives.csv' using 1:2 skip 1 with lines lw 2 title 'f', "
                   "'' using 1:3 skip 1 with lines lw 2 title 'grad f', "
                   "'' using 1:4 skip 1 with lines lw 2 title 'grad grad f'\n");

  std::printf("%s\n", failures ? "SOME CHECKS FAILED" : "all checks match the derivatives worked out by hand");
  return failures ? 1 : 0;
}
