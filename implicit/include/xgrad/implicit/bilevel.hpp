#pragma once
// Bilevel learning: hyperparameters theta learned by descending an outer (validation) loss through the solution of
// an inner problem,
//
//     min_theta  outer(x*(theta), theta, data...)   with   x*(theta) = argmin_x inner(x, theta, data...),
//
// the hypergradient coming from implicit differentiation (argmin.hpp), the outer step from any optax-style
// transform, and each inner solve warm-started from the previous solution.
//
//   xgrad::implicit::Bilevel bilevel{.outer = optim::adam(0.1), .inner = optim::LBFGS{.tol = 1e-10}, .steps = 50};
//   auto result = bilevel.run(inner, outer, log_alpha0, w0, X_train, y_train, X_val, y_val);
//   result.theta, result.x, result.history[k].outer_loss, ...
//
// inner(x, theta, data...) and outer(x, theta, data...) both return one-element Tensors; all data arguments are
// passed to both. Each history entry records the outer loss, the hypergradient norm, and the inner solve's
// iterations and status, so a run that went wrong says where.
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/flat.hpp"
#include "xgrad/implicit/argmin.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::implicit {

/// One outer step of a bilevel run.
struct BilevelStep {
  int step = 0;              ///< outer step (0-based)
  double outer_loss = 0.0;   ///< outer loss at theta before the step
  double grad_norm = 0.0;    ///< ||d outer / d theta||_2 (global over theta's leaves)
  int inner_iterations = 0;  ///< iterations of the inner solve
  std::string inner_status;  ///< its status ("converged", ...)
  double seconds = 0.0;      ///< wall time since the run started
};

/// What Bilevel::run returns.
template <class Theta, class X>
struct BilevelResult {
  Theta theta;                       ///< the learned hyperparameters
  X x;                               ///< the inner solution at the last evaluated theta (before the last step)
  std::vector<BilevelStep> history;  ///< one entry per outer step
};

/// The bilevel loop; options are public fields. `Outer` is an optax-style transform, `Inner` an optim solver.
template <class Outer, class Inner>
struct Bilevel {
  Outer outer;                 ///< transform for theta (e.g. optim::adam(0.1))
  Inner inner;                 ///< solver for x (e.g. optim::LBFGS{.tol = 1e-10})
  int steps = 100;             ///< outer steps
  ImplicitOptions implicit{.solver = {.method = Method::cg}};  ///< linear solver and failure policy
  bool verbose = false;        ///< print one progress line per outer step
  /// Called after every outer step with (step, theta); return true to stop.
  std::function<bool(const BilevelStep&)> callback{};

  template <class InnerF, class OuterF, class Theta, class X, class... Data>
  BilevelResult<Theta, X> run(const InnerF& inner_f, const OuterF& outer_f, const Theta& theta0, const X& x0,
                              const Data&... data) const {
    BilevelResult<Theta, X> res{theta0, x0, {}};
    auto state = outer.init(theta0);
    const auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < steps; ++k) {
      BilevelStep info;
      info.step = k;
      auto loss = [&](const Theta& th) {
        auto [x, s] = argmin(implicit, inner, inner_f, res.x, th, data...);
        info.inner_iterations = s.iter_num;
        info.inner_status = optim::to_string(s.status);
        return std::pair{outer_f(x, th, data...), detail::stop(x)};
      };
      auto [value, x, g] = value_and_grad_aux(loss)(res.theta);
      info.outer_loss = value.item();
      info.grad_norm = flat::norm2(flat::values(g));
      res.x = std::move(x);  // warm start for the next solve
      auto [updates, next] = outer.update(g, state, res.theta);
      res.theta = optim::apply_updates(res.theta, updates);
      state = std::move(next);
      info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (verbose)
        std::printf("bilevel step %4d  outer loss %.9g  |grad| %.3e  inner %4d iters %s  %.2fs\n", k,
                    info.outer_loss, info.grad_norm, info.inner_iterations, info.inner_status.c_str(), info.seconds);
      res.history.push_back(info);
      if (callback && callback(info)) break;
    }
    return res;
  }
};

}  // namespace xgrad::implicit
