#pragma once
// Pieces shared by the jaxopt-style solvers (GradientDescent, LBFGS, BFGS, NonlinearCG, NewtonCG, TransformSolver):
// the {params, state} pair that run() returns, the per-iteration summary a callback sees, the verbose table line,
// the run() loop, the status test, and the line-search step that the line-search solvers share.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <utility>

#include "xgrad/optim/hager_zhang.hpp"
#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/more_thuente.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// What a solver's run() returns: `auto [params, state] = solver.run(f, x0, args...);`.
template <class P, class S>
struct OptStep {
  P params;  ///< the final parameters (the last accepted iterate; always finite)
  S state;   ///< the final state: status, value, error, counters, ...
};

/// One iteration as the callback sees it: the numeric fields of the solver's state.
struct IterationInfo {
  int iter_num = 0;             ///< iterations done
  double value = 0.0;           ///< objective at the current parameters
  double error = 0.0;           ///< ||grad||_2 at the current parameters
  double stepsize = 0.0;        ///< last accepted step
  int num_fun_eval = 0;         ///< objective evaluations so far
  int num_grad_eval = 0;        ///< gradient evaluations so far
  int num_linesearch_iter = 0;  ///< line-search trial evaluations so far
  Status status = Status::running;  ///< status after this iteration
  ConvergenceTest converged_by = ConvergenceTest::none;  ///< which test made the run converged
};

/// Called after every iteration of run(); return true to stop the run (the status then stays as it is, usually
/// Status::running, which is not success).
using Callback = std::function<bool(const IterationInfo&)>;

