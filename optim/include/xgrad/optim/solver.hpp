#pragma once
// Pieces shared by the jaxopt-style solvers (GradientDescent, LBFGS): the {params, state} pair that run() returns,
// the per-iteration summary a callback sees, and the verbose table line.
#include <cstdio>
#include <functional>
#include <string>

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
};

/// Called after every iteration of run(); return true to stop the run (the status then stays as it is, usually
/// Status::running, which is not success).
using Callback = std::function<bool(const IterationInfo&)>;

namespace detail {

template <class S>
IterationInfo info(const S& s) {
  return {s.iter_num, s.value, s.error, s.stepsize, s.num_fun_eval, s.num_grad_eval, s.num_linesearch_iter, s.status};
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
