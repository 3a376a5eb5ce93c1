#pragma once
// Inexact (truncated) Newton with conjugate gradients, "Newton-CG" (Nocedal & Wright, Numerical Optimization,
// Alg. 7.1), with exact Hessian-vector products from the AD core (xgrad::hvp, reverse over reverse), so the Hessian
// is never formed. jaxopt has no such solver (scipy's minimize(method="Newton-CG") is the closest).
//
// Each iteration solves H d = -g approximately by CG from d = 0, stopping when the residual is small enough,
// ||H d + g|| <= eta_k ||g|| with the forcing term eta_k = min(max_forcing, sqrt(||g||)) (superlinear convergence
// near the solution), when CG meets a direction of non-positive curvature (p^T H p <= 0: the Hessian is not
// positive definite there; d is then the CG iterate so far, or -g if that happens on the first inner iteration),
// or after max_cg_iter inner iterations. A line search (zoom by default, or Armijo backtracking) along d from the
// unit step then gives the next point. One inner iteration costs one Hessian-vector product (about two or three
// gradient evaluations).
//
//   xgrad::optim::NewtonCG solver{.maxiter = 100, .tol = 1e-8};
//   auto [params, state] = solver.run(f, x0, args...);   // f must be twice differentiable by xgrad
//
// Params may be any pytree: CG runs on the flat view (all leaves, tree::ravel order) and each product H v is
// hvp(f, params, unravel(v), args...), so every inner product is global across the leaves. On a strongly convex
// quadratic with max_forcing tiny (and max_cg_iter >= n) the first step is the exact Newton step: one iteration.
//
// `tol` measures the gradient's global Euclidean norm: state.error = ||grad f(params)||_2 over all leaves, and the
// status is Status::converged with converged_by = gtol exactly when state.error <= tol. `ftol` and `xtol` (scipy's, off
// by default) can also end a run converged; `stall_iterations` ends one that makes no progress as Status::stalled
// (solver.hpp, progress_tests). (The inner CG tolerance is eta_k ||g||, not tol.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// State of NewtonCG for parameters of type P. Numeric fields are plain numbers.
template <class P>
struct NewtonCGState {
  int iter_num = 0;             ///< iterations done
  double value = 0.0;           ///< f at the current parameters
  double error = 0.0;           ///< ||grad||_2 (global over the leaves): the quantity compared with tol
  double stepsize = 0.0;        ///< last accepted line-search step (0 before the first; 1 is the full Newton step)
  int num_fun_eval = 0;         ///< objective evaluations (each also computes the gradient)
  int num_grad_eval = 0;        ///< gradient evaluations (Hessian-vector products not included)
  int num_linesearch_iter = 0;  ///< line-search trial evaluations, over all iterations
  P grad;                       ///< gradient at the current parameters, params' type
  Status status = Status::running;  ///< see Status
  ConvergenceTest converged_by = ConvergenceTest::none;  ///< which test made the status converged
  double best_value = std::numeric_limits<double>::infinity();  ///< lowest value reached by an iteration (stall test)
  double best_error = std::numeric_limits<double>::infinity();  ///< lowest error reached by an iteration (stall test)
  int num_stall_iter = 0;       ///< iterations in a row lowering neither best_value nor best_error
  int num_hvp_eval = 0;         ///< Hessian-vector products, over all iterations (one per inner CG iteration)
  int num_cg_iter = 0;          ///< inner CG iterations, over all iterations
  int num_negative_curvature = 0;  ///< iterations whose inner CG stopped at non-positive curvature
  double cg_residual = 0.0;     ///< ||H d + g|| / ||g|| of the last inner solve (CG's recurrence)
};

