#pragma once
// The solver driver, written once for every solver (GradientDescent, LBFGS, BFGS, NonlinearCG, NewtonCG,
// TransformSolver). As in optimistix, the driver owns the loop: it evaluates f, tests convergence (gtol, ftol,
// xtol, stall, maxiter, non-finite, unbounded), asks the solver for a step, records it in the state and calls the
// callback. `tol` measures the gradient's global Euclidean norm: state.error = ||grad f(params)||_2 over all leaves
// (or the solver's own optimality measure when it has `error(x, g)`: ProximalGradient's gradient mapping), and the
// status is Status::converged with converged_by = gtol exactly when state.error <= tol. `ftol` and `xtol`
// (scipy's, off by default) can also end a run converged; `stall_iterations` ends one that makes no progress as
// Status::stalled (detail::progress_tests). A solver never reports success it did not reach.
//
// A solver is an options struct with its own state type and one or two hooks:
//
//   XState<P> : SolverState<P> { what the idea needs }   // its state type (state_type<P>)
//   void init(state, params) const;                      // optional: its own fields at the first point
//   -- a descent along a line search (LBFGS, BFGS, NonlinearCG, NewtonCG):
//   Direction direction(state, const Iterate& it) const;                 // d, the first trial step, d == -grad?
//   void restart(state) const;                                           // optional: forget curvature memory
//   void after_step(state, it, d, const LineSearchResult& r, bool restarted) const;  // optional: learn from r
//   static LineSearch recommended_linesearch(LineSearchKind);  // optional: what `.linesearch = kind` means
//   -- or a step of its own (GradientDescent, ProximalGradient, TransformSolver):
//   LineSearchResult step(state, const Iterate& it) const;               // the proposed point, or why none
//   double error(const Array& x, const Array& g) const;  // optional: the optimality measure at flat x (default ||g||)
//   P start(const P& params) const;                      // optional: where run() starts (LBFGSB projects x0)
//
// and XGRAD_OPTIM_SOLVER_INTERFACE(X, XState) inside it, which gives it init_state / update / run / bind.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/tree.hpp"
#include "xgrad/optim/flat_objective.hpp"
#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/search.hpp"
#include "xgrad/optim/solver_state.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// What a descent proposes: the direction, the first trial step along it, and whether it already is -grad (then no
/// steepest-descent retry follows a failed search).
struct Direction {
  Array d;               ///< search direction (flat)
  double t0 = 1.0;       ///< first trial step
  bool steepest = false; ///< d == -grad
};

/// One update()'s view of the problem: the objective on the flat view at the current parameters (flat x, f, its
/// gradient and Hessian-vector products anywhere on the flat view) and the flat gradient g there.
template <class F, class P, class... Args>
struct Iterate : FlatObjective<F, P, Args...> {
  using FlatObjective<F, P, Args...>::FlatObjective;
  Array g{};  ///< flat gradient at x()
};

