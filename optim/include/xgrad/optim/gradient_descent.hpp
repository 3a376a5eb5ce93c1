#pragma once
// Gradient descent, as jaxopt.GradientDescent: x_{k+1} = x_k - t_k grad f(x_k), with a fixed step (stepsize > 0)
// or an Armijo backtracking line search (stepsize <= 0, the default; each search starts from the previous step
// times `increase_factor`). With `acceleration` it is FISTA / Nesterov's method: the gradient step is taken from
// the extrapolated point y_k = x_k + (t_{k-1} - 1) / t_k (x_k - x_{k-1}), restarting the momentum whenever the
// value goes up (O'Donoghue & Candes' function restart).
//
//   xgrad::optim::GradientDescent solver{.maxiter = 1000, .tol = 1e-8};
//   auto [params, state] = solver.run(f, x0, args...);
//
// `tol` measures the gradient's global Euclidean norm at the current parameters: state.error = ||grad f(params)||_2
// over all leaves, and the status is Status::converged with converged_by = gtol exactly when state.error <= tol. `ftol`
// and `xtol` (scipy's, off by default) can also end a run converged; `stall_iterations` ends one that makes no progress
// as Status::stalled (solver.hpp, progress_tests).
#include <cmath>
#include <limits>
#include <utility>

#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// State of GradientDescent for parameters of type P. Numeric fields are plain numbers.
template <class P>
struct GradientDescentState {
  int iter_num = 0;             ///< iterations done
  double value = 0.0;           ///< f at the current parameters
  double error = 0.0;           ///< ||grad||_2 (global over the leaves): the quantity compared with tol
  double stepsize = 0.0;        ///< last step used (0 before the first)
  int num_fun_eval = 0;         ///< objective evaluations (each also computes the gradient)
  int num_grad_eval = 0;        ///< gradient evaluations
  int num_linesearch_iter = 0;  ///< line-search trial evaluations, over all iterations
  P grad;                       ///< gradient at the current parameters, params' type
  Status status = Status::running;  ///< see Status
  ConvergenceTest converged_by = ConvergenceTest::none;  ///< which test made the status converged
  double best_value = std::numeric_limits<double>::infinity();  ///< lowest value reached by an iteration (stall test)
  double best_error = std::numeric_limits<double>::infinity();  ///< lowest error reached by an iteration (stall test)
  int num_stall_iter = 0;       ///< iterations in a row lowering neither best_value nor best_error
  Array aux_params{};            ///< acceleration: the extrapolated point y (flat), else unused
  double aux_value = 0.0;       ///< acceleration: f(y)
  Array aux_grad{};              ///< acceleration: grad f(y) (flat)
  double momentum = 1.0;        ///< acceleration: FISTA's t_k
};

