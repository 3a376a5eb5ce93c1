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
// `tol` measures the gradient's global Euclidean norm: state.error = ||grad f(params)||_2 over all leaves, and the
// status is Status::converged with converged_by = gtol exactly when state.error <= tol. `ftol` and `xtol` (scipy's, off
// by default) can also end a run converged; `stall_iterations` ends one that makes no progress as Status::stalled
// (solver.hpp, progress_tests).
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// The formula for NonlinearCG's beta.
enum class NonlinearCGMethod {
  fletcher_reeves,   ///< <g+, g+> / <g, g>
  polak_ribiere,     ///< max(0, <g+, g+ - g> / <g, g>) (PR+)
  hestenes_stiefel,  ///< <g+, g+ - g> / <d, g+ - g>
  dai_yuan,          ///< <g+, g+> / <d, g+ - g>
};

/// State of NonlinearCG for parameters of type P. Numeric fields are plain numbers.
template <class P>
struct NonlinearCGState {
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
  Array descent_direction{};    ///< the next search direction d (flat, tree::ravel order); -grad after a restart
  double previous_slope = 0.0;  ///< <g, d> of the previous line search, for the next first trial step
  int num_restarts = 0;         ///< iterations whose direction was reset to -grad (the first not counted)
};

/// The nonlinear conjugate-gradient solver; options are public fields with defaults (designated initializers work).
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
  LineSearchKind linesearch = LineSearchKind::zoom;  ///< which line search
  ZoomLineSearch zoom{.c2 = 0.1};   ///< options of the zoom search (c2 = 0.1, as for CG methods)
  BacktrackingLineSearch backtracking{.condition = LineSearchCondition::strong_wolfe, .c2 = 0.1};  ///< backtracking
  MoreThuenteLineSearch more_thuente{.c2 = 0.1};  ///< options of the More-Thuente search
  HagerZhangLineSearch hager_zhang{.c2 = 0.1};    ///< options of the Hager-Zhang search
  bool verbose = false;       ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};        ///< called after each iteration; returning true stops run()

  /// The state at `params`: evaluates f and its gradient once; the first direction is -grad.
  template <class F, class P, class... Args>
  NonlinearCGState<P> init_state(const F& fun, const P& params, const Args&... args) const {
    auto s = detail::initial_state<NonlinearCGState<P>>(fun, params, tol, args...);
    s.descent_direction = flat::negative(flat::values(s.grad));
    return s;
  }

  /// One iteration: a line search along state.descent_direction, then the next direction. When the direction is
  /// not a descent direction, or the search along it fails (not as unbounded), the search is (re)done along -grad;
  /// if that fails too the status says why (unbounded, non_finite, line_search_failed) and params move only to the
  /// best trial point with sufficient decrease, if any: they stay finite.
  template <class F, class P, class... Args>
  OptStep<P, NonlinearCGState<P>> update(const F& fun, const P& params, NonlinearCGState<P> s,
                                         const Args&... args) const {
    if (s.status == Status::non_finite) return {params, std::move(s)};
    auto vg = flat_objective(fun, params, args...);
    const auto raveled = tree::ravel(params);  // the flat parameters and the way back to their pytree
    const Array& x = raveled.first;
    const auto& unravel = raveled.second;
    const Array g = flat::values(s.grad);
    Array d = s.descent_direction.size() == x.size() ? s.descent_direction : flat::negative(g);
    const double slope = flat::dot(g, d);
    double t0 = s.stepsize * s.previous_slope / slope;  // N&W eq. 3.60
    const bool first = s.stepsize <= 0.0;
    if (!(t0 > 0.0) || !std::isfinite(t0)) t0 = 1.0;
    bool restarted = false;
    LineSearchResult r = detail::search_or_steepest(*this, vg, s, x, g, d, t0, first, [&] { restarted = true; });
    ++s.iter_num;
    if (r.ok) {
      s.previous_slope = flat::dot(g, d);
      const Array& gn = r.grad;
      const Array y = flat::sub(gn, g);
      const double gg = flat::dot(g, g), gngn = flat::dot(gn, gn), gny = flat::dot(gn, y),
                   dy = flat::dot(d, y);
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
    P next = detail::record_step(*this, s, r, params, x, unravel);
    return {std::move(next), std::move(s)};
  }

  /// Iterate from init_params until converged, a failure status, maxiter iterations (Status::max_iterations), or
  /// the callback asks to stop. Returns {params, state}.
  template <class F, class P, class... Args>
  OptStep<P, NonlinearCGState<P>> run(const F& fun, const P& init_params, const Args&... args) const {
    return detail::run_solver(*this, "NonlinearCG", fun, init_params, args...);
  }

  /// This solver bound to `fun`: init_state/update/run without the objective argument.
  template <class F>
  BoundSolver<NonlinearCG, F> bind(F fun) const {
    return {*this, std::move(fun)};
  }
};

}  // namespace xgrad::optim
