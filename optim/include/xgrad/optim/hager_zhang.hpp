#pragma once
// The line search of Hager & Zhang (CG_DESCENT): "A new conjugate gradient method with guaranteed descent and an
// efficient line search", SIAM J. Optim. 16(1), 2005, and "Algorithm 851: CG_DESCENT", ACM TOMS 32(1), 2006; written
// from the papers. With phi(t) = f(x + t d), delta = c1, sigma = c2 and epsilon_k = epsilon |phi(0)|, it accepts a
// trial t that satisfies either
//     (T1) the Wolfe conditions  phi(t) <= phi(0) + delta t phi'(0)  and  phi'(t) >= sigma phi'(0), or
//     (T2) the approximate Wolfe conditions  sigma phi'(0) <= phi'(t) <= (2 delta - 1) phi'(0)  and
//          phi(t) <= phi(0) + epsilon_k,
// (T2 is what makes the search accurate near a minimiser, where the Armijo decrease is below f's rounding; it does
// not ask for sufficient decrease, so CG_DESCENT switches it on only near convergence: `approximate_wolfe = false`
// keeps T1 alone, and an ok result with T2 has decrease = true in the sense phi(t) <= phi(0) + epsilon_k).
// It keeps a bracket [a, b] with phi'(a) < 0, phi(a) <= phi(0) + epsilon_k and phi'(b) >= 0:
//   bracket   try c, rho c, rho^2 c, ... until phi'(c) >= 0 (bracket [last low point, c]) or phi(c) rises above
//             phi(0) + epsilon_k (then bisect, `theta`, towards a point with phi' >= 0);
//   secant2   a secant step c from the bracket's slopes, the bracket updated with c, and a second secant step on the
//             side c replaced;
//   update    when secant2 did not shrink the bracket to gamma of its width, bisect it.
// Conventions shared with linesearch.hpp: a non-finite trial is a step too long (its value is above phi(0) +
// epsilon_k, so it closes the bracket from the right); on running out of evaluations the result is the best trial
// with sufficient decrease (ok = false, decrease = true) if any; growing to max_stepsize with sufficient decrease and
// a still negative slope is flagged unbounded.
#include "xgrad/optim/linesearch.hpp"

namespace xgrad::optim {

/// Hager–Zhang line search (see the header comment); the defaults are the papers'. Same interface as ZoomLineSearch.
struct HagerZhangLineSearch {
  double c1 = 0.1;             ///< delta: sufficient-decrease constant, 0 < delta < 0.5, delta <= sigma
  double c2 = 0.9;             ///< sigma: curvature constant, sigma < 1
  double epsilon = 1e-6;       ///< epsilon_k = epsilon |phi(0)|: the tolerated increase of phi in (T2) and update
  double theta = 0.5;          ///< bisection point (1 - theta) a + theta b in the update's inner loop
  double gamma = 0.66;         ///< bisect when secant2 leaves more than gamma of the bracket's width
  double rho = 5.0;            ///< expansion factor of the initial bracketing
  int max_iterations = 30;     ///< most trial evaluations
  double max_stepsize = 1e20;  ///< largest step tried
  bool approximate_wolfe = true;  ///< also accept the approximate Wolfe conditions (T2); false: Wolfe (T1) only

  /// Search from flat x (value f0, gradient g0) along descent direction d, first trying initial_stepsize.
  LineSearchResult search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const;
};

}  // namespace xgrad::optim