/// The gradient-descent solver; options are public fields with defaults (designated initializers work).
struct GradientDescent {
  int maxiter = 500;             ///< most iterations for run()
  double tol = 1e-5;             ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  double stepsize = 0.0;         ///< fixed step when > 0; backtracking line search when <= 0
  bool acceleration = false;     ///< FISTA / Nesterov acceleration (non-monotone: ftol and the stall test are off)
  BacktrackingLineSearch linesearch{.c1 = 0.5};  ///< Armijo with c1 = 1/2: f(x - t g) <= f(x) - t/2 ||g||^2
  double increase_factor = 2.0;  ///< each backtracking search starts at the previous step times this
  bool verbose = false;          ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};           ///< called after each iteration; returning true stops run()

  /// The state at `params`: evaluates f and its gradient once.
  template <class F, class P, class... Args>
  GradientDescentState<P> init_state(const F& fun, const P& params, const Args&... args) const {
    auto s = detail::initial_state<GradientDescentState<P>>(fun, params, tol, args...);
    if (acceleration) {
      s.aux_params = flat::values(params);
      s.aux_value = s.value;
      s.aux_grad = flat::values(s.grad);
    }
    return s;
  }

  /// One iteration. A failed step leaves params unchanged (always finite) and sets the status.
  template <class F, class P, class... Args>
  OptStep<P, GradientDescentState<P>> update(const F& fun, const P& params, GradientDescentState<P> s,
                                             const Args&... args) const {
    if (s.status == Status::non_finite) return {params, std::move(s)};
    auto vg = flat_objective(fun, params, args...);
    const auto raveled = tree::ravel(params);  // the flat parameters and the way back to their pytree
    const Array& x = raveled.first;
    const auto& unravel = raveled.second;
    const Array g = flat::values(s.grad);
    const bool acc = acceleration && s.aux_params.size() == x.size();
    const Array& y = acc ? s.aux_params : x;
    const double fy = acc ? s.aux_value : s.value;
    const Array& gy = acc ? s.aux_grad : g;
    ++s.iter_num;

    Array xn, gn;
    double fn = 0.0, t = stepsize;
    if (stepsize > 0.0) {
      xn = flat::axpy(y, -stepsize, gy);
      auto [f1, g1] = vg(xn);
      ++s.num_fun_eval;
      ++s.num_grad_eval;
      if (!std::isfinite(f1) || !flat::all_finite(g1)) {
        s.status = Status::non_finite;
        return {params, std::move(s)};
      }
      fn = f1;
      gn = std::move(g1);
    } else {
      const double t0 = s.stepsize > 0.0 ? s.stepsize * increase_factor : 1.0;
      const Array d = flat::axpy(gy, -2.0, gy);  // -grad f(y)
      auto r = linesearch.search(vg, y, fy, gy, d, t0);
      s.num_fun_eval += r.evaluations;
      s.num_grad_eval += r.evaluations;
      s.num_linesearch_iter += r.evaluations;
      if (!r.decrease) {
        s.stepsize = 0.0;
        s.status = r.non_finite ? Status::non_finite : Status::line_search_failed;
        return {params, std::move(s)};
      }
      xn = std::move(r.params);
      fn = r.value;
      gn = std::move(r.grad);
      t = r.stepsize;
    }

    if (acceleration) {
      double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * s.momentum * s.momentum));
      Array yn;
      double fyn = 0.0;
      Array gyn;
      bool restart = fn > s.value;
      if (!restart) {
        yn = flat::axpy(xn, (s.momentum - 1.0) / tn, flat::sub(xn, x));
        auto [f2, g2] = vg(yn);
        ++s.num_fun_eval;
        ++s.num_grad_eval;
        restart = !std::isfinite(f2) || !flat::all_finite(g2);
        fyn = f2;
        gyn = std::move(g2);
      }
      if (restart) {
        tn = 1.0;
        yn = xn;
        fyn = fn;
        gyn = gn;
      }
      s.momentum = tn;
      s.aux_params = std::move(yn);
      s.aux_value = fyn;
      s.aux_grad = std::move(gyn);
    }
    const double f_old = s.value;
    s.value = fn;
    s.error = flat::norm2(gn);
    s.stepsize = t;
    s.grad = unravel(gn);
    s.status = detail::initial_status(s.value, s.error, tol);
    if (s.status == Status::converged) s.converged_by = ConvergenceTest::gtol;
    detail::progress_tests(*this, s, f_old, x, xn, !acceleration);  // FISTA raises f by design
    return {unravel(xn), std::move(s)};
  }

  /// Iterate from init_params until converged, a failure status, maxiter iterations (Status::max_iterations), or
  /// the callback asks to stop. Returns {params, state}.
  template <class F, class P, class... Args>
  OptStep<P, GradientDescentState<P>> run(const F& fun, const P& init_params, const Args&... args) const {
    return detail::run_solver(*this, "GradientDescent", fun, init_params, args...);
  }

  /// This solver bound to `fun`: init_state/update/run without the objective argument.
  template <class F>
  BoundSolver<GradientDescent, F> bind(F fun) const {
    return {*this, std::move(fun)};
  }

};

}  // namespace xgrad::optim
