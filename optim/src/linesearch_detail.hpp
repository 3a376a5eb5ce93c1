#pragma once
// What the four line searches share (optim/src only): interpolation steps and the `Trials` bookkeeping (trial
// evaluation, the sufficient-decrease tests, the best point with sufficient decrease, the result on success or
// failure).
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "xgrad/core/flat.hpp"
#include "xgrad/optim/linesearch.hpp"

namespace xgrad::optim {
namespace detail {

// Minimiser of the cubic through (a, fa, da), (b, fb, db); NaN when it has none (N&W eq. 3.59).
inline double cubic_min(double a, double fa, double da, double b, double fb, double db) {
  const double d1 = da + db - 3.0 * (fa - fb) / (a - b);
  const double disc = d1 * d1 - da * db;
  if (!(disc >= 0.0)) return std::numeric_limits<double>::quiet_NaN();
  const double d2 = (b > a ? 1.0 : -1.0) * std::sqrt(disc);
  const double den = db - da + 2.0 * d2;
  if (den == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return b - (b - a) * (db + d2 - d1) / den;
}
// Zero of the slope's secant through (a, da), (b, db): the minimiser of the quadratic with those two slopes (More &
// Thuente's alpha_s, Hager & Zhang's secant step). NaN when the slopes are equal.
inline double secant_min(double a, double da, double b, double db) {
  if (da == db) return std::numeric_limits<double>::quiet_NaN();
  return (a * db - b * da) / (db - da);
}
// Minimiser of the quadratic through (a, fa, da), (b, fb); NaN when it opens downwards.
inline double quadratic_min(double a, double fa, double da, double b, double fb) {
  const double h = b - a;
  const double c = (fb - fa - da * h) / (h * h);
  if (!(c > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return a - da / (2.0 * c);
}

// Bookkeeping shared by all line searches (also more_thuente.hpp, hager_zhang.hpp): trial evaluation and the best
// point with sufficient decrease.
struct Trials {
  FlatObjectiveRef vg;
  const Array& x;
  const Array& d;
  double f0, dphi0, c1, approx_eps;
  LineSearchResult best;  // best trial with sufficient decrease (decrease == true once there is one)
  int evaluations = 0;
  bool non_finite = false;

  struct Trial {
    double t = 0.0, f = 0.0, dphi = 0.0;
    bool finite = true;
    Array x, g;
  };
  Trial eval(double t) {
    Trial tr;
    tr.t = t;
    tr.x = flat::axpy(x, t, d);
    auto [f, g] = vg(tr.x);
    ++evaluations;
    tr.f = f;
    tr.g = std::move(g);
    tr.finite = std::isfinite(tr.f) && flat::all_finite(tr.g);
    if (!tr.finite) {
      non_finite = true;
      tr.f = std::numeric_limits<double>::infinity();
      tr.dphi = std::numeric_limits<double>::quiet_NaN();
      return tr;
    }
    tr.dphi = flat::dot(tr.g, d);
    if (armijo(tr) && (!best.decrease || tr.f < best.value)) {
      best.stepsize = t;
      best.params = tr.x;
      best.value = tr.f;
      best.grad = tr.g;
      best.decrease = true;
    }
    return tr;
  }
  // Sufficient decrease, and a strict one: a step below the resolution of x (x + t d == x) is no progress.
  bool armijo(const Trial& tr) const { return tr.finite && tr.f < f0 && tr.f <= f0 + c1 * tr.t * dphi0; }
  // The approximate sufficient decrease of Hager & Zhang (2005), only where the decrease Armijo asks for is below
  // f's rounding level (c1 t |<g, d>| <= approx_eps |f0|): f <= f0 + approx_eps |f0| and slope <= (2 c1 - 1) <g, d>.
  // Used only together with a curvature condition, which makes the point a near-minimiser along d.
  bool approx_armijo(const Trial& tr) const { return in_noise(tr) && approx_slope(tr); }
  // The trial is in that regime (c1 t |<g, d>| <= approx_eps |f0| and f <= f0 + approx_eps |f0|): its value cannot
  // tell whether the step was too long, its slope can.
  bool in_noise(const Trial& tr) const { return within_noise(tr) && -c1 * tr.t * dphi0 <= approx_eps * std::abs(f0); }
  // f at the trial exceeds f0 by at most f's rounding level approx_eps |f0| (Hager & Zhang's epsilon_k).
  bool within_noise(const Trial& tr) const { return tr.finite && tr.f <= f0 + approx_eps * std::abs(f0); }
  // The slope bound of the approximate Wolfe conditions: <g(x + t d), d> <= (2 c1 - 1) <g, d>.
  bool approx_slope(const Trial& tr) const { return tr.dphi <= (2.0 * c1 - 1.0) * dphi0; }
  LineSearchResult accept(Trial& tr) {
    LineSearchResult r;
    r.stepsize = tr.t;
    r.params = std::move(tr.x);
    r.value = tr.f;
    r.grad = std::move(tr.g);
    r.ok = true;
    r.decrease = true;
    return finish(std::move(r));
  }
  LineSearchResult fail(const Array& g0) {
    LineSearchResult r = best;
    if (!r.decrease) {
      r.stepsize = 0.0;
      r.params = x;
      r.value = f0;
      r.grad = g0;
    }
    r.ok = false;
    return finish(std::move(r));
  }
  LineSearchResult finish(LineSearchResult r) const {
    r.evaluations = evaluations;
    r.non_finite = non_finite;
    return r;
  }
};

using Trial = Trials::Trial;

}  // namespace detail
}  // namespace xgrad::optim
