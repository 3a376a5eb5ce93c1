#pragma once
// The outcome of a solver run (GradientDescent, LBFGS, BFGS, NonlinearCG, NewtonCG, TransformSolver): what the
// state's `status` field reports.
#include <ostream>
#include <string>

namespace xgrad::optim {

/// Why a solver stopped (or that it has not). Only `converged` means success: it is set only when the solver's
/// stopping test (documented with each solver's `tol`) actually holds.
enum class Status {
  running,             ///< not finished: still iterating, or stopped early by a callback
  converged,           ///< the stopping test holds (for the gradient solvers: ||grad||_2 <= tol)
  max_iterations,      ///< `maxiter` iterations done without converging
  line_search_failed,  ///< no acceptable step along the search direction (also after a retry, for LBFGS)
  non_finite,          ///< the value or gradient is NaN/Inf at the start, or only non-finite trial points remain
  unbounded,           ///< the value fell below -1e100, or kept decreasing up to the line search's largest step
};

/// The enumerator's name: to_string(Status::converged) == "converged".
inline std::string to_string(Status s) {
  switch (s) {
    case Status::running: return "running";
    case Status::converged: return "converged";
    case Status::max_iterations: return "max_iterations";
    case Status::line_search_failed: return "line_search_failed";
    case Status::non_finite: return "non_finite";
    case Status::unbounded: return "unbounded";
  }
  return "unknown";
}

/// Prints to_string(s).
inline std::ostream& operator<<(std::ostream& os, Status s) { return os << to_string(s); }

}  // namespace xgrad::optim
