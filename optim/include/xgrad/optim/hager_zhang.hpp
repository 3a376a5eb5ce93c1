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
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

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
  template <class VG>
  LineSearchResult search(VG&& vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const {
    detail::Trials<VG> tr{vg, x, d, f0, flat::dot(g0, d), c1, epsilon, {}};
    const double dphi0 = tr.dphi0;
    if (!(dphi0 < 0.0) || !(initial_stepsize > 0.0)) return tr.fail(g0);  // not a descent direction, or no step
    using Trial = typename detail::Trials<VG>::Trial;
    struct Pt {  // a bracket end: step, value, slope
      double t, f, dphi;
      bool low;  // finite with phi(t) <= phi(0) + epsilon_k
    };
    std::optional<Trial> hit;  // the accepted trial, once there is one
    auto going = [&] { return !hit && tr.evaluations < max_iterations; };
    auto eval = [&](double t) {
      Trial c = tr.eval(t);
      const Pt p{c.t, c.f, c.dphi, tr.within_noise(c)};
      const bool wolfe = tr.armijo(c) && c.dphi >= c2 * dphi0;  // T1; T2 below
      const bool approx = approximate_wolfe && tr.within_noise(c) && c.dphi >= c2 * dphi0 && tr.approx_slope(c);
      if (wolfe || approx) hit = std::move(c);
      return p;
    };
    // U3: [a, b] with phi'(a) < 0, a low and b too high (or non-finite): bisect until a point with phi' >= 0.
    auto bisect = [&](Pt a, Pt b) {
      while (going()) {
        const Pt m = eval((1.0 - theta) * a.t + theta * b.t);
        if (m.dphi >= 0.0) return std::pair{a, m};
        (m.low ? a : b) = m;
      }
      return std::pair{a, b};
    };
    // update(a, b, c): the bracket narrowed with a trial at c, if c is inside it (U0-U3).
    auto update = [&](Pt a, Pt b, double c) {
      if (!(c > a.t && c < b.t) || !going()) return std::pair{a, b};
      const Pt p = eval(c);
      if (p.dphi >= 0.0) return std::pair{a, p};
      if (p.low) return std::pair{p, b};
      return bisect(a, p);
    };
    // secant2: the secant step, then a second one on the side it replaced.
    auto secant2 = [&](Pt a, Pt b) {
      const double c = detail::secant_min(a.t, a.dphi, b.t, b.dphi);
      auto [A, B] = update(a, b, c);
      double c2nd = std::numeric_limits<double>::quiet_NaN();
      if (B.t == c) c2nd = detail::secant_min(b.t, b.dphi, B.t, B.dphi);
      if (A.t == c) c2nd = detail::secant_min(a.t, a.dphi, A.t, A.dphi);
      return std::isnan(c2nd) ? std::pair{A, B} : update(A, B, c2nd);
    };

    // The initial bracket: expand by rho while the value stays low and the slope negative.
    Pt a{0.0, f0, dphi0, true}, b = a;
    bool bracketed = false;
    for (double t = std::min(initial_stepsize, max_stepsize); going();) {
      const Pt c = eval(t);
      if (hit) break;
      if (c.dphi >= 0.0) {
        b = c;
        bracketed = true;
        break;
      }
      if (!c.low) {  // too high or non-finite: bisect from the last low point (the papers start from 0)
        std::tie(a, b) = bisect(a, c);
        bracketed = true;
        break;
      }
      a = c;
      if (t >= max_stepsize) {
        LineSearchResult r = tr.fail(g0);
        r.unbounded = tr.best.decrease;
        return r;
      }
      t = std::min(rho * t, max_stepsize);
    }
    // secant2, with a bisection when it did not shrink the bracket enough.
    while (bracketed && going()) {
      const double width = b.t - a.t;
      if (!(width > 1e-15 * b.t)) break;  // the bracket has collapsed to rounding level
      const int before = tr.evaluations;
      auto [A, B] = secant2(a, b);
      if (going() && B.t - A.t > gamma * width) std::tie(A, B) = update(A, B, 0.5 * (A.t + B.t));
      if (tr.evaluations == before) break;  // no trial fell inside the bracket
      a = A;
      b = B;
    }
    if (hit) return tr.accept(*hit);
    return tr.fail(g0);
  }
};

}  // namespace xgrad::optim