namespace detail {

// One table line per iteration (the header before the first).
inline void print_iteration(const char* solver, const IterationInfo& s) {
  if (s.iter_num == 0)
    std::printf("%s\n%6s %16s %12s %12s %8s\n", solver, "iter", "value", "error", "stepsize", "evals");
  std::printf("%6d %16.9e %12.5e %12.5e %8d  %s\n", s.iter_num, s.value, s.error, s.stepsize, s.num_fun_eval,
              s.status == Status::running ? "" : to_string(s.status).c_str());
}

// Below this value an objective is declared unbounded below.
inline constexpr double unbounded_value = -1e100;

// The status at a point with objective `value` and gradient norm `error`: non_finite, unbounded, converged
// (error <= tol) or running.
inline Status initial_status(double value, double error, double tol) {
  if (!std::isfinite(value) || !std::isfinite(error)) return Status::non_finite;
  if (value < unbounded_value) return Status::unbounded;
  if (error <= tol) return Status::converged;
  return Status::running;
}

// The tests after an iteration that moved from flat x (value f_old) to x_new (value s.value), run while s.status is
// still running: scipy's and Ceres' relative decrease of f (solver.ftol) and step size (solver.xtol), each off at 0;
// then the stall test: Status::stalled once solver.stall_iterations iterations in a row (0: off) brought neither a
// value below the lowest so far nor a gradient norm below the lowest so far. Only strict new lows count, so a run
// that cycles between points (approximate-Wolfe steps may raise f within its rounding level) or takes zero-length
// steps stalls, while one whose f has reached its rounding level but whose gradient still shrinks does not.
// `monotone` false (accelerated gradient descent, which raises f by design) skips the ftol and stall tests.
template <class Solver>
void progress_tests(const Solver& solver, IterationInfo& s, double f_old, const Array& x, const Array& x_new,
                    bool monotone) {
  const bool lower_value = s.value < s.best_value, lower_error = s.error < s.best_error;
  s.best_value = std::min(s.best_value, s.value);
  s.best_error = std::min(s.best_error, s.error);
  s.num_stall_iter = lower_value || lower_error ? 0 : s.num_stall_iter + 1;
  if (s.status != Status::running) return;
  const double f = s.value;
  if (monotone && solver.ftol > 0.0 && f_old - f <= solver.ftol * std::max({std::abs(f_old), std::abs(f), 1.0})) {
    s.status = Status::converged;
    s.converged_by = ConvergenceTest::ftol;
  } else if (solver.xtol > 0.0 && flat::norm2(flat::sub(x_new, x)) <= solver.xtol * std::max(1.0, flat::norm2(x))) {
    s.status = Status::converged;
    s.converged_by = ConvergenceTest::xtol;
  } else if (monotone && solver.stall_iterations > 0 && s.num_stall_iter >= solver.stall_iterations) {
    s.status = Status::stalled;
  }
}

// The optimality measure at flat x with flat gradient g: the solver's own `error(x, g)`, else ||g||_2.
template <class Solver>
double error_at(const Solver& solver, const Array& x, const Array& g) {
  if constexpr (requires { solver.error(x, g); })
    return solver.error(x, g);
  else
    return flat::norm2(g);
}

// Whether the solver decreases f at every accepted step (false: its ftol and stall tests are skipped).
template <class Solver>
bool monotone(const Solver& solver) {
  if constexpr (requires { solver.monotone(); })
    return solver.monotone();
  else
    return true;
}

// One line search with search `ls` from flat x (value f0, flat gradient g) along d, first trying step t0; the
// evaluations are counted in the state s.
inline LineSearchResult line_search_step(const LineSearch& ls, FlatObjectiveRef vg, IterationInfo& s, const Array& x,
                                         double f0, const Array& g, const Array& d, double t0) {
  LineSearchResult r = ls.search(vg, x, f0, g, d, t0);
  s.num_fun_eval += r.evaluations;
  s.num_grad_eval += r.evaluations;
  s.num_linesearch_iter += r.evaluations;
  return r;
}

// The line search of a descent: along d (first trial step t0) unless d is not a descent direction, and along
// steepest descent -g (first trial step min(1, 1/||g||)) if the search along d failed without being unbounded.
// Before falling back, `restart()` drops the descent's curvature memory and d becomes -g. `steepest` says that d
// already is -g (no retry then).
template <class Restart>
LineSearchResult search_or_steepest(const LineSearch& ls, FlatObjectiveRef vg, IterationInfo& s, const Array& x,
                                    const Array& g, Array& d, double t0, bool steepest, Restart&& restart) {
  const double first_step = std::min(1.0, 1.0 / s.error);
  auto fall_back = [&] {
    restart();
    d = flat::negative(g);
    steepest = true;
  };
  if (!(flat::dot(g, d) < 0.0)) fall_back();
  LineSearchResult r = line_search_step(ls, vg, s, x, s.value, g, d, steepest ? first_step : t0);
  if (!r.ok && !steepest && !r.unbounded) {
    fall_back();
    r = line_search_step(ls, vg, s, x, s.value, g, d, first_step);
  }
  return r;
}

// The solver's search: `solver.linesearch`, or when that names a kind alone, the solver's recommended_linesearch
// (LineSearch::of(kind): c2 = 0.9, backtracking under strong Wolfe, for a solver that recommends nothing else).
template <class Solver>
LineSearch resolved_linesearch(const Solver& solver) {
  if constexpr (requires { Solver::recommended_linesearch(LineSearchKind::zoom); })
    return solver.linesearch.resolve(&Solver::recommended_linesearch);
  else
    return solver.linesearch.resolve([](LineSearchKind kind) { return LineSearch::of(kind); });
}

// A descent's step: its direction, the search (with the steepest-descent retry), then what the descent learns
// from the result.
template <class Solver, class S, class It>
LineSearchResult descend(const Solver& solver, S& s, const It& it) {
  const LineSearch ls = resolved_linesearch(solver);
  Direction dir = solver.direction(s, it);
  bool restarted = false;
  auto restart = [&] {
    if constexpr (requires { solver.restart(s); }) solver.restart(s);
    restarted = true;
  };
  LineSearchResult r = search_or_steepest(ls, it, s, it.x(), it.g, dir.d, dir.t0, dir.steepest, restart);
  if constexpr (requires { solver.after_step(s, it, dir.d, r, restarted); })
    solver.after_step(s, it, dir.d, r, restarted);
  return r;
}

// Records the step's result r in state s (value, error, grad, stepsize, status) and returns the new parameters. A
// failed step (r.ok false) sets the status to say why (unbounded, non_finite when a trial point was NaN/Inf, else
// line_search_failed); the parameters then move only to the best trial point with sufficient decrease, if the
// search found one, so they stay finite, and the status becomes converged if that point happens to satisfy tol.
// After an accepted step, progress_tests (ftol, xtol, stall) run from flat x.
template <class Solver, class P, class S, class It>
P record_step(const Solver& solver, S& s, LineSearchResult& r, const P& params, const It& it) {
  const double tol = solver.tol, f_old = s.value;
  s.stepsize = r.stepsize;
  if (!r.ok) {
    s.status = r.unbounded ? Status::unbounded : r.non_finite ? Status::non_finite : Status::line_search_failed;
    if (!r.decrease) return params;
  }
  s.value = r.value;
  s.error = error_at(solver, r.params, r.grad);
  s.grad = it.unravel(r.grad);
  if (r.ok)
    s.status = initial_status(s.value, s.error, tol);
  else if (s.error <= tol && !r.unbounded)
    s.status = Status::converged;
  if (s.status == Status::converged) s.converged_by = ConvergenceTest::gtol;
  if (r.ok) progress_tests(solver, s, f_old, it.x(), r.params, monotone(solver));
  return it.unravel(r.params);
}

// The state at `params`: f and its gradient evaluated once, the status test, then the solver's own fields.
template <class Solver, class F, class P, class... Args>
auto init_state(const Solver& solver, const F& fun, const P& params, const Args&... args) {
  typename Solver::template state_type<P> s{};
  auto [y, g] = value_and_grad(fun)(params, args...);
  if constexpr (requires(const Array& a) { solver.error(a, a); })
    s.error = solver.error(flat::values(params), flat::values(g));
  else
    s.error = flat::norm2(flat::values(g));
  s.grad = std::move(g);
  s.value = y.item();
  s.num_fun_eval = s.num_grad_eval = 1;
  s.status = initial_status(s.value, s.error, solver.tol);
  if (s.status == Status::converged) s.converged_by = ConvergenceTest::gtol;
  if constexpr (requires { solver.init(s, params); }) solver.init(s, params);
  return s;
}

// One iteration from (params, s): the solver's step (a descent's direction and search, or its own step), recorded.
// A state that is already non_finite stays as it is.
template <class Solver, class F, class P, class S, class... Args>
OptStep<P, S> update(const Solver& solver, const F& fun, const P& params, S s, const Args&... args) {
  if (s.status == Status::non_finite) return {params, std::move(s)};
  Iterate<F, P, Args...> it(fun, params, args...);
  it.g = flat::values(s.grad);
  ++s.iter_num;
  LineSearchResult r;
  if constexpr (requires { solver.direction(s, it); })
    r = descend(solver, s, it);
  else
    r = solver.step(s, it);
  P next = record_step(solver, s, r, params, it);
  return {std::move(next), std::move(s)};
}

// The run() loop of every solver: init_state, then update until the status is not running, `maxiter` iterations
// (Status::max_iterations) or the callback asks to stop; prints the table when `verbose`.
template <class Solver, class F, class P, class... Args>
auto run(const Solver& solver, const char* name, const F& fun, const P& init_params, const Args&... args) {
  P params = [&] {
    if constexpr (requires { solver.start(init_params); })
      return P(solver.start(init_params));  // the solver's feasible start (LBFGSB: projected onto its bounds)
    else
      return init_params;
  }();
  auto state = init_state(solver, fun, params, args...);
  if (solver.verbose) print_iteration(name, state);
  while (state.status == Status::running) {
    if (state.iter_num >= solver.maxiter) {
      state.status = Status::max_iterations;
      break;
    }
    auto step = update(solver, fun, params, std::move(state), args...);  // by value: no copy of the histories
    params = std::move(step.params);
    state = std::move(step.state);
    if (solver.verbose) print_iteration(name, state);
    if (solver.callback && solver.callback(state)) break;
  }
  return OptStep<P, decltype(state)>{std::move(params), std::move(state)};
}

}  // namespace detail

