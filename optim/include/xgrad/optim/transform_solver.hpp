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
// status is Status::converged exactly when state.error <= tol. A value below -1e100 ends with Status::unbounded;
// a non-finite update, value or gradient ends with Status::non_finite and params (and value, grad, opt_state) stay
// at the last finite point. Stochastic objectives work (f may draw a batch from its arguments) but then the
// gradient norm is noisy and `tol` rarely means convergence: use maxiter and the callback.
#include <cmath>
#include <utility>

#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// State of TransformSolver for parameters of type P and a transform whose state, for P, has type OS.
template <class P, class OS>
struct TransformSolverState {
  int iter_num = 0;             ///< iterations (transform updates) done
  double value = 0.0;           ///< f at the current parameters
  double error = 0.0;           ///< ||grad||_2 (global over the leaves): the quantity compared with tol
  double stepsize = 0.0;        ///< ||updates||_2 / ||grad||_2 of the last update (0 before the first)
  int num_fun_eval = 0;         ///< objective evaluations (each also computes the gradient)
  int num_grad_eval = 0;        ///< gradient evaluations
  int num_linesearch_iter = 0;  ///< always 0: no line search
  P grad;                       ///< gradient at the current parameters, params' type
  Status status = Status::running;  ///< see Status
  ConvergenceTest converged_by = ConvergenceTest::none;  ///< gtol when converged, else none
  OS opt_state{};               ///< the transform's state (a pytree)
};

/// An optax-style transform T run to tolerance; options are public fields with defaults (designated initializers
/// work, and deduce T: `TransformSolver solver{.opt = adam(1e-3), .tol = 1e-6};`).
template <class T>
struct TransformSolver {
  T opt;                      ///< the gradient transformation (adam(1e-3), sgd(0.1), chain(...), ...)
  int maxiter = 500;          ///< most iterations for run()
  double tol = 1e-5;          ///< converged when ||grad||_2 (global, all leaves) <= tol
  bool verbose = false;       ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};        ///< called after each iteration; returning true stops run()

  /// The state type for parameters of type P.
  template <class P>
  using state_type = TransformSolverState<P, state_t<T, P>>;

  /// The state at `params`: evaluates f and its gradient once, and the transform's init(params).
  template <class F, class P, class... Args>
  state_type<P> init_state(const F& fun, const P& params, const Args&... args) const {
    auto s = detail::initial_state<state_type<P>>(fun, params, tol, args...);
    s.opt_state = opt.init(params);
    return s;
  }

  /// One iteration: the transform's update from the current gradient, apply_updates, and one evaluation at the
  /// new parameters. A non-finite update, value or gradient leaves params and state at the last finite point with
  /// Status::non_finite.
  template <class F, class P, class... Args>
  OptStep<P, state_type<P>> update(const F& fun, const P& params, state_type<P> s,
                                   const Args&... args) const {
    if (s.status == Status::non_finite) return {params, std::move(s)};
    ++s.iter_num;
    auto [updates, opt_state] = opt.update(s.grad, s.opt_state, params);
    const Array u = flat::values(updates);
    if (!flat::all_finite(u)) {
      s.status = Status::non_finite;
      return {params, std::move(s)};
    }
    P next = apply_updates(params, updates);
    if (!flat::all_finite(flat::values(next))) {  // finite updates can still overflow
      s.status = Status::non_finite;
      return {params, std::move(s)};
    }
    auto [y, g] = value_and_grad(fun)(next, args...);
    ++s.num_fun_eval;
    ++s.num_grad_eval;
    const double value = y.item(), error = flat::norm2(flat::values(g));
    if (!std::isfinite(value) || !std::isfinite(error)) {
      s.status = Status::non_finite;
      return {params, std::move(s)};
    }
    s.stepsize = s.error > 0.0 ? flat::norm2(u) / s.error : 0.0;
    s.value = value;
    s.error = error;
    s.grad = std::move(g);
    s.opt_state = std::move(opt_state);
    s.status = detail::initial_status(s.value, s.error, tol);
    if (s.status == Status::converged) s.converged_by = ConvergenceTest::gtol;
    return {std::move(next), std::move(s)};
  }

  /// Iterate from init_params until converged, a failure status, maxiter iterations (Status::max_iterations), or
  /// the callback asks to stop. Returns {params, state}.
  template <class F, class P, class... Args>
  OptStep<P, state_type<P>> run(const F& fun, const P& init_params, const Args&... args) const {
    return detail::run_solver(*this, "TransformSolver", fun, init_params, args...);
  }

  /// This solver bound to `fun`: init_state/update/run without the objective argument.
  template <class F>
  BoundSolver<TransformSolver, F> bind(F fun) const {
    return {*this, std::move(fun)};
  }
};

}  // namespace xgrad::optim
