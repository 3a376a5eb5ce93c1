#pragma once
// Levenberg-Marquardt for nonlinear least squares, min_x 1/2 ||r(x)||^2 with r written with xgrad ops: Moré's
// trust-region form ("The Levenberg-Marquardt algorithm: implementation and theory", 1978; MINPACK's lmder, which
// scipy.optimize.least_squares(method="lm") calls), written from the paper:
//
//   - the step solves min ||J p + r||^2 + lambda ||D p||^2 with lambda chosen so that ||D p|| is within 10 % of the
//     trust radius Delta (or lambda = 0 when the Gauss-Newton step is inside), by Moré's safeguarded Newton iteration
//     on the secular equation; each trial solves the augmented least-squares problem [J D^-1; sqrt(lambda) I] by QR
//     (LAPACK), never the normal equations, so badly scaled problems keep their digits;
//   - D = diag of the Jacobian's column norms, each the largest seen so far (MINPACK's mode 1);
//   - Delta grows (x2) when the model predicted the decrease well (ratio >= 3/4) and shrinks (by 1/2 to 1/10, from a
//     quadratic fit) when it did not (ratio <= 1/4); a step is taken when ratio >= 1e-4.
//
// The Jacobian comes from the AD core, forward columns or reverse rows, whichever is fewer (xgrad::jacobian).
// Stopping tests as MINPACK (scipy's names and defaults): ftol (both the actual and the predicted relative reductions
// of ||r||^2 below it), xtol (Delta <= xtol ||D x||), gtol (the largest cosine between r and a Jacobian column below
// it); max_nfev residual evaluations (default 100 n). state.value = 1/2 ||r||^2 (scipy's cost), state.error =
// ||J^T r||_2 (the gradient), state.converged_by says which test ended a converged run.
//
//   auto residuals = [&](const Tensor& p, const Tensor& t, const Tensor& y) { return p0 * exp(-p1 * t) - y; };
//   auto [p, state] = optim::LevenbergMarquardt{}.run(residuals, p_init, t, y);
//   optim::LevenbergMarquardt{.bounds = optim::Bounds::of(lower, upper)}.run(residuals, params, t, y);  // a pytree
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/optim/bounds.hpp"
#include "xgrad/optim/flat_function.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of LevenbergMarquardt: the shared record (value = 1/2 ||r||^2, error = ||J^T r||_2, or the projected
/// gradient's norm ||P(x - J^T r) - x||_2 with bounds) and the trust region.
template <class P>
struct LevenbergMarquardtState : SolverState<P> {
  Tensor residual{};     ///< r at params, flat
  int num_jac_eval = 0;  ///< Jacobian evaluations
  double damping = 0.0;  ///< lambda of the last step
  double radius = 0.0;   ///< the trust radius Delta
  int active = 0;        ///< coordinates held at a bound by the last step (0 without bounds)
};

struct LevenbergMarquardt;

namespace detail {
/// The whole run on flat x (the typed run() wraps it); `state` collects the counters and status.
Array levenberg_marquardt_flat(const FlatVectorFunction& residuals, Array x, LevenbergMarquardtState<Array>& state,
                               const LevenbergMarquardt& options);
/// lambda and the step p for the trust radius delta (Moré's lmpar, on the QR of the augmented problem): exposed for
/// tests. J is m x n, d the scaling, r the residual, lambda0 the previous lambda.
std::pair<double, Array> levenberg_marquardt_step(const Array& J, const Array& d, const Array& r, double delta,
                                                  double lambda0);
}  // namespace detail

/// The Levenberg-Marquardt solver; options are public fields with defaults (designated initializers work).
struct LevenbergMarquardt {
  double ftol = 1e-8;     ///< converged when both relative reductions of ||r||^2 are <= ftol (scipy's default)
  double xtol = 1e-8;     ///< converged when Delta <= xtol ||D x||
  double gtol = 1e-8;     ///< converged when max_j |J_j^T r| / (||J_j|| ||r||) <= gtol (over the free coordinates)
  int max_nfev = -1;      ///< most residual evaluations (-1: 100 n, scipy's)
  double factor = 100.0;  ///< the first radius is factor ||D x0|| (factor when that is 0), MINPACK's
  /// When a run ends by ftol, xtol or "no further reduction" (stalled), evaluate J once more at the solution and
  /// report converged by gtol if its cosine test holds: a stationary point, certified (implicit::least_squares
  /// needs one). Off by default, so runs take MINPACK's evaluations.
  bool certify = false;
  /// Box bounds on the parameters (bounds.hpp; pytrees like them, or numbers). The run starts from x0 projected onto
  /// the box; each step solves the trust-region problem over the free coordinates (those not at a bound that the
  /// gradient pushes against) and is projected back onto the box, or cut at the box's edge when that predicts more
  /// decrease (a projected Levenberg-Marquardt, as Kanzow, Yamashita and Fukushima 2004). Default: none, MINPACK's
  /// iteration exactly.
  Bounds bounds{};
  bool verbose = false;   ///< one line per step
  Callback callback{};    ///< called after each accepted step; returning true stops run()

  /// Runs from x0 (a Tensor of any shape, or a pytree of Tensors); residuals(x, args...) returns a Tensor of any
  /// shape. The state's grad is shaped like x0.
  template <class F, class P, class... Args>
  OptStep<P, LevenbergMarquardtState<P>> run(const F& residuals, const P& x0, const Args&... args) const {
    auto [x, unravel] = tree::ravel(x0);
    const detail::FlatVectorFunction problem = detail::flat_tree_function(residuals, x0, args...);
    LevenbergMarquardtState<Array> s;
    x = detail::levenberg_marquardt_flat(problem, std::move(x), s, *this);
    LevenbergMarquardtState<P> out;
    static_cast<IterationInfo&>(out) = static_cast<const IterationInfo&>(s);
    out.grad = unravel(s.grad);
    out.residual = s.residual;
    out.num_jac_eval = s.num_jac_eval;
    out.damping = s.damping;
    out.radius = s.radius;
    out.active = s.active;
    return {unravel(x), std::move(out)};
  }
};

}  // namespace xgrad::optim
