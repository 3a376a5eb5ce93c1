#pragma once
// Bilevel learning: hyperparameters theta learned by descending an outer (validation) loss through the solution of
// an inner problem,
//
//     min_theta  outer(x*(theta), theta, data...)   with   x*(theta) = argmin_x inner(x, theta, data...),
//
// the hypergradient coming from implicit differentiation (argmin.hpp), and each inner solve warm-started from the
// previous solution. The outer step is either an optax-style transform (a fixed number of steps) or an optim solver
// run on theta -> outer(x*(theta), theta) to its own tolerance (LBFGS with its line search: the outer problem has
// exact gradients, so it converges like any smooth problem):
//
//   xgrad::implicit::Bilevel bilevel{.outer = optim::adam(0.1), .inner = optim::LBFGS{.tol = 1e-10}, .steps = 50};
//   auto result = bilevel.run(inner, outer, log_alpha0, w0, X_train, y_train, X_val, y_val);
//   result.theta, result.x, result.history[k].outer_loss, ...
//
//   // To a hypergradient of 1e-9, the inner and adjoint tolerances chosen as the outer gradient shrinks:
//   xgrad::implicit::Bilevel b{.outer = optim::LBFGS{.tol = 1e-9}, .inner = optim::LBFGS{.tol = 1e-4}, .steps = 100,
//                              .implicit = {.solver = {.method = Method::cg}, .hypergradient_tol = 1e-11,
//                                           .hypergradient_rtol = 0.1}};
//
// inner(x, theta, data...) and outer(x, theta, data...) both return one-element Tensors; all data arguments are
// passed to both. Each history entry records the outer loss, the hypergradient norm, and the inner solve's
// iterations and status, so a run that went wrong says where.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/flat.hpp"
#include "xgrad/implicit/argmin.hpp"
#include "xgrad/optim/solver_state.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::implicit {

/// One outer step of a bilevel run.
struct BilevelStep {
  int step = 0;              ///< outer step (0-based)
  double outer_loss = 0.0;   ///< outer loss at theta before the step
  double grad_norm = 0.0;    ///< ||d outer / d theta||_2 (global over theta's leaves)
  int inner_iterations = 0;  ///< iterations of the inner solve
  std::string inner_status;  ///< its status ("converged", ...)
  double inner_tol = 0.0;    ///< the tolerance of the next inner solve (automatic tolerances; else 0)
  double hypergradient_bound = 0.0;  ///< the error bound of the last hypergradient (ImplicitReport::error_bound; inf
                                     ///< when not computed)
  double seconds = 0.0;      ///< wall time since the run started
};

/// What Bilevel::run returns.
template <class Theta, class X>
struct BilevelResult {
  Theta theta;                       ///< the learned hyperparameters
  X x;                               ///< the inner solution at the last evaluated theta (before the last step)
  std::vector<BilevelStep> history;  ///< one entry per outer step
  std::string outer_status;          ///< an outer solver's final status ("" for a transform)
  int evaluations = 0;               ///< evaluations of the outer objective (each one inner and one adjoint solve)
};

/// The bilevel loop; options are public fields. `Outer` is an optax-style transform or an optim solver, `Inner` an
/// optim solver.
template <class Outer, class Inner>
struct Bilevel {
  Outer outer;                 ///< transform (e.g. optim::adam(0.1)) or solver (optim::LBFGS{.tol = 1e-9}) for theta
  Inner inner;                 ///< solver for x (e.g. optim::LBFGS{.tol = 1e-10})
  int steps = 100;             ///< outer steps (a solver's iterations: its maxiter is set to this)
  ImplicitOptions implicit{.solver = {.method = Method::cg}};  ///< linear solver and failure policy
  bool verbose = false;        ///< print one progress line per outer step
  /// Called after every outer step with (step, theta); return true to stop.
  std::function<bool(const BilevelStep&)> callback{};

