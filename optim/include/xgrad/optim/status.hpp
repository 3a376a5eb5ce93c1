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
  converged,           ///< a stopping test holds: ||grad||_2 <= tol, or ftol / xtol where enabled (`converged_by`)
  max_iterations,      ///< `maxiter` iterations done without converging
  line_search_failed,  ///< no acceptable step along the search direction (also after a retry, for LBFGS)
  non_finite,          ///< the value or gradient is NaN/Inf at the start, or only non-finite trial points remain
  unbounded,           ///< the value fell below -1e100, or kept decreasing up to the line search's largest step
  stalled,             ///< no progress: `stall_iterations` iterations in a row without a value below the lowest so
                       ///< far (cycling between points, zero-length steps); often at a minimiser whose gradient
                       ///< norm f's rounding keeps above tol, but not certified as one
};

/// Which stopping test made a run converged (scipy's and Ceres' three tolerances); `none` while not converged.
enum class ConvergenceTest {
  none,  ///< not converged
  gtol,  ///< ||grad||_2 <= tol
  ftol,  ///< relative decrease of f: (f_k - f_{k+1}) <= ftol max(|f_k|, |f_{k+1}|, 1)
  xtol,  ///< step size: ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2)
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
    case Status::stalled: return "stalled";
  }
  return "unknown";
}

/// The enumerator's name: to_string(ConvergenceTest::ftol) == "ftol".
inline std::string to_string(ConvergenceTest t) {
  switch (t) {
    case ConvergenceTest::none: return "none";
    case ConvergenceTest::gtol: return "gtol";
    case ConvergenceTest::ftol: return "ftol";
    case ConvergenceTest::xtol: return "xtol";
  }
  return "unknown";
}

/// Prints to_string(s).
inline std::ostream& operator<<(std::ostream& os, Status s) { return os << to_string(s); }
/// Prints to_string(t).
inline std::ostream& operator<<(std::ostream& os, ConvergenceTest t) { return os << to_string(t); }

}  // namespace xgrad::optim
