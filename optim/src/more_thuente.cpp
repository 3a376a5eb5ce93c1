// MoreThuenteLineSearch (more_thuente.hpp): the safeguarded step and the search, compiled once.
#include "xgrad/optim/more_thuente.hpp"

#include "linesearch_detail.hpp"

namespace xgrad::optim {
double MoreThuenteLineSearch::next_step(End& l, End& u, const End& p, bool& bracketed, double lo, double hi) {
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

LineSearchResult MoreThuenteLineSearch::search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0,
                                               const Array& d, double initial_stepsize) const {
  detail::Trials tr{vg, x, d, f0, flat::dot(g0, d), c1, approx_eps, {}};
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

}  // namespace xgrad::optim
