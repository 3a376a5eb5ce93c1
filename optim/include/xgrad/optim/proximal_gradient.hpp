#pragma once
// Proximal gradient, as jaxopt.ProximalGradient: minimises f(x) + g(x) with f smooth (the objective, differentiated
// by the AD core) and g convex, possibly non-smooth, given by its proximal operator (prox.hpp; a projection for
// constraints, projection.hpp):
//
//   x_{k+1} = prox_{t g}(y_k - t grad f(y_k)),
//
// with FISTA's acceleration and restart (fista.hpp; y_k = x_k without it) and the step t found by backtracking on the
// quadratic upper bound f(x+) <= f(y) + <grad f(y), x+ - y> + ||x+ - y||^2 / (2t) (Beck and Teboulle 2009), each
// search starting from the previous step times `increase_factor`, or fixed (`stepsize` > 0).
//
//   optim::ProximalGradient solver{.maxiter = 5000, .tol = 1e-10, .prox = optim::prox_lasso(0.1)};
//   auto [w, state] = solver.run(least_squares, w0, X, y);               // the lasso
//   optim::ProximalGradient{.prox = optim::make_prox_from_projection(optim::projection_box(0.0, 1.0))}  // bounds
//
// state.error is the norm of the gradient mapping at unit step, ||x - prox_g(x - grad f(x))||_2 over all leaves: 0
// exactly at a minimiser of f + g, and ||grad f|| when g = 0. state.value is f(x) alone (as jaxopt). Stopping tests
// and statuses: solver.hpp.
#include <algorithm>
#include <cmath>
#include <utility>

#include "xgrad/core/flat.hpp"
#include "xgrad/optim/fista.hpp"
#include "xgrad/optim/prox.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of ProximalGradient: the shared record and the acceleration's extrapolated point.
template <class P>
struct ProximalGradientState : SolverState<P>, FistaState {};

/// The proximal gradient solver; options are public fields with defaults (designated initializers work).
struct ProximalGradient {
  int maxiter = 500;             ///< most iterations for run()
  double tol = 1e-5;             ///< converged when the gradient mapping's norm (state.error) <= tol
  double ftol = 0.0;             ///< also converged when f decreases by <= ftol max(|f|, 1) (0: off; not with acceleration)
  double xtol = 0.0;             ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;     ///< Status::stalled after this many iterations without progress (not with acceleration)
  Prox prox = prox_none();       ///< the prox of g (prox.hpp), or make_prox_from_projection(a projection)
  double stepsize = 0.0;         ///< fixed step when > 0 (at most 1/L for an L-smooth f); backtracking when <= 0
  bool acceleration = true;      ///< FISTA with gradient restart (fista.hpp); jaxopt's default
  int maxls = 30;                ///< most backtracking trials per iteration
  double decrease_factor = 0.5;  ///< each failed trial multiplies the step by this
  double increase_factor = 2.0;  ///< each search starts at the previous step times this (without acceleration)
  bool verbose = false;          ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};           ///< called after each iteration; returning true stops run()

  XGRAD_OPTIM_SOLVER_INTERFACE(ProximalGradient, ProximalGradientState)

  /// FISTA raises f by design: the driver skips its ftol and stall tests then.
  bool monotone() const { return !acceleration; }

  /// The gradient mapping's norm at unit step, ||x - prox(x - g, 1)||_2.
  double error(const Array& x, const Array& g) const { return flat::norm2(flat::sub(x, prox(flat::sub(x, g), 1.0))); }

  template <class P>
  void init(ProximalGradientState<P>& s, const P& params) const {
    if (!(decrease_factor > 0.0 && decrease_factor < 1.0) || maxls < 1 || !(increase_factor >= 1.0))
      throw ValueError("xgrad::optim::ProximalGradient: needs 0 < decrease_factor < 1, maxls >= 1 and "
                       "increase_factor >= 1");
    if (acceleration) detail::fista_init(s, params);
  }

  /// The prox step from y (x, or FISTA's extrapolated point) with backtracking, then the extrapolation.
  template <class P, class It>
  LineSearchResult step(ProximalGradientState<P>& s, const It& it) const {
    const Array& x = it.x();
    const bool acc = acceleration && s.aux_params.size() == x.size();
    const Array& y = acc ? s.aux_params : x;
    const double fy = acc ? s.aux_value : s.value;
    const Array& gy = acc ? s.aux_grad : it.g;
    const bool fixed = stepsize > 0.0;
    // With acceleration the step never grows again (Beck and Teboulle's backtracking): a step grown past 1/L can
    // still pass the bound along the direction taken, and FISTA then circles instead of converging.
    const double grow = acceleration ? 1.0 : increase_factor;
    double t = fixed ? stepsize : s.stepsize > 0.0 ? s.stepsize * grow : 1.0;
    LineSearchResult r;
    r.stepsize = s.stepsize;
    for (int trial = 0; trial < (fixed ? 1 : maxls); ++trial, t *= decrease_factor) {
      Array xn = prox(flat::axpy(y, -t, gy), t);
      auto [value, grad] = it(xn);
      ++s.num_fun_eval;
      ++s.num_grad_eval;
      if (!fixed) ++s.num_linesearch_iter;
      ++r.evaluations;
      if (!std::isfinite(value) || !flat::all_finite(grad)) {
        r.non_finite = true;
        continue;
      }
      r.non_finite = false;
      const Array d = flat::sub(xn, y);
      // The bound with a few ulps of slack: at convergence both sides agree to rounding.
      const double dd = flat::dot(d, d);
      const double bound = fy + flat::dot(gy, d) + dd / (2.0 * t);
      // Once the values differ only in their last digits, the test on values decides by rounding: it accepts
      // steps above 1/L, and the iterates circle at a gradient mapping near sqrt(eps). Then the bound on gradients
      // decides, <grad f(xn) - grad f(y), d> <= ||d||^2 / t, which stays exact (as TFOCS does).
      const bool values_tell = std::abs(value - fy) > 1e-10 * std::max(1.0, std::abs(fy));
      const bool accept = fixed || (values_tell ? value <= bound + 1e-15 * std::abs(fy)
                                                : flat::dot(flat::sub(grad, gy), d) <= dd / t);
      if (accept) {
        r.params = std::move(xn);
        r.value = value;
        r.grad = std::move(grad);
        r.stepsize = t;
        r.ok = r.decrease = true;
        break;
      }
    }
    if (!r.ok) return r;  // non_finite or line_search_failed; the driver keeps x
    if (acceleration) detail::fista_extrapolate(s, it, r);
    return r;
  }
};

}  // namespace xgrad::optim
