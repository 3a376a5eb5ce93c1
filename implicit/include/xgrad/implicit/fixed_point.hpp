#pragma once
// Fixed-point iteration x_{k+1} = T(x_k, args...) (jaxopt.FixedPointIteration), for contraction maps. Same API as
// the optim solvers: `auto [x, state] = FixedPointIteration{.tol = 1e-10}.run(T, x0, args...);`.
//
// `tol` measures the global Euclidean norm of the last change: state.error = ||T(x_k) - x_k||_2 over all leaves,
// and the status is Status::converged exactly when state.error <= tol.
#include <cmath>
#include <utility>

#include "xgrad/core/flat.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::implicit {

/// State of FixedPointIteration. Numeric fields are plain numbers.
struct FixedPointState {
  int iter_num = 0;       ///< applications of T
  double error = 0.0;     ///< ||T(x) - x||_2 (global over the leaves) at the last application
  int num_fun_eval = 0;   ///< applications of T
  optim::Status status = optim::Status::running;  ///< converged, max_iterations or non_finite
};

/// The fixed-point iteration solver; options are public fields with defaults.
struct FixedPointIteration {
  int maxiter = 100;     ///< most applications of T
  double tol = 1e-5;     ///< converged when ||T(x) - x||_2 <= tol
  bool verbose = false;  ///< print one line per iteration (iter, error)

  /// Iterate from x0. On a non-finite T(x) the status is non_finite and x is the last finite iterate.
  template <class T, class X, class... Args>
  optim::OptStep<X, FixedPointState> run(const T& map, const X& x0, const Args&... args) const {
    X x = x0;
    FixedPointState s;
    while (s.iter_num < maxiter) {
      X next = map(x, args...);
      ++s.iter_num;
      ++s.num_fun_eval;
      const Array a = flat::values(next), b = flat::values(x);
      if (!flat::all_finite(a)) {
        s.status = optim::Status::non_finite;
        return {std::move(x), s};
      }
      s.error = flat::norm2(flat::sub(a, b));
      x = std::move(next);
      if (verbose) std::printf("FixedPointIteration %6d %12.5e\n", s.iter_num, s.error);
      if (s.error <= tol) {
        s.status = optim::Status::converged;
        return {std::move(x), s};
      }
    }
    s.status = optim::Status::max_iterations;
    return {std::move(x), s};
  }
};

}  // namespace xgrad::implicit
