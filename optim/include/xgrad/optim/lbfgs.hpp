#pragma once
// Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, Alg. 7.4 and 7.5), as jaxopt.LBFGS:
//
//   xgrad::optim::LBFGS solver;
//   solver.maxiter = 500;
//   solver.tol = 1e-10;
//   auto [params, state] = solver.run(f, x0, data, lambda);   // f(params, data, lambda) -> one-element Tensor
//   if (state.status != xgrad::optim::Status::converged) ... to_string(state.status) ...
//
// Params may be any pytree (a Tensor, a struct of Tensors, std::vector<Tensor>, ...). The solver works on the flat
// view of the parameters (all leaves concatenated, tree::ravel order), so the two-loop recursion, every inner
// product and every norm are global across the leaves: splitting the parameter vector over several leaves gives
// the same iterates as one leaf (jaxopt computed them per leaf: jaxopt #468). The histories are stored flat.
//
// `tol` measures the gradient's global Euclidean norm: state.error = ||grad f(params)||_2 over all leaves, and the
// status is Status::converged with converged_by = gtol exactly when state.error <= tol. `ftol` and `xtol` (scipy's, off
// by default) can also end a run converged; `stall_iterations` ends one that makes no progress as Status::stalled
// (solver.hpp, progress_tests).
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "xgrad/optim/hager_zhang.hpp"
#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/more_thuente.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// State of LBFGS for parameters of type P. Numeric fields are plain numbers.
template <class P>
struct LBFGSState {
  int iter_num = 0;             ///< iterations done
  double value = 0.0;           ///< f at the current parameters
  double error = 0.0;           ///< ||grad||_2 (global over the leaves): the quantity compared with tol
  double stepsize = 0.0;        ///< last accepted line-search step (0 before the first)
  int num_fun_eval = 0;         ///< objective evaluations (each also computes the gradient)
  int num_grad_eval = 0;        ///< gradient evaluations
  int num_linesearch_iter = 0;  ///< line-search trial evaluations, over all iterations
  P grad;                       ///< gradient at the current parameters, params' type
  Status status = Status::running;  ///< see Status
  ConvergenceTest converged_by = ConvergenceTest::none;  ///< which test made the status converged
  double best_value = std::numeric_limits<double>::infinity();  ///< lowest value reached by an iteration (stall test)
  double best_error = std::numeric_limits<double>::infinity();  ///< lowest error reached by an iteration (stall test)
  int num_stall_iter = 0;       ///< iterations in a row lowering neither best_value nor best_error
  std::vector<Array> s_history{};    ///< flat steps s_k = x_{k+1} - x_k, oldest first
  std::vector<Array> y_history{};    ///< flat gradient changes y_k = g_{k+1} - g_k, oldest first
  std::vector<double> rho_history{}; ///< 1 / <s_k, y_k>
  double gamma = 1.0;               ///< initial inverse-Hessian scaling <s, y> / <y, y> of the newest pair
};