  template <class InnerF, class OuterF, class Theta, class X, class... Data>
  BilevelResult<Theta, X> run(const InnerF& inner_f, const OuterF& outer_f, const Theta& theta0, const X& x0,
                              const Data&... data) const {
    BilevelResult<Theta, X> res{theta0, x0, {}, "", 0};
    ImplicitOptions opts = implicit;
    if (!opts.report) opts.report = std::make_shared<ImplicitReport>();  // one report: tolerances carry over
    const auto start = std::chrono::steady_clock::now();
    BilevelStep info;
    // The outer objective at theta: the inner solve warm-started from the last solution, then the outer loss.
    auto objective = [&](const Theta& th) {
      auto [x, s] = argmin(opts, inner, inner_f, res.x, th, data...);
      info.inner_iterations = s.iter_num;
      info.inner_status = optim::to_string(s.status);
      ++res.evaluations;
      return std::pair{outer_f(x, th, data...), detail::stop(x)};
    };
    auto finish_step = [&](BilevelStep& st) {
      st.inner_tol = opts.report->inner_tol;
      st.hypergradient_bound = opts.report->error_bound.bound;
      st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (verbose)
        std::printf("bilevel step %4d  outer loss %.12g  |grad| %.3e  inner %4d iters %s  next tol %.1e  bound "
                    "%.1e  %.3fs\n", st.step, st.outer_loss, st.grad_norm, st.inner_iterations,
                    st.inner_status.c_str(), st.inner_tol, st.hypergradient_bound, st.seconds);
      res.history.push_back(st);
      return callback && callback(st);
    };
    if constexpr (requires { outer.init(theta0); }) {  // an optax-style transform
      auto state = outer.init(theta0);
      for (int k = 0; k < steps; ++k) {
        info.step = k;
        auto [value, x, g] = value_and_grad_aux(objective)(res.theta);
        info.outer_loss = value.item();
        info.grad_norm = flat::norm2(flat::values(g));
        res.x = std::move(x);  // warm start for the next solve
        auto [updates, next] = outer.update(g, state, res.theta);
        res.theta = optim::apply_updates(res.theta, updates);
        state = std::move(next);
        if (finish_step(info)) break;
      }
    } else {
      // An outer solver on theta -> outer(x*(theta), theta).
      auto solver = outer;
      auto user_callback = solver.callback;
      const bool automatic = opts.hypergradient_tol > 0.0 || opts.hypergradient_rtol > 0.0 || opts.value_tol > 0.0;
      double last_value = std::numeric_limits<double>::quiet_NaN(), last_error = 0.0;
      double first_value = std::numeric_limits<double>::quiet_NaN();  // a run's value at its start
      bool refresh = false, user_stop = false;
      solver.callback = [&](const optim::IterationInfo& it) {
        // The line search compares outer values: their error stays a hundredth of the next decrease, predicted from
        // the last one and the gradient's shrinking (a decrease scales like the gradient squared; a tenth of it on the
        // first iteration). When the accepted value itself may be off by more than a tenth of that (its error is
        // about ||x_bar|| ||x_hat - x*||), the run starts again from here (refresh) with the value recomputed.
        const double decrease = (std::isnan(last_value) ? first_value : last_value) - it.value;
        if (automatic && decrease > 0.0) {
          const double shrink = last_error > 0.0 ? std::min(1.0, it.error / last_error) : 0.1;
          const double predicted = decrease * shrink * shrink;
          opts.value_tol = std::max(1e-2 * predicted, 1e-15 * std::abs(it.value));
          const ErrorBound& eb = opts.report->error_bound;
          refresh = refresh || eb.cotangent_norm * eb.solution_error > 0.1 * predicted;
          // At once for the next solve (the node would apply it only after the next derivative).
          if (eb.sigma_min > 0.0 && eb.cotangent_norm > 0.0 && opts.report->inner_tol > 0.0)
            opts.report->inner_tol = std::max(
                std::min(opts.report->inner_tol, 0.5 * opts.value_tol * eb.sigma_min / eb.cotangent_norm), 1e-13);
        }
        last_value = it.value;
        last_error = it.error;
        BilevelStep st = info;
        st.step = static_cast<int>(res.history.size());  // counted over the runs
        st.outer_loss = it.value;
        st.grad_norm = it.error;
        user_stop = finish_step(st) || (user_callback && user_callback(it));
        return user_stop || refresh;
      };
      auto f = [&](const Theta& th) {
        auto [value, x] = objective(th);
        res.x = std::move(x);  // warm start for the next solve
        if (std::isnan(first_value)) first_value = value.item();
        return value;
      };
      // With automatic tolerances the values the solver compares must be accurate to a fraction of the decreases
      // it will see: the run starts again from where it is when an accepted value may be too far off (refresh), and
      // when its line search fails on values of mixed accuracy (or it stalls), with every tolerance a hundred times
      // tighter (at most 5 times). `steps` bounds the iterations over all runs.
      int used = 0, noisy_restarts = 0;
      while (true) {
        refresh = false;
        solver.maxiter = steps - used;
        auto [theta, state] = solver.run(f, res.theta);
        used += state.iter_num;
        res.theta = std::move(theta);
        res.outer_status = optim::to_string(state.status);
        // The next run starts where this one stopped: its first value is fresh, the gradient norm there is known.
        last_value = first_value = std::numeric_limits<double>::quiet_NaN();
        if (user_stop || used >= steps) break;
        if (refresh) continue;
        const bool noisy = state.status == optim::Status::line_search_failed || state.status == optim::Status::stalled;
        if (!automatic || !noisy || noisy_restarts++ == 5) break;
        opts.value_tol = opts.value_tol > 0.0 ? 1e-2 * opts.value_tol : 1e-2 * opts.report->inner_tol;
        opts.report->inner_tol *= 1e-2;
      }
    }
    return res;
  }
};

}  // namespace xgrad::implicit