namespace detail {

template <class S>
IterationInfo info(const S& s) {
  return {s.iter_num, s.value, s.error, s.stepsize, s.num_fun_eval, s.num_grad_eval, s.num_linesearch_iter,
          s.status, s.converged_by};
}

// One table line per iteration (the header before the first).
template <class S>
void print_iteration(const char* solver, const S& s) {
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

// A solver state S (an aggregate with the common fields and `grad`) at `params`: evaluates f and its gradient once.
template <class S, class F, class P, class... Args>
S initial_state(const F& fun, const P& params, double tol, const Args&... args) {
  auto [y, g] = value_and_grad(fun)(params, args...);
  const double error = flat::norm2(flat::values(g));
  S s{.grad = std::move(g)};
  s.value = y.item();
  s.error = error;
  s.num_fun_eval = s.num_grad_eval = 1;
  s.status = initial_status(s.value, error, tol);
  if (s.status == Status::converged) s.converged_by = ConvergenceTest::gtol;
  return s;
}

// The tests after an iteration that moved from flat x (value f_old) to x_new (value s.value), run while s.status is
// still running: scipy's and Ceres' relative decrease of f (solver.ftol) and step size (solver.xtol), each off at 0;
// then the stall test: Status::stalled once solver.stall_iterations iterations in a row (0: off) brought neither a
// value below the lowest so far nor a gradient norm below the lowest so far. Only strict new lows count, so a run
// that cycles between points (approximate-Wolfe steps may raise f within its rounding level) or takes zero-length
// steps stalls, while one whose f has reached its rounding level but whose gradient still shrinks does not.
// `monotone` false (accelerated gradient descent, which raises f by design) skips the ftol and stall tests.
template <class Solver, class S>
void progress_tests(const Solver& solver, S& s, double f_old, const Array& x, const Array& x_new,
                    bool monotone = true) {
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

// The run() loop of every solver: init_state, then update until the status is not running, `maxiter` iterations
// (Status::max_iterations) or the callback asks to stop; prints the table when `verbose`.
template <class Solver, class F, class P, class... Args>
auto run_solver(const Solver& solver, const char* name, const F& fun, const P& init_params, const Args&... args) {
  P params = init_params;
  auto state = solver.init_state(fun, params, args...);
  if (solver.verbose) print_iteration(name, state);
  while (state.status == Status::running) {
    if (state.iter_num >= solver.maxiter) {
      state.status = Status::max_iterations;
      break;
    }
    auto step = solver.update(fun, params, std::move(state), args...);  // by value: no copy of the histories
    params = std::move(step.params);
    state = std::move(step.state);
    if (solver.verbose) print_iteration(name, state);
    if (solver.callback && solver.callback(info(state))) break;
  }
  return OptStep<P, decltype(state)>{std::move(params), std::move(state)};
}

// One line search from flat x (value s.value, flat gradient g) along d with the solver's search (solver.linesearch
// picks solver.zoom, .backtracking, .more_thuente or .hager_zhang), first trying step t0; the evaluations are
// counted in the state s.
template <class Solver, class VG, class S>
LineSearchResult line_search_step(const Solver& solver, VG& vg, S& s, const Array& x, const Array& g, const Array& d,
                                  double t0) {
  LineSearchResult r;
  switch (solver.linesearch) {
    case LineSearchKind::zoom: r = solver.zoom.search(vg, x, s.value, g, d, t0); break;
    case LineSearchKind::backtracking: r = solver.backtracking.search(vg, x, s.value, g, d, t0); break;
    case LineSearchKind::more_thuente: r = solver.more_thuente.search(vg, x, s.value, g, d, t0); break;
    case LineSearchKind::hager_zhang: r = solver.hager_zhang.search(vg, x, s.value, g, d, t0); break;
  }
  s.num_fun_eval += r.evaluations;
  s.num_grad_eval += r.evaluations;
  s.num_linesearch_iter += r.evaluations;
  return r;
}

// The line search of the quasi-Newton and conjugate-gradient solvers: along d (first trial step t0) unless d is
// not a descent direction, and along steepest descent -g (first trial step min(1, 1/||g||)) if the search along d
// failed without being unbounded. Before falling back, `restart()` drops the solver's curvature memory and d becomes
// -g. `steepest` says that d already is -g (no retry then).
template <class Solver, class VG, class S, class Restart>
LineSearchResult search_or_steepest(const Solver& solver, VG& vg, S& s, const Array& x, const Array& g, Array& d,
                                    double t0, bool steepest, Restart&& restart) {
  const double first_step = std::min(1.0, 1.0 / s.error);
  auto fall_back = [&] {
    restart();
    d = flat::negative(g);
    steepest = true;
  };
  if (!(flat::dot(g, d) < 0.0)) fall_back();
  LineSearchResult r = line_search_step(solver, vg, s, x, g, d, steepest ? first_step : t0);
  if (!r.ok && !steepest && !r.unbounded) {
    fall_back();
    r = line_search_step(solver, vg, s, x, g, d, first_step);
  }
  return r;
}

// Records line-search result r in state s (value, error, grad, stepsize, status with tolerance tol) and returns the
// new parameters. A failed search sets the status to say why (unbounded, non_finite when a trial point was NaN/Inf,
// else line_search_failed); the parameters then move only to the best trial point with sufficient decrease, if the
// search found one, so they stay finite, and the status becomes converged if that point happens to satisfy tol.
// After an accepted step, progress_tests (ftol, xtol, stall) run from flat x.
template <class Solver, class P, class S, class Unravel>
P record_step(const Solver& solver, S& s, LineSearchResult& r, const P& params, const Array& x,
              const Unravel& unravel) {
  const double tol = solver.tol, f_old = s.value;
  s.stepsize = r.stepsize;
  if (!r.ok) {
    s.status = r.unbounded ? Status::unbounded : r.non_finite ? Status::non_finite : Status::line_search_failed;
    if (!r.decrease) return params;
  }
  s.value = r.value;
  s.error = flat::norm2(r.grad);
  s.grad = unravel(r.grad);
  if (r.ok)
    s.status = initial_status(s.value, s.error, tol);
  else if (s.error <= tol && !r.unbounded)
    s.status = Status::converged;
  if (s.status == Status::converged) s.converged_by = ConvergenceTest::gtol;
  if (r.ok) progress_tests(solver, s, f_old, x, r.params);
  return unravel(r.params);
}

}  // namespace detail
}  // namespace xgrad::optim

namespace xgrad::optim {

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
