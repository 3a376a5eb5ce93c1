#pragma once
// The line search of Moré & Thuente, "Line search algorithms with guaranteed sufficient decrease", ACM TOMS 20(3),
// 1994 (MINPACK's cvsrch/dcsrch), written from the paper. It finds a step t with
//     phi(t) <= phi(0) + c1 t phi'(0)   and   |phi'(t)| <= c2 |phi'(0)|        (strong Wolfe; ftol = c1, gtol = c2)
// for phi(t) = f(x + t d), by keeping an interval of uncertainty [t_l, t_u] (t_l: the best point so far) that
// contains such steps. While no trial has met phi(t) <= phi(0) + c1 t phi'(0) with phi'(t) >= min(c1, c2) phi'(0),
// the interval is updated on the auxiliary function psi(t) = phi(t) - phi(0) - c1 t phi'(0) instead of phi (the
// paper's Section 3: it guarantees sufficient decrease). Each new trial comes from the safeguarded step of Section 4
// (four cases, cubic / quadratic / secant interpolation, see `next_step`); once the minimiser is bracketed, a
// bisection replaces it when two trials did not shrink the interval below 0.66 of its width. Before bracketing the
// trials extrapolate, at most to t + 4 (t - t_l).
//
// Conventions shared with linesearch.hpp: a non-finite trial is a step too long (it closes the interval and the
// next trial bisects towards t_l); on running out of evaluations, or when the interval shrinks below xtol or rounding
// stops progress, the result is the best trial with sufficient decrease (ok = false, decrease = true) if any;
// reaching max_stepsize with sufficient decrease and a slope still below c1 phi'(0) is flagged unbounded.
#include "xgrad/optim/linesearch.hpp"

namespace xgrad::optim {

/// Moré–Thuente strong-Wolfe line search (see the header comment). Same interface as ZoomLineSearch.
struct MoreThuenteLineSearch {
  double c1 = 1e-4;            ///< ftol (mu): sufficient-decrease constant
  double c2 = 0.9;             ///< gtol (eta): curvature constant, c1 < c2 < 1 in the usual setting
  double xtol = 1e-10;         ///< stop (failing) when the interval's width is below xtol times its right end
  double min_stepsize = 0.0;   ///< stpmin
  double max_stepsize = 1e20;  ///< stpmax
  int max_iterations = 30;     ///< most trial evaluations
  double approx_eps = 1e-12;   ///< relative rounding level of f for the approximate Armijo test (0: off)

  /// One end of the interval of uncertainty, or a trial: step, value and slope (of phi, or of psi in stage 1).
  struct End {
    double t, f, g;
  };

  /// The paper's safeguarded step selection (Section 4) and interval update (Section 2). `l` is the end with the
  /// lowest value, `u` the other end, `p` the trial just evaluated; the next trial is kept in [lo, hi]. Updates l,
  /// u and `bracketed` and returns the next trial step.
  static double next_step(End& l, End& u, const End& p, bool& bracketed, double lo, double hi);

  /// Search from flat x (value f0, gradient g0) along descent direction d, first trying initial_stepsize.
  LineSearchResult search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const;
};

}  // namespace xgrad::optim
