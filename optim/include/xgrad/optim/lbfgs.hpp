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
// The driver (solver.hpp) owns the loop and the stopping tests; this file holds the descent: the direction by the
// global two-loop recursion (optim/src/lbfgs.cpp) and the history update.
//
// Stopping tests (`tol` on the global gradient norm, `ftol`, `xtol`, `stall_iterations`) and statuses: solver.hpp.
#include <limits>
#include <utility>
#include <vector>

#include "xgrad/optim/curvature_pair.hpp"
#include "xgrad/optim/search.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of LBFGS for parameters of type P: the shared record and the curvature pairs (flat).
template <class P>
struct LBFGSState : SolverState<P> {
  std::vector<Array> s_history{};    ///< flat steps s_k = x_{k+1} - x_k, oldest first
  std::vector<Array> y_history{};    ///< flat gradient changes y_k = g_{k+1} - g_k, oldest first
  std::vector<double> rho_history{}; ///< 1 / <s_k, y_k>
  double gamma = 1.0;               ///< initial inverse-Hessian scaling <s, y> / <y, y> of the newest pair
};

/// -H g for the L-BFGS inverse-Hessian approximation H of the pairs (s_k, y_k), rho_k = 1 / <s_k, y_k> (oldest
/// first) and initial scaling gamma: the two-loop recursion (N&W Alg. 7.4), flat, global over all leaves.
Array lbfgs_direction(const std::vector<Array>& s_history, const std::vector<Array>& y_history,
                      const std::vector<double>& rho_history, double gamma, const Array& g);

/// The LBFGS solver; options are public fields with defaults (designated initializers work). On a failed search
/// with a non-empty history the history is dropped and the search retried once along -grad; if that fails too the
/// status says why (unbounded, non_finite when a trial point was NaN/Inf, else line_search_failed) and params move
/// only to the best trial point with sufficient decrease, if any: they stay finite.
struct LBFGS {
  int maxiter = 500;         ///< most iterations for run()
  double tol = 1e-5;         ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  int history_size = 10;     ///< pairs (s, y) kept
  LineSearch linesearch = ZoomLineSearch{};  ///< the search (search.hpp); a kind alone: c2 = 0.9, strong Wolfe
  /// The pair (s, y) is skipped when <s, y> <= curvature_eps * (-<g, s>), g the gradient before the step: scipy's
  /// L-BFGS-B test, independent of the problem's scaling (curvature_pair.hpp).
  double curvature_eps = std::numeric_limits<double>::epsilon();
  bool verbose = false;      ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};       ///< called after each iteration; returning true stops run()

  XGRAD_OPTIM_SOLVER_INTERFACE(LBFGS, LBFGSState)

  /// The descent: the two-loop direction from the unit step (-grad while the history is empty).
  template <class P, class It>
  Direction direction(const LBFGSState<P>& s, const It& it) const {
    return {lbfgs_direction(s.s_history, s.y_history, s.rho_history, s.gamma, it.g), 1.0, s.s_history.empty()};
  }
  /// Before the steepest-descent retry: the history is dropped.
  template <class P>
  void restart(LBFGSState<P>& s) const {
    s.s_history.clear();
    s.y_history.clear();
    s.rho_history.clear();
    s.gamma = 1.0;
  }
  /// After an accepted step: the pair (s, y) joins the history unless the curvature test skips it.
  template <class P, class It>
  void after_step(LBFGSState<P>& s, const It& it, const Array&, const LineSearchResult& r, bool) const {
    if (!r.ok || history_size <= 0) return;
    CurvaturePair c = curvature_pair(it.x(), it.g, r.params, r.grad, curvature_eps);
    if (!c.usable) return;
    s.s_history.push_back(std::move(c.s));
    s.y_history.push_back(std::move(c.y));
    s.rho_history.push_back(1.0 / c.sy);
    if (static_cast<int>(s.s_history.size()) > history_size) {
      s.s_history.erase(s.s_history.begin());
      s.y_history.erase(s.y_history.begin());
      s.rho_history.erase(s.rho_history.begin());
    }
    s.gamma = c.sy / c.yy;
  }
};

}  // namespace xgrad::optim
