#pragma once
// Dense BFGS (Nocedal & Wright, Numerical Optimization, Alg. 6.1), as jaxopt.BFGS: the state holds the n x n
// inverse-Hessian approximation H, the direction is d = -H g, and after each strong-Wolfe step
//
//   H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T,   s = x_{k+1} - x_k, y = g_{k+1} - g_k, rho = 1 / <s, y>.
//
// H starts as the identity; just before the first update it is rescaled to (<y, s> / <y, y>) I (N&W eq. 6.20). An
// update is skipped when <s, y> <= curvature_eps (-<g, s>) (it would break positive definiteness; scipy L-BFGS-B's
// scale-free test, g the gradient before the step). O(n^2) memory and
// work per iteration: for small problems (up to a few thousand parameters); use LBFGS beyond.
//
//   xgrad::optim::BFGS solver{.maxiter = 200, .tol = 1e-8};
//   auto [params, state] = solver.run(f, x0, args...);   // state.inv_hessian: n x n, n = all leaves' sizes
//
// Params may be any pytree; H acts on the flat view (all leaves, tree::ravel order), so it couples the leaves.
//
// `tol` measures the gradient's global Euclidean norm: state.error = ||grad f(params)||_2 over all leaves, and the
// status is Status::converged with converged_by = gtol exactly when state.error <= tol. `ftol` and `xtol` (scipy's, off
// by default) can also end a run converged; `stall_iterations` ends one that makes no progress as Status::stalled
// (solver.hpp, progress_tests).
#include <cstddef>
#include <limits>
#include <utility>

#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// State of BFGS for parameters of type P. Numeric fields are plain numbers.
template <class P>
struct BFGSState {
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
  Array inv_hessian{};          ///< n x n inverse-Hessian approximation H on the flat view (symmetric)
  int num_updates = 0;          ///< BFGS updates applied to H since it was last the identity
};

/// The dense BFGS solver; options are public fields with defaults (designated initializers work).
struct BFGS {
  int maxiter = 500;             ///< most iterations for run()
  double tol = 1e-5;             ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  LineSearchKind linesearch = LineSearchKind::zoom;  ///< which line search
  ZoomLineSearch zoom{};         ///< options of the zoom search
  BacktrackingLineSearch backtracking{.condition = LineSearchCondition::strong_wolfe};  ///< options of backtracking
  MoreThuenteLineSearch more_thuente{};  ///< options of the More-Thuente search
  HagerZhangLineSearch hager_zhang{};    ///< options of the Hager-Zhang search
  /// The update is skipped when <s, y> <= curvature_eps * (-<g, s>), g the gradient before the step (scipy
  /// L-BFGS-B's test: both sides in f's units, independent of the problem's scaling).
  double curvature_eps = std::numeric_limits<double>::epsilon();
  bool verbose = false;          ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};           ///< called after each iteration; returning true stops run()

  /// The state at `params`: evaluates f and its gradient once; H is the identity.
  template <class F, class P, class... Args>
  BFGSState<P> init_state(const F& fun, const P& params, const Args&... args) const {
    auto s = detail::initial_state<BFGSState<P>>(fun, params, tol, args...);
    s.inv_hessian = identity(flat::values(s.grad).size());
    return s;
  }

  /// One iteration: d = -H g, the line search, then the update of H. When d is not a descent direction, or the
  /// search along it fails (not as unbounded), H is reset to the identity and the search (re)done along -grad; if
  /// that fails too the status says why (unbounded, non_finite, line_search_failed) and params move only to the
  /// best trial point with sufficient decrease, if any: they stay finite.
  template <class F, class P, class... Args>
  OptStep<P, BFGSState<P>> update(const F& fun, const P& params, BFGSState<P> s,
                                  const Args&... args) const {
    if (s.status == Status::non_finite) return {params, std::move(s)};
    auto vg = flat_objective(fun, params, args...);
    const auto raveled = tree::ravel(params);  // the flat parameters and the way back to their pytree
    const Array& x = raveled.first;
    const auto& unravel = raveled.second;
    const Array g = flat::values(s.grad);
    const std::size_t n = x.size();
    if (s.inv_hessian.size() != n * n) {
      s.inv_hessian = identity(n);
      s.num_updates = 0;
    }
    auto reset = [&] {
      s.inv_hessian = identity(n);
      s.num_updates = 0;
    };
    Array d = direction(s.inv_hessian, g);
    LineSearchResult r = detail::search_or_steepest(*this, vg, s, x, g, d, 1.0, s.num_updates == 0, reset);
    ++s.iter_num;
    if (r.ok) {
      const Array sv = flat::sub(r.params, x), yv = flat::sub(r.grad, g);
      const double sy = flat::dot(sv, yv), yy = flat::dot(yv, yv), descent = -flat::dot(g, sv);
      if (yy > 0.0 && sy > curvature_eps * descent) {
        if (s.num_updates == 0) scale(s.inv_hessian, sy / yy);  // N&W eq. 6.20
        bfgs_update(s.inv_hessian, sv, yv, 1.0 / sy);
        ++s.num_updates;
      }
    }
    P next = detail::record_step(*this, s, r, params, x, unravel);
    return {std::move(next), std::move(s)};
  }

  /// Iterate from init_params until converged, a failure status, maxiter iterations (Status::max_iterations), or
  /// the callback asks to stop. Returns {params, state}.
  template <class F, class P, class... Args>
  OptStep<P, BFGSState<P>> run(const F& fun, const P& init_params, const Args&... args) const {
    return detail::run_solver(*this, "BFGS", fun, init_params, args...);
  }

  /// This solver bound to `fun`: init_state/update/run without the objective argument.
  template <class F>
  BoundSolver<BFGS, F> bind(F fun) const {
    return {*this, std::move(fun)};
  }

  /// The n x n identity.
  static Array identity(std::size_t n) {
    Array h = Array::from_shape({n, n});
    h.fill(0.0);
    for (std::size_t i = 0; i < n; ++i) h(i, i) = 1.0;
    return h;
  }

  /// -H g (flat).
  static Array direction(const Array& h, const Array& g) {
    const std::size_t n = g.size();
    Array d = Array::from_shape({n});
    const double* ph = h.data();
    const double* pg = g.data();
    for (std::size_t i = 0; i < n; ++i) d(i) = -flat::dot(ph + i * n, pg, n);
    return d;
  }

  /// H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T, in O(n^2) with u = H y (H symmetric):
  /// H - rho (s u^T + u s^T) + (rho^2 <y, u> + rho) s s^T.
  static void bfgs_update(Array& h, const Array& s, const Array& y, double rho) {
    const std::size_t n = s.size();
    const Array u = flat::negative(direction(h, y));  // H y
    const double c = rho * rho * flat::dot(y, u) + rho;
    double* ph = h.data();
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) ph[i * n + j] += -rho * (s(i) * u(j) + u(i) * s(j)) + c * s(i) * s(j);
  }

 private:
  static void scale(Array& h, double c) {
    for (double& v : h) v *= c;
  }
};

}  // namespace xgrad::optim
