#pragma once
// Any optax-style gradient transformation (transform.hpp, optimizers.hpp) run as a solver, as jaxopt.OptaxSolver:
// the common solver interface (init_state / update / run / bind, statuses, verbose table, callback) on top of
//
//   auto [updates, opt_state] = opt.update(grad, opt_state, params);   params = apply_updates(params, updates);
//
//   xgrad::optim::TransformSolver solver{.opt = xgrad::optim::adam(1e-3), .maxiter = 1000, .tol = 1e-6};
//   auto [params, state] = solver.run(f, x0, args...);    // state.opt_state: the transform's state
//
// The transform's type is deduced from `.opt` (class template argument deduction for aggregates, C++20), so the
// spelling above needs no template argument; `TransformSolver<decltype(opt)>{opt}` is the explicit form.
// Each iteration costs one value-and-gradient evaluation, at the new parameters. There is no line search:
// the step is the transform's; `state.stepsize` reports ||updates||_2 / ||grad||_2 (global over the leaves) of the
// last update, the step length along -grad that the update's length corresponds to: exactly the learning rate for
// plain sgd, an effective step for adaptive transforms such as adam.
//
// `tol` measures the gradient's global Euclidean norm: state.error = ||grad f(params)||_2 over all leaves, and the
// status is Status::converged exactly when state.error <= tol (or by `ftol` / `xtol`, off by default, as for the
// other solvers; the stall test is off by default too, since a stochastic objective need not decrease). A value below
// -1e100 ends with Status::unbounded; a non-finite update, value or gradient ends with Status::non_finite and params
// (and value, grad, opt_state) stay at the last finite point. Stochastic objectives work (f may draw a batch from its
// arguments) but then the gradient norm is noisy and `tol` rarely means convergence: use maxiter and the callback.
#include <cmath>
#include <utility>

#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// State of TransformSolver for parameters of type P and a transform whose state, for P, has type OS.
template <class P, class OS>
struct TransformSolverState : SolverState<P> {
  OS opt_state{};               ///< the transform's state (a pytree)
};

/// An optax-style transform T run to tolerance; options are public fields with defaults (designated initializers
/// work, and deduce T: `TransformSolver solver{.opt = adam(1e-3), .tol = 1e-6};`). A non-finite update, value or
/// gradient leaves params and state at the last finite point with Status::non_finite.
template <class T>
struct TransformSolver {
  T opt;                      ///< the gradient transformation (adam(1e-3), sgd(0.1), chain(...), ...)
  int maxiter = 500;          ///< most iterations for run()
  double tol = 1e-5;          ///< converged when ||grad||_2 (global, all leaves) <= tol
  double ftol = 0.0;          ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (0: off)
  double xtol = 0.0;          ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 0;   ///< Status::stalled after this many iterations without progress (0: off)
  bool verbose = false;       ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};        ///< called after each iteration; returning true stops run()

  /// The state for parameters of type P (its transform state's type follows P).
  template <class P>
  using state_for = TransformSolverState<P, state_t<T, P>>;
  XGRAD_OPTIM_SOLVER_INTERFACE(TransformSolver, state_for)

  /// The transform's init(params).
  template <class P>
  void init(state_type<P>& s, const P& params) const {
    s.opt_state = opt.init(params);
  }

  /// The transform's update from the current gradient, apply_updates, and one evaluation at the new parameters.
  template <class P, class It>
  LineSearchResult step(state_type<P>& s, const It& it) const {
    LineSearchResult r;
    r.stepsize = s.stepsize;  // kept when the step fails
    r.non_finite = true;
    auto [updates, opt_state] = opt.update(s.grad, s.opt_state, it.params());
    const Array u = flat::values(updates);
    if (!flat::all_finite(u)) return r;
    r.params = flat::values(apply_updates(it.params(), updates));
    if (!flat::all_finite(r.params)) return r;  // finite updates can still overflow
    std::tie(r.value, r.grad) = it(r.params);
    ++s.num_fun_eval;
    ++s.num_grad_eval;
    const double error = flat::norm2(r.grad);
    if (!std::isfinite(r.value) || !std::isfinite(error)) return r;
    r.stepsize = s.error > 0.0 ? flat::norm2(u) / s.error : 0.0;
    r.ok = r.decrease = true;
    r.non_finite = false;
    s.opt_state = std::move(opt_state);
    return r;
  }
};

}  // namespace xgrad::optim
