#pragma once
// Gauss-Newton for nonlinear least squares, min_x 1/2 ||r(x)||^2 with r written with xgrad ops, as jaxopt.GaussNewton
// and optimistix.GaussNewton: at each iterate the step p minimises the linear model ||J p + r||^2 (the minimum-norm
// least-squares solution, LAPACK's gelsd via xtensor-blas: defined when J is rank-deficient), J from the AD core
// (forward columns or reverse rows, whichever are fewer).
//
// With `damped` (the default) the step is scaled back by Armijo backtracking on 1/2 ||r||^2 (damped Gauss-Newton,
// Bock 1983): the Gauss-Newton direction is a descent direction whenever J^T r != 0, so every iteration decreases
// ||r||, and the method converges from far starts where the full step diverges. `damped = false` takes the full step
// every time, as jaxopt. Converged when ||J^T r||_2 <= tol (state.error; jaxopt's test), or when the Gauss-Newton
// step (before damping) is below xtol (1 + ||x||) (off by default); stalled when the step no longer descends. Near a zero-residual solution the convergence is quadratic; with large residuals
// it is linear or fails: LevenbergMarquardt is the robust choice, Gauss-Newton the cheap one.
//
//   auto [p, state] = optim::GaussNewton{.tol = 1e-10}.run(residuals, p_init, t, y);
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/optim/flat_function.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of GaussNewton: the shared record (value = 1/2 ||r||^2, error = ||J^T r||_2, stepsize = the damping t of
/// the last step) and the residuals.
template <class P>
struct GaussNewtonState : SolverState<P> {
  Tensor residual{};     ///< r at params, flat
  int num_jac_eval = 0;  ///< Jacobian evaluations
};

struct GaussNewton;

namespace detail {
/// The whole run on flat x (the typed run() wraps it).
Array gauss_newton_flat(const FlatVectorFunction& residuals, Array x, GaussNewtonState<Array>& state,
                        const GaussNewton& options);
}  // namespace detail

/// The Gauss-Newton solver; options are public fields with defaults (designated initializers work).
struct GaussNewton {
  int maxiter = 100;              ///< most iterations (steps; a run evaluates at most maxiter + 1 Jacobians)
  double tol = 1e-5;              ///< converged when ||J^T r||_2 <= tol (jaxopt's default)
  double xtol = 0.0;              ///< also converged when ||p||_2 <= xtol (1 + ||x||_2) (0: off)
  bool damped = true;             ///< Armijo backtracking on 1/2 ||r||^2; false: the full step, as jaxopt
  double decrease_factor = 0.5;   ///< the step's shrink factor in the backtracking
  double c1 = 1e-4;               ///< Armijo's sufficient-decrease constant
  int maxls = 30;                 ///< most backtracking steps per iteration (then line_search_failed)
  bool verbose = false;           ///< one line per iteration
  Callback callback{};            ///< called after each iteration; returning true stops run()

  /// Runs from x0 (a Tensor of any shape, or a pytree of Tensors); residuals(x, args...) returns a Tensor of any
  /// shape. The state's grad (J^T r) is shaped like x0.
  template <class F, class P, class... Args>
  OptStep<P, GaussNewtonState<P>> run(const F& residuals, const P& x0, const Args&... args) const {
    auto [x, unravel] = tree::ravel(x0);
    const detail::FlatVectorFunction problem = detail::flat_tree_function(residuals, x0, args...);
    GaussNewtonState<Array> s;
    x = detail::gauss_newton_flat(problem, std::move(x), s, *this);
    GaussNewtonState<P> out;
    static_cast<IterationInfo&>(out) = static_cast<const IterationInfo&>(s);
    out.grad = unravel(s.grad);
    out.residual = s.residual;
    out.num_jac_eval = s.num_jac_eval;
    return {unravel(x), std::move(out)};
  }
};

}  // namespace xgrad::optim
