#pragma once
// Nonlinear conjugate gradients (Nocedal & Wright, Numerical Optimization, Sec. 5.2), as jaxopt.NonlinearCG:
//
//   d_0 = -g_0,   x_{k+1} = x_k + t_k d_k (strong-Wolfe line search, c2 = 0.1),   d_{k+1} = -g_{k+1} + beta_k d_k
//
// with beta_k by `method` (y_k = g_{k+1} - g_k):
//   fletcher_reeves    <g_{k+1}, g_{k+1}> / <g_k, g_k>
//   polak_ribiere      max(0, <g_{k+1}, y_k> / <g_k, g_k>)          (PR+, the default, as jaxopt)
//   hestenes_stiefel   <g_{k+1}, y_k> / <d_k, y_k>
//   dai_yuan           <g_{k+1}, g_{k+1}> / <d_k, y_k>
// Restarts (beta = 0, so d = -g): whenever the new direction is not a descent direction, every `restart_every`
// iterations if > 0, and with `powell_restart` when consecutive gradients are far from orthogonal,
// |<g_{k+1}, g_k>| >= powell_threshold ||g_{k+1}||^2 (N&W eq. 5.52). The first trial step of each line search is
// the previous step times the ratio of the slopes, t_{k-1} <g_{k-1}, d_{k-1}> / <g_k, d_k> (N&W eq. 3.60).
//
//   using xgrad::optim::NonlinearCGMethod;
//   xgrad::optim::NonlinearCG solver{.maxiter = 1000, .tol = 1e-8, .method = NonlinearCGMethod::dai_yuan};
//   auto [params, state] = solver.run(f, x0, args...);
//
// Params may be any pytree; the directions live on the flat view (all leaves, tree::ravel order), so every inner
// product is global across the leaves. Memory is O(n): good for large problems where LBFGS's history is too much.
//
// Stopping tests (`tol` on the global gradient norm, `ftol`, `xtol`, `stall_iterations`) and statuses: solver.hpp.
#include <algorithm>
#include <cmath>

#include "xgrad/optim/search.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// The formula for NonlinearCG's beta.
enum class NonlinearCGMethod {
  fletcher_reeves,   ///< <g+, g+> / <g, g>
  polak_ribiere,     ///< max(0, <g+, g+ - g> / <g, g>) (PR+)
  hestenes_stiefel,  ///< <g+, g+ - g> / <d, g+ - g>
  dai_yuan,          ///< <g+, g+> / <d, g+ - g>
};

/// State of NonlinearCG for parameters of type P: the shared record and the next direction.
template <class P>
struct NonlinearCGState : SolverState<P> {
  Array descent_direction{};    ///< the next search direction d (flat, tree::ravel order); -grad after a restart
  double previous_slope = 0.0;  ///< <g, d> of the previous line search, for the next first trial step
  int num_restarts = 0;         ///< iterations whose direction was reset to -grad (the first not counted)
};

/// The nonlinear conjugate-gradient solver; options are public fields with defaults (designated initializers
/// work). When the direction is not a descent direction, or the search along it fails (not as unbounded), the
/// search is (re)done along -grad; if that fails too the status says why (unbounded, non_finite,
/// line_search_failed) and params move only to the best trial point with sufficient decrease, if any.
struct NonlinearCG {
  int maxiter = 500;          ///< most iterations for run()
  double tol = 1e-5;          ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  NonlinearCGMethod method = NonlinearCGMethod::polak_ribiere;  ///< formula for beta
  int restart_every = 0;      ///< also restart every this many iterations (0: never; n is the classical choice)
  bool powell_restart = false;      ///< also restart when |<g+, g>| >= powell_threshold ||g+||^2
  double powell_threshold = 0.2;    ///< Powell's test constant (N&W eq. 5.52)
  LineSearch linesearch = ZoomLineSearch{.c2 = 0.1};  ///< the search (c2 = 0.1, as for CG methods; search.hpp)
  bool verbose = false;       ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};        ///< called after each iteration; returning true stops run()

  XGRAD_OPTIM_SOLVER_INTERFACE(NonlinearCG, NonlinearCGState)

  /// `.linesearch = kind`: that search with c2 = 0.1 (backtracking under strong Wolfe), as CG methods need.
  static LineSearch recommended_linesearch(LineSearchKind kind) { return LineSearch::of(kind, 0.1); }

  /// The first direction is -grad.
  template <class P>
  void init(NonlinearCGState<P>& s, const P&) const {
    s.descent_direction = flat::negative(flat::values(s.grad));
  }
  /// The descent: the stored direction, first trying the previous step times the ratio of slopes (N&W eq. 3.60).
  template <class P, class It>
  Direction direction(const NonlinearCGState<P>& s, const It& it) const {
    Array d = s.descent_direction.size() == it.x().size() ? s.descent_direction : flat::negative(it.g);
    double t0 = s.stepsize * s.previous_slope / flat::dot(it.g, d);
    if (!(t0 > 0.0) || !std::isfinite(t0)) t0 = 1.0;
    return {std::move(d), t0, s.stepsize <= 0.0};
  }
  /// After the search along d: the next direction d+ = -g+ + beta d, restarted to -g+ when beta is 0 or d+ is not
  /// a descent direction; counts the iteration as a restart if the search fell back to -grad or d+ was reset.
  template <class P, class It>
  void after_step(NonlinearCGState<P>& s, const It& it, const Array& d, const LineSearchResult& r,
                  bool restarted) const {
    if (r.ok) {
      const Array& g = it.g;
      s.previous_slope = flat::dot(g, d);
      const Array& gn = r.grad;
      const Array y = flat::sub(gn, g);
      const double gg = flat::dot(g, g), gngn = flat::dot(gn, gn), gny = flat::dot(gn, y), dy = flat::dot(d, y);
      double beta = 0.0;
      switch (method) {
        case NonlinearCGMethod::fletcher_reeves: beta = gngn / gg; break;
        case NonlinearCGMethod::polak_ribiere: beta = std::max(0.0, gny / gg); break;
        case NonlinearCGMethod::hestenes_stiefel: beta = gny / dy; break;
        case NonlinearCGMethod::dai_yuan: beta = gngn / dy; break;
      }
      if (restart_every > 0 && s.iter_num % restart_every == 0) beta = 0.0;
      if (powell_restart && std::abs(flat::dot(gn, g)) >= powell_threshold * gngn) beta = 0.0;
      if (!std::isfinite(beta)) beta = 0.0;
      Array dn = flat::axpy(flat::negative(gn), beta, d);
      if (beta == 0.0 || !(flat::dot(gn, dn) < 0.0)) {
        dn = flat::negative(gn);
        restarted = true;
      }
      s.descent_direction = std::move(dn);
    }
    if (restarted) ++s.num_restarts;
  }
};

}  // namespace xgrad::optim
