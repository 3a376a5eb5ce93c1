#pragma once
// The record every solver's state shares (jaxopt's common state fields): each solver's state derives from
// SolverState<P> and adds only what its own idea needs (LBFGS its history, BFGS its matrix, ...). A callback sees
// the numeric part, IterationInfo, of the state itself.
#include <functional>
#include <limits>

#include "xgrad/optim/status.hpp"

namespace xgrad::optim {

/// The numeric fields every solver state has; what a callback sees after each iteration.
struct IterationInfo {
  int iter_num = 0;             ///< iterations done
  double value = 0.0;           ///< f at the current parameters
  double error = 0.0;           ///< ||grad||_2 (global over the leaves): the quantity compared with tol
  double stepsize = 0.0;        ///< last accepted step (0 before the first; the solver's header says which step)
  int num_fun_eval = 0;         ///< objective evaluations (each also computes the gradient)
  int num_grad_eval = 0;        ///< gradient evaluations (Hessian-vector products not included)
  int num_linesearch_iter = 0;  ///< line-search trial evaluations, over all iterations
  Status status = Status::running;  ///< see Status
  ConvergenceTest converged_by = ConvergenceTest::none;  ///< which test made the status converged
  double best_value = std::numeric_limits<double>::infinity();  ///< lowest value reached by an iteration (stall test)
  double best_error = std::numeric_limits<double>::infinity();  ///< lowest error reached by an iteration (stall test)
  int num_stall_iter = 0;       ///< iterations in a row lowering neither best_value nor best_error
};

/// The shared state of a solver for parameters of type P: IterationInfo and the gradient.
template <class P>
struct SolverState : IterationInfo {
  P grad{};  ///< gradient at the current parameters, params' type
};

/// What a solver's run() and update() return: `auto [params, state] = solver.run(f, x0, args...);`.
template <class P, class S>
struct OptStep {
  P params;  ///< the final parameters (the last accepted iterate; always finite)
  S state;   ///< the final state: status, value, error, counters, ...
};

/// Called after every iteration of run(); return true to stop the run (the status then stays as it is, usually
/// Status::running, which is not success).
using Callback = std::function<bool(const IterationInfo&)>;

}  // namespace xgrad::optim
