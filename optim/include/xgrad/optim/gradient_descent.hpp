#pragma once
// Gradient descent, as jaxopt.GradientDescent: x_{k+1} = x_k - t_k grad f(x_k), with a fixed step (stepsize > 0)
// or a line search (stepsize <= 0, the default: Armijo backtracking; each search starts from the previous step
// times `increase_factor`). With `acceleration` it is FISTA / Nesterov's method: the gradient step is taken from
// the extrapolated point y_k = x_k + (t_{k-1} - 1) / t_k (x_k - x_{k-1}), restarting the momentum whenever the
// step opposes the motion (O'Donoghue & Candes' gradient restart, fista.hpp).
//
//   xgrad::optim::GradientDescent solver{.maxiter = 1000, .tol = 1e-8};
//   auto [params, state] = solver.run(f, x0, args...);
//
// Stopping tests (`tol` on the global gradient norm, `ftol`, `xtol`, `stall_iterations`) and statuses: solver.hpp.
#include <cmath>
#include <utility>

#include "xgrad/optim/fista.hpp"
#include "xgrad/optim/search.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of GradientDescent for parameters of type P: the shared record and the acceleration's extrapolated point.
template <class P>
struct GradientDescentState : SolverState<P>, FistaState {};

/// The gradient-descent solver; options are public fields with defaults (designated initializers work). A failed
/// step leaves params unchanged (always finite) and sets the status.
struct GradientDescent {
  int maxiter = 500;             ///< most iterations for run()
  double tol = 1e-5;             ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;         ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy; 0: off)
  double xtol = 0.0;         ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations in a row without a new lowest value or
                              ///< gradient norm (0: off)
  double stepsize = 0.0;         ///< fixed step when > 0; the line search when <= 0
  bool acceleration = false;     ///< FISTA / Nesterov acceleration (non-monotone: ftol and the stall test are off)
  /// Armijo with c1 = 1/2: f(x - t g) <= f(x) - t/2 ||g||^2 (any search.hpp search works; a point with sufficient
  /// decrease is taken even where the search's other conditions fail)
  LineSearch linesearch = BacktrackingLineSearch{.c1 = 0.5};
  double increase_factor = 2.0;  ///< each search starts at the previous step times this (without acceleration)
  bool verbose = false;          ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};           ///< called after each iteration; returning true stops run()

  XGRAD_OPTIM_SOLVER_INTERFACE(GradientDescent, GradientDescentState)

  /// `.linesearch = kind`: that search with c2 = 0.9; backtracking is Armijo with c1 = 1/2.
  static LineSearch recommended_linesearch(LineSearchKind kind) {
    if (kind == LineSearchKind::backtracking) return BacktrackingLineSearch{.c1 = 0.5};
    return LineSearch::of(kind);
  }
  /// FISTA raises f by design: the driver skips its ftol and stall tests.
  bool monotone() const { return !acceleration; }

  /// Acceleration starts with y = x.
  template <class P>
  void init(GradientDescentState<P>& s, const P& params) const {
    if (acceleration) detail::fista_init(s, params);
  }

  /// The step x - t grad f(y) (y = x without acceleration), then FISTA's extrapolation.
  template <class P, class It>
  LineSearchResult step(GradientDescentState<P>& s, const It& it) const {
    const Array& x = it.x();
    const bool acc = acceleration && s.aux_params.size() == x.size();
    const Array& y = acc ? s.aux_params : x;
    const double fy = acc ? s.aux_value : s.value;
    const Array& gy = acc ? s.aux_grad : it.g;
    LineSearchResult r;
    if (stepsize > 0.0) {
      r.params = flat::axpy(y, -stepsize, gy);
      std::tie(r.value, r.grad) = it(r.params);
      ++s.num_fun_eval;
      ++s.num_grad_eval;
      if (!std::isfinite(r.value) || !flat::all_finite(r.grad)) {
        r.stepsize = s.stepsize;  // unchanged
        r.non_finite = true;
        return r;
      }
      r.stepsize = stepsize;
    } else {
      // With acceleration the step never grows again (Beck and Teboulle's backtracking, as ProximalGradient): a step
      // grown past 1/L can still pass the Armijo test along the direction taken, and FISTA then circles.
      const double grow = acceleration ? 1.0 : increase_factor;
      const double t0 = s.stepsize > 0.0 ? s.stepsize * grow : 1.0;
      const Array d = flat::axpy(gy, -2.0, gy);  // -grad f(y)
      r = detail::line_search_step(detail::resolved_linesearch(*this), it, s, y, fy, gy, d, t0);
      r.unbounded = false;  // a failed search here is non_finite or line_search_failed
      if (!r.decrease) return r;
    }
    r.ok = r.decrease = true;  // any point with sufficient decrease is taken
    if (acceleration) detail::fista_extrapolate(s, it, r);
    return r;
  }

};

}  // namespace xgrad::optim