/// The Newton-CG solver; options are public fields with defaults (designated initializers work).
struct NewtonCG {
  int maxiter = 500;           ///< most iterations for run()
  double tol = 1e-5;           ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  int max_cg_iter = 0;         ///< most inner CG iterations per iteration; 0: the number of parameters n
  double max_forcing = 0.5;    ///< inner CG stops at ||H d + g|| <= min(max_forcing, sqrt(||g||)) ||g||
  LineSearchKind linesearch = LineSearchKind::zoom;  ///< which line search
  ZoomLineSearch zoom{};       ///< options of the zoom search (strong Wolfe, c2 = 0.9)
  BacktrackingLineSearch backtracking{};  ///< options of backtracking (Armijo)
  MoreThuenteLineSearch more_thuente{};  ///< options of the More-Thuente search
  HagerZhangLineSearch hager_zhang{};    ///< options of the Hager-Zhang search
  bool verbose = false;        ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};         ///< called after each iteration; returning true stops run()

  /// The state at `params`: evaluates f and its gradient once.
  template <class F, class P, class... Args>
  NewtonCGState<P> init_state(const F& fun, const P& params, const Args&... args) const {
    return detail::initial_state<NewtonCGState<P>>(fun, params, tol, args...);
  }

  /// One iteration: the inner CG for H d = -g, then the line search along d from step 1. When the search along d
  /// fails (not as unbounded) it is redone along -grad; if that fails too the status says why (unbounded,
  /// non_finite, line_search_failed) and params move only to the best trial point with sufficient decrease, if
  /// any: they stay finite.
  template <class F, class P, class... Args>
  OptStep<P, NewtonCGState<P>> update(const F& fun, const P& params, NewtonCGState<P> s,
                                      const Args&... args) const {
    if (s.status == Status::non_finite) return {params, std::move(s)};
    auto vg = flat_objective(fun, params, args...);
    const auto raveled = tree::ravel(params);  // the flat parameters and the way back to their pytree
    const Array& x = raveled.first;
    const auto& unravel = raveled.second;
    const Array g = flat::values(s.grad);
    auto hessian_times = [&](const Array& v) {
      ++s.num_hvp_eval;
      return flat::values(xgrad::hvp(fun, params, unravel(v), args...));
    };
    bool steepest = false;
    Array d = newton_direction(hessian_times, g, s, steepest);
    LineSearchResult r = detail::search_or_steepest(*this, vg, s, x, g, d, 1.0, steepest, [] {});
    ++s.iter_num;
    P next = detail::record_step(*this, s, r, params, x, unravel);
    return {std::move(next), std::move(s)};
  }

  /// Iterate from init_params until converged, a failure status, maxiter iterations (Status::max_iterations), or
  /// the callback asks to stop. Returns {params, state}.
  template <class F, class P, class... Args>
  OptStep<P, NewtonCGState<P>> run(const F& fun, const P& init_params, const Args&... args) const {
    return detail::run_solver(*this, "NewtonCG", fun, init_params, args...);
  }

  /// This solver bound to `fun`: init_state/update/run without the objective argument.
  template <class F>
  BoundSolver<NewtonCG, F> bind(F fun) const {
    return {*this, std::move(fun)};
  }

 private:
  // N&W Alg. 7.1's inner loop: CG on H d = -g from d = 0 with `hv(v) = H v` (flat). Sets `steepest` when the
  // result is -g (non-positive curvature on the first inner iteration); counts in s.
  template <class HV, class S>
  Array newton_direction(HV& hv, const Array& g, S& s, bool& steepest) const {
    const std::size_t n = g.size();
    const double gnorm = flat::norm2(g);
    const double eps = std::min(max_forcing, std::sqrt(gnorm)) * gnorm;
    const int most = max_cg_iter > 0 ? max_cg_iter : static_cast<int>(n);
    Array z = Array::from_shape({n});
    z.fill(0.0);
    Array r = g;                      // residual H z + g
    Array p = flat::negative(g);    // CG direction
    double rr = flat::dot(r, r);
    s.cg_residual = 1.0;
    for (int j = 0; j < most; ++j) {
      const Array hp = hv(p);
      ++s.num_cg_iter;
      const double curvature = flat::dot(p, hp);
      if (!(curvature > 0.0)) {  // non-positive (or non-finite) curvature: stop
        ++s.num_negative_curvature;
        if (j == 0) {
          steepest = true;
          return flat::negative(g);
        }
        return z;
      }
      const double alpha = rr / curvature;
      z = flat::axpy(z, alpha, p);
      r = flat::axpy(r, alpha, hp);
      const double rr_new = flat::dot(r, r);
      s.cg_residual = std::sqrt(rr_new) / gnorm;
      if (std::sqrt(rr_new) <= eps) break;
      p = flat::axpy(flat::negative(r), rr_new / rr, p);
      rr = rr_new;
    }
    return z;
  }
};

}  // namespace xgrad::optim