/// A solver bound to its objective, for the spelling without `fun`: `auto s = LBFGS{}.bind(f);`
/// then `s.init_state(params, args...)`, `s.update(params, state, args...)`, `s.run(init_params, args...)`.
template <class Solver, class F>
struct BoundSolver {
  Solver solver;  ///< the options
  F fun;          ///< the objective fun(params, args...) -> one-element Tensor

  /// solver.init_state(fun, params, args...)
  template <class P, class... Args>
  auto init_state(const P& params, const Args&... args) const {
    return solver.init_state(fun, params, args...);
  }
  /// solver.update(fun, params, state, args...)
  template <class P, class S, class... Args>
  auto update(const P& params, const S& state, const Args&... args) const {
    return solver.update(fun, params, state, args...);
  }
  /// solver.run(fun, init_params, args...)
  template <class P, class... Args>
  auto run(const P& init_params, const Args&... args) const {
    return solver.run(fun, init_params, args...);
  }
};

}  // namespace xgrad::optim

// The public interface of a solver X whose state for parameters P is State<P>, written once (a base class would do
// it too, but then `X{.maxiter = 100}` warns under -Wextra, -Wmissing-field-initializers with GCC 12, in the users'
// code):
//   init_state(f, params, args...)        the state at params (f and its gradient evaluated once)
//   update(f, params, state, args...)     one iteration -> {params, state}
//   run(f, init_params, args...)          iterate until the status is not running, maxiter, or the callback stops
//   bind(f)                               the same without the objective argument (BoundSolver)
#define XGRAD_OPTIM_SOLVER_INTERFACE(X, State)                                                             \
  template <class P>                                                                                       \
  using state_type = State<P>;                                                                             \
  template <class F, class P, class... Args>                                                               \
  state_type<P> init_state(const F& fun, const P& params, const Args&... args) const {                     \
    return ::xgrad::optim::detail::init_state(*this, fun, params, args...);                                 \
  }                                                                                                        \
  template <class F, class P, class... Args>                                                               \
  ::xgrad::optim::OptStep<P, state_type<P>> update(const F& fun, const P& params, state_type<P> state,     \
                                                   const Args&... args) const {                            \
    return ::xgrad::optim::detail::update(*this, fun, params, std::move(state), args...);                   \
  }                                                                                                        \
  template <class F, class P, class... Args>                                                               \
  ::xgrad::optim::OptStep<P, state_type<P>> run(const F& fun, const P& init_params, const Args&... args)   \
      const {                                                                                              \
    return ::xgrad::optim::detail::run(*this, #X, fun, init_params, args...);                               \
  }                                                                                                        \
  template <class F>                                                                                       \
  ::xgrad::optim::BoundSolver<X, F> bind(F fun) const {                                                    \
    return {*this, std::move(fun)};                                                                        \
  }
