#pragma once
// Helpers shared by the optim suites: tiny problems and a loop that runs a transform.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>
#include <xgrad/optim/optim.hpp>

namespace xgrad::testing {

/// Element i of a tensor.
inline double at(const Tensor& t, std::size_t i) { return t.value().data()[i]; }

/// The curvatures of the tiny quadratic 0.5 * sum(c * x^2), and its gradient c * x.
inline const std::vector<double> quad_c = {1.0, 3.0, 0.5};
inline Tensor quadratic(const Tensor& x) { return 0.5 * sum(Tensor(Array{1.0, 3.0, 0.5}) * square(x)); }

/// Rosenbrock in two variables, minimum 0 at (1, 1).
inline Tensor rosenbrock(const Tensor& x) {
  const Tensor a = slice(x, 0, 0, 1), b = slice(x, 0, 1, 2);
  return sum(square(1.0 - a) + 100.0 * square(b - square(a)));
}

/// Run `steps` updates of `opt` on `loss` from x0 and return the final parameters.
template <class Opt, class P, class Loss>
P run(const Opt& opt, P x, Loss loss, int steps) {
  auto state = opt.init(x);
  for (int k = 0; k < steps; ++k) {
    auto g = grad(loss)(x);
    auto [u, s] = opt.update(g, state, x);
    x = optim::apply_updates(x, u);
    state = s;
  }
  return x;
}

}  // namespace xgrad::testing
