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
#include <algorithm>
#include <cmath>
#include <limits>

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
  static double next_step(End& l, End& u, const End& p, bool& bracketed, double lo, double hi) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const bool opposite = p.g * std::copysign(1.0, l.g) < 0.0;  // the slopes at l and p differ in sign
    const double cubic = detail::cubic_min(l.t, l.f, l.g, p.t, p.f, p.g);
    auto dist = [](double a, double b) { return std::abs(a - b); };
    double step = nan;
    bool bound = false;  // cases 1 and 3 keep the step within 0.66 of the interval from the best end
    if (p.f > l.f) {
      // Case 1, higher value: the minimiser lies between l and p. Take the cubic step if it is closer to l than
      // the quadratic one (through l.f, l.g, p.f), else the mean of the two.
      const double quad = detail::quadratic_min(l.t, l.f, l.g, p.t, p.f);
      step = !std::isfinite(cubic) ? quad : dist(cubic, l.t) < dist(quad, l.t) ? cubic : 0.5 * (cubic + quad);
      bracketed = bound = true;
    } else if (opposite) {
      // Case 2, lower value and a slope of the other sign: bracketed between l and p. The cubic step if it is
      // farther from p than the secant step, else the secant step.
      const double sec = detail::secant_min(l.t, l.g, p.t, p.g);
      step = std::isfinite(cubic) && dist(cubic, p.t) > dist(sec, p.t) ? cubic : sec;
      bracketed = true;
    } else if (std::abs(p.g) < std::abs(l.g)) {
      // Case 3, lower value, same sign, smaller slope: the cubic step only when its minimiser lies beyond p (else
      // the bound in that direction); bracketed, the closer of it and the secant step, else the farther.
      const bool beyond = std::isfinite(cubic) && (cubic - p.t) * (p.t - l.t) > 0.0;
      const double c = beyond ? cubic : p.t > l.t ? hi : lo;
      const double sec = detail::secant_min(l.t, l.g, p.t, p.g);
      const bool take_cubic = bracketed ? dist(c, p.t) < dist(sec, p.t) : dist(c, p.t) > dist(sec, p.t);
      step = take_cubic || !std::isfinite(sec) ? c : sec;
      bound = true;
    } else if (bracketed) {
      // Case 4, lower value, same sign, slope not smaller: the cubic through p and u (bisection if it has none or
      // u is non-finite).
      const double a = std::min(p.t, u.t), b = std::max(p.t, u.t);
      const double c = std::isfinite(u.f) ? detail::cubic_min(u.t, u.f, u.g, p.t, p.f, p.g) : nan;
      step = c > a && c < b ? c : 0.5 * (a + b);
    } else {
      step = p.t > l.t ? hi : lo;  // case 4 before bracketing: extrapolate to the bound
    }

    // The interval update: a higher value closes the interval at p; otherwise p becomes the best end, and a slope
    // change of sign makes the old best end the other end.
    if (p.f > l.f) {
      u = p;
    } else {
      if (opposite) u = l;
      l = p;
    }
    step = std::clamp(step, lo, hi);
    if (bracketed && bound) {
      const double cap = l.t + 0.66 * (u.t - l.t);
      step = u.t > l.t ? std::min(cap, step) : std::max(cap, step);
    }
    return step;
  }

  /// Search from flat x (value f0, gradient g0) along descent direction d, first trying initial_stepsize.
  template <class VG>
  LineSearchResult search(VG&& vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const {
    detail::Trials<VG> tr{vg, x, d, f0, flat::dot(g0, d), c1, approx_eps, {}};
    const double dphi0 = tr.dphi0;
    if (!(dphi0 < 0.0) || !(initial_stepsize > 0.0)) return tr.fail(g0);  // not a descent direction, or no step
    const double gtest = c1 * dphi0;  // the slope of the sufficient-decrease line
    End l{0.0, f0, dphi0}, u = l;
    bool bracketed = false, stage1 = true;
    double width = max_stepsize - min_stepsize, width_before = 2.0 * width;
    double t = initial_stepsize;
    // psi and back: subtract / add the sufficient-decrease line (the constant f0 cancels in every use).
    auto to_psi = [&](End e) { return End{e.t, e.f - e.t * gtest, e.g - gtest}; };
    auto to_phi = [&](End e) { return End{e.t, e.f + e.t * gtest, e.g + gtest}; };
    while (tr.evaluations < max_iterations) {
      // The range of the next trial: the interval once bracketed, else extrapolation up to 4 (t - t_l) beyond t.
      const double lo = bracketed ? std::min(l.t, u.t) : l.t;
      const double hi = bracketed ? std::max(l.t, u.t) : t + 4.0 * (t - l.t);
      t = std::clamp(t, min_stepsize, max_stepsize);
      if (bracketed && (t <= lo || t >= hi || hi - lo <= xtol * hi)) break;  // rounding, or interval below xtol
      auto trial = tr.eval(t);
      if ((tr.armijo(trial) || tr.approx_armijo(trial)) && std::abs(trial.dphi) <= -c2 * dphi0)
        return tr.accept(trial);
      if (!trial.finite) {  // a step too long: it closes the interval, the next trial bisects it
        bracketed = true;
        u = End{t, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
        t = l.t + 0.5 * (t - l.t);
        width_before = width;
        width = std::abs(u.t - l.t);
        continue;
      }
      const double ftest = f0 + t * gtest;
      if (t >= max_stepsize && tr.armijo(trial) && trial.dphi <= gtest) {
        LineSearchResult r = tr.fail(g0);
        r.unbounded = true;
        return r;
      }
      if (t <= min_stepsize && (trial.f > ftest || trial.dphi >= gtest)) break;
      if (stage1 && trial.f <= ftest && trial.dphi >= std::min(c1, c2) * dphi0) stage1 = false;
      const End p{t, trial.f, trial.dphi};
      if (stage1 && trial.f <= l.f && trial.f > ftest) {
        End lm = to_psi(l), um = to_psi(u);
        t = next_step(lm, um, to_psi(p), bracketed, lo, hi);
        l = to_phi(lm);
        u = to_phi(um);
      } else {
        t = next_step(l, u, p, bracketed, lo, hi);
      }
      if (bracketed) {  // bisect when two trials did not shrink the interval below 0.66 of its width
        if (std::abs(u.t - l.t) >= 0.66 * width_before) t = l.t + 0.5 * (u.t - l.t);
        width_before = width;
        width = std::abs(u.t - l.t);
      }
    }
    return tr.fail(g0);
  }
};

}  // namespace xgrad::optim