/// The LBFGS solver; options are public fields with defaults (designated initializers work).
struct LBFGS {
  int maxiter = 500;         ///< most iterations for run()
  double tol = 1e-5;         ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  int history_size = 10;     ///< pairs (s, y) kept
  LineSearchKind linesearch = LineSearchKind::zoom;  ///< which line search
  ZoomLineSearch zoom{};     ///< options of the zoom search
  BacktrackingLineSearch backtracking{.condition = LineSearchCondition::strong_wolfe};  ///< options of backtracking
  MoreThuenteLineSearch more_thuente{};  ///< options of the More-Thuente search
  HagerZhangLineSearch hager_zhang{};    ///< options of the Hager-Zhang search
  /// The pair (s, y) is skipped when <s, y> <= curvature_eps * (-<g, s>), g the gradient before the step: scipy's
  /// L-BFGS-B test (lbfgsb.f, `dr <= epsmch * ddum`). Both sides are in f's units, so the test does not depend on
  /// the problem's scaling (the former `<s, y> <= 1e-10 <y, y>` dropped every pair once the curvature exceeded 1e10).
  double curvature_eps = std::numeric_limits<double>::epsilon();
  bool verbose = false;      ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};       ///< called after each iteration; returning true stops run()

  /// The state at `params`: evaluates f and its gradient once.
  template <class F, class P, class... Args>
  LBFGSState<P> init_state(const F& fun, const P& params, const Args&... args) const {
    return detail::initial_state<LBFGSState<P>>(fun, params, tol, args...);
  }

  /// One iteration from (params, state): direction by the global two-loop recursion, then the line search. On a
  /// failed search with a non-empty history the history is dropped and the search retried once along -grad; if
  /// that fails too the status says why (unbounded, non_finite when a trial point was NaN/Inf, else
  /// line_search_failed) and params move only to the best trial point with sufficient decrease, if any: they stay
  /// finite.
  template <class F, class P, class... Args>
  OptStep<P, LBFGSState<P>> update(const F& fun, const P& params, LBFGSState<P> s,
                                   const Args&... args) const {
    if (s.status == Status::non_finite) return {params, std::move(s)};
    auto vg = flat_objective(fun, params, args...);
    const auto raveled = tree::ravel(params);  // the flat parameters and the way back to their pytree
    const Array& x = raveled.first;
    const auto& unravel = raveled.second;
    const Array g = flat::values(s.grad);
    auto reset = [&] {
      s.s_history.clear();
      s.y_history.clear();
      s.rho_history.clear();
      s.gamma = 1.0;
    };
    Array d = direction(s, g);
    LineSearchResult r = detail::search_or_steepest(*this, vg, s, x, g, d, 1.0, s.s_history.empty(), reset);
    ++s.iter_num;
    if (r.ok) {
      Array sv = flat::sub(r.params, x), yv = flat::sub(r.grad, g);
      const double sy = flat::dot(sv, yv), yy = flat::dot(yv, yv), descent = -flat::dot(g, sv);
      if (yy > 0.0 && sy > curvature_eps * descent && history_size > 0) {
        s.s_history.push_back(std::move(sv));
        s.y_history.push_back(std::move(yv));
        s.rho_history.push_back(1.0 / sy);
        if (static_cast<int>(s.s_history.size()) > history_size) {
          s.s_history.erase(s.s_history.begin());
          s.y_history.erase(s.y_history.begin());
          s.rho_history.erase(s.rho_history.begin());
        }
        s.gamma = sy / yy;
      }
    }
    P next = detail::record_step(*this, s, r, params, x, unravel);
    return {std::move(next), std::move(s)};
  }

  /// Iterate from init_params until converged, a failure status, maxiter iterations (Status::max_iterations), or
  /// the callback asks to stop. Returns {params, state}.
  template <class F, class P, class... Args>
  OptStep<P, LBFGSState<P>> run(const F& fun, const P& init_params, const Args&... args) const {
    return detail::run_solver(*this, "LBFGS", fun, init_params, args...);
  }

  /// This solver bound to `fun`: init_state/update/run without the objective argument.
  template <class F>
  BoundSolver<LBFGS, F> bind(F fun) const {
    return {*this, std::move(fun)};
  }

  /// The two-loop recursion: -H g for the inverse-Hessian approximation H of `s` (flat, global over all leaves).
  template <class S>
  static Array direction(const S& s, const Array& g) {
    const std::size_t m = s.s_history.size(), n = g.size();
    Array q = g;
    std::vector<double> alpha(m);
    for (std::size_t k = m; k-- > 0;) {
      alpha[k] = s.rho_history[k] * flat::dot(s.s_history[k], q);
      const double* y = s.y_history[k].data();
      double* pq = q.data();
      for (std::size_t i = 0; i < n; ++i) pq[i] -= alpha[k] * y[i];
    }
    double* r = q.data();
    for (std::size_t i = 0; i < n; ++i) r[i] *= s.gamma;
    for (std::size_t k = 0; k < m; ++k) {
      const double beta = s.rho_history[k] * flat::dot(s.y_history[k], q);
      const double* sk = s.s_history[k].data();
      for (std::size_t i = 0; i < n; ++i) r[i] += (alpha[k] - beta) * sk[i];
    }
    for (std::size_t i = 0; i < n; ++i) r[i] = -r[i];
    return q;
  }

};

}  // namespace xgrad::optim
