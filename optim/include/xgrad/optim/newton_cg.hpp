#pragma once
// Inexact (truncated) Newton with conjugate gradients, "Newton-CG" (Nocedal & Wright, Numerical Optimization,
// Alg. 7.1), with exact Hessian-vector products from the AD core (xgrad::hvp, reverse over reverse), so the Hessian
// is never formed. jaxopt has no such solver (scipy's minimize(method="Newton-CG") is the closest).
//
// Each iteration solves H d = -g approximately by CG from d = 0, stopping when the residual is small enough,
// ||H d + g|| <= eta_k ||g|| with the forcing term eta_k = min(max_forcing, sqrt(||g||)) (superlinear convergence
// near the solution), when CG meets a direction of non-positive curvature (p^T H p <= 0: the Hessian is not
// positive definite there; d is then the CG iterate so far, or -g if that happens on the first inner iteration),
// or after max_cg_iter inner iterations (the CG kernel of conjugate_gradient.hpp, shared with xgrad::implicit).
// A line search (zoom by default, or Armijo backtracking) along d from the unit step then gives the next point. One
// inner iteration costs one Hessian-vector product (about two or three gradient evaluations).
//
//   xgrad::optim::NewtonCG solver{.maxiter = 100, .tol = 1e-8};
//   auto [params, state] = solver.run(f, x0, args...);   // f must be twice differentiable by xgrad
//
// Params may be any pytree: CG runs on the flat view (all leaves, tree::ravel order) and each product H v is
// hvp(f, params, unravel(v), args...), so every inner product is global across the leaves. On a strongly convex
// quadratic with max_forcing tiny (and max_cg_iter >= n) the first step is the exact Newton step: one iteration.
//
// Stopping tests (`tol` on the global gradient norm, `ftol`, `xtol`, `stall_iterations`) and statuses: solver.hpp.
// The inner CG tolerance is eta_k ||g||, not tol.
#include <algorithm>
#include <cmath>

#include "xgrad/optim/conjugate_gradient.hpp"
#include "xgrad/optim/search.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of NewtonCG for parameters of type P: the shared record and the inner solves' counters.
template <class P>
struct NewtonCGState : SolverState<P> {
  int num_hvp_eval = 0;         ///< Hessian-vector products, over all iterations (one per inner CG iteration)
  int num_cg_iter = 0;          ///< inner CG iterations, over all iterations
  int num_negative_curvature = 0;  ///< iterations whose inner CG stopped at non-positive curvature
  double cg_residual = 0.0;     ///< ||H d + g|| / ||g|| of the last inner solve (CG's recurrence)
};

/// The Newton-CG solver; options are public fields with defaults (designated initializers work). When the search
/// along d fails (not as unbounded) it is redone along -grad; if that fails too the status says why (unbounded,
/// non_finite, line_search_failed) and params move only to the best trial point with sufficient decrease, if any.
/// `state.stepsize` is the last accepted step (1 is the full Newton step).
struct NewtonCG {
  int maxiter = 500;           ///< most iterations for run()
  double tol = 1e-5;           ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  int max_cg_iter = 0;         ///< most inner CG iterations per iteration; 0: the number of parameters n
  double max_forcing = 0.5;    ///< inner CG stops at ||H d + g|| <= min(max_forcing, sqrt(||g||)) ||g||
  LineSearch linesearch = ZoomLineSearch{};  ///< the search (strong Wolfe, c2 = 0.9; search.hpp)
  bool verbose = false;        ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};         ///< called after each iteration; returning true stops run()

  XGRAD_OPTIM_SOLVER_INTERFACE(NewtonCG, NewtonCGState)

  /// `.linesearch = kind`: that search with c2 = 0.9, backtracking under Armijo alone (the unit step is the aim).
  static LineSearch recommended_linesearch(LineSearchKind kind) {
    return LineSearch::of(kind, 0.9, LineSearchCondition::armijo);
  }

  /// The descent: N&W Alg. 7.1's inner loop, CG on H d = -g from d = 0 with exact H v (it.hvp), tried from the
  /// unit step; -g when the curvature is non-positive on the first inner iteration.
  template <class P, class It>
  Direction direction(NewtonCGState<P>& s, const It& it) const {
    const Array& g = it.g;
    const double gnorm = flat::norm2(g);
    const int most = max_cg_iter > 0 ? max_cg_iter : static_cast<int>(g.size());
    auto hv = [&](const Array& v) {
      ++s.num_hvp_eval;
      return it.hvp(v);
    };
    Array zero = Array::from_shape({g.size()});
    zero.fill(0.0);
    CGResult cg = conjugate_gradient(hv, std::move(zero), flat::negative(g),
                                     std::min(max_forcing, std::sqrt(gnorm)) * gnorm, most);
    s.num_cg_iter += cg.iterations;
    s.cg_residual = cg.residual / gnorm;
    if (cg.stop == CGStop::negative_curvature || cg.stop == CGStop::non_finite) {
      ++s.num_negative_curvature;
      if (cg.iterations == 1) return {flat::negative(g), 1.0, true};
    }
    return {std::move(cg.x), 1.0, false};
  }
};

}  // namespace xgrad::optim
