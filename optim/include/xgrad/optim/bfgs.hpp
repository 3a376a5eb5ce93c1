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
// Stopping tests (`tol` on the global gradient norm, `ftol`, `xtol`, `stall_iterations`) and statuses: solver.hpp.
#include <cstddef>
#include <limits>

#include "xgrad/optim/curvature_pair.hpp"
#include "xgrad/optim/search.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of BFGS for parameters of type P: the shared record and the inverse-Hessian approximation.
template <class P>
struct BFGSState : SolverState<P> {
  Array inv_hessian{};          ///< n x n inverse-Hessian approximation H on the flat view (symmetric)
  int num_updates = 0;          ///< BFGS updates applied to H since it was last the identity
};

/// The dense BFGS solver; options are public fields with defaults (designated initializers work). When d = -H g is
/// not a descent direction, or the search along it fails (not as unbounded), H is reset to the identity and the
/// search (re)done along -grad; if that fails too the status says why (unbounded, non_finite, line_search_failed)
/// and params move only to the best trial point with sufficient decrease, if any: they stay finite.
struct BFGS {
  int maxiter = 500;             ///< most iterations for run()
  double tol = 1e-5;             ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  LineSearch linesearch = ZoomLineSearch{};  ///< the search (search.hpp); a kind alone: c2 = 0.9, strong Wolfe
  /// The update is skipped when <s, y> <= curvature_eps * (-<g, s>), g the gradient before the step (scipy
  /// L-BFGS-B's test: both sides in f's units, independent of the problem's scaling).
  double curvature_eps = std::numeric_limits<double>::epsilon();
  bool verbose = false;          ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};           ///< called after each iteration; returning true stops run()

  XGRAD_OPTIM_SOLVER_INTERFACE(BFGS, BFGSState)

  /// H starts as the identity.
  template <class P>
  void init(BFGSState<P>& s, const P&) const {
    s.inv_hessian = identity(flat::values(s.grad).size());
  }
  /// The descent: d = -H g from the unit step (H reset when the parameters changed size).
  template <class P, class It>
  Direction direction(BFGSState<P>& s, const It& it) const {
    if (s.inv_hessian.size() != it.x().size() * it.x().size()) restart(s);
    return {direction(s.inv_hessian, it.g), 1.0, s.num_updates == 0};
  }
  /// Before the steepest-descent retry: H is reset to the identity.
  template <class P>
  void restart(BFGSState<P>& s) const {
    s.inv_hessian = identity(flat::values(s.grad).size());
    s.num_updates = 0;
  }
  /// After an accepted step: the BFGS update of H (scaled by <y, s> / <y, y> before the first, N&W eq. 6.20),
  /// unless the curvature test skips it.
  template <class P, class It>
  void after_step(BFGSState<P>& s, const It& it, const Array&, const LineSearchResult& r, bool) const {
    if (!r.ok) return;
    const CurvaturePair c = curvature_pair(it.x(), it.g, r.params, r.grad, curvature_eps);
    if (!c.usable) return;
    if (s.num_updates == 0) scale(s.inv_hessian, c.sy / c.yy);
    bfgs_update(s.inv_hessian, c.s, c.y, 1.0 / c.sy);
    ++s.num_updates;
  }

  /// The n x n identity.
  static Array identity(std::size_t n);
  /// -H g (flat).
  static Array direction(const Array& h, const Array& g);
  /// H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T, in O(n^2) with u = H y (H symmetric):
  /// H - rho (s u^T + u s^T) + (rho^2 <y, u> + rho) s s^T.
  static void bfgs_update(Array& h, const Array& s, const Array& y, double rho);
  /// H <- c H.
  static void scale(Array& h, double c);
};

}  // namespace xgrad::optim
