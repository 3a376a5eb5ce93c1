// BacktrackingLineSearch and ZoomLineSearch (linesearch.hpp), compiled once.
#include "xgrad/optim/linesearch.hpp"

#include "linesearch_detail.hpp"

namespace xgrad::optim {

LineSearchResult BacktrackingLineSearch::search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0,
                                                const Array& d, double initial_stepsize) const {
  detail::Trials tr{vg, x, d, f0, flat::dot(g0, d), c1, approx_eps, {}};
  const double dphi0 = tr.dphi0;
  if (!(dphi0 < 0.0)) return tr.fail(g0);  // not a descent direction
  double lo = 0.0, hi = std::numeric_limits<double>::infinity(), t = initial_stepsize;
  auto shorter = [&] { return lo > 0.0 ? 0.5 * (lo + hi) : hi * decrease_factor; };
  while (tr.evaluations < max_iterations) {
    auto trial = tr.eval(t);
    if (!tr.armijo(trial) && !(condition != LineSearchCondition::armijo && tr.approx_armijo(trial))) {
      hi = t;
      t = shorter();
      continue;
    }
    if (condition != LineSearchCondition::armijo) {
      if (trial.dphi < c2 * dphi0) {  // too short
        lo = t;
        t = std::isinf(hi) ? t / decrease_factor : 0.5 * (lo + hi);
        continue;
      }
      if (condition == LineSearchCondition::strong_wolfe && trial.dphi > -c2 * dphi0) {  // overshot the minimum
        hi = t;
        t = shorter();
        continue;
      }
    }
    return tr.accept(trial);
  }
  return tr.fail(g0);
}

LineSearchResult ZoomLineSearch::search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0,
                                        const Array& d, double initial_stepsize) const {
  detail::Trials tr{vg, x, d, f0, flat::dot(g0, d), c1, approx_eps, {}};
  const double dphi0 = tr.dphi0;
  if (!(dphi0 < 0.0) || !(initial_stepsize > 0.0)) return tr.fail(g0);  // not a descent direction, or no step
  auto too_long = [&](const detail::Trial& a, const detail::Trial& prev, bool first) {
    return !tr.armijo(a) || (!first && a.f >= prev.f);
  };
  auto curvature = [&](const detail::Trial& a) { return std::abs(a.dphi) <= -c2 * dphi0; };

  // Alg. 3.6: lo has the lowest value so far with sufficient decrease; the minimiser lies between lo and hi.
  auto zoom = [&](detail::Trial lo, detail::Trial hi) -> LineSearchResult {
    double width_before2 = std::numeric_limits<double>::infinity(), width_before1 = width_before2;
    while (tr.evaluations < max_iterations) {
      const double a = std::min(lo.t, hi.t), b = std::max(lo.t, hi.t), w = b - a;
      if (w <= 1e-15 * b) break;  // the bracket has collapsed to rounding level
      auto inside = [&](double t) { return t > a && t < b; };
      double t = std::numeric_limits<double>::quiet_NaN();
      // More & Thuente's safeguard: bisect when two trials did not shrink the bracket below 2/3 of its width.
      const bool stalled = w > (2.0 / 3.0) * width_before2;
      if (hi.finite && !stalled && tr.in_noise(lo) && tr.in_noise(hi)) {
        t = lo.t - lo.dphi * (hi.t - lo.t) / (hi.dphi - lo.dphi);  // values are noise: secant on the slopes
      } else if (hi.finite && !stalled) {
        t = detail::cubic_min(lo.t, lo.f, lo.dphi, hi.t, hi.f, hi.dphi);
        if (!inside(t)) t = detail::quadratic_min(lo.t, lo.f, lo.dphi, hi.t, hi.f);
      }
      if (!inside(t)) t = 0.5 * (a + b);
      width_before2 = width_before1;
      width_before1 = w;
      detail::Trial tj = tr.eval(t);
      if ((tr.armijo(tj) || tr.approx_armijo(tj)) && curvature(tj)) return tr.accept(tj);
      // In the noise regime the slope's sign decides (Hager & Zhang's update), else the value.
      if (!tr.in_noise(tj) && (!tr.armijo(tj) || tj.f >= lo.f)) {
        hi = std::move(tj);
      } else {  // lower than lo (or level with it within noise), but the slope is still too steep
        if (tj.dphi * (hi.t - lo.t) >= 0.0) hi = lo;
        lo = std::move(tj);
      }
    }
    return tr.fail(g0);
  };

  // Alg. 3.5: bracketing.
  detail::Trial prev;
  prev.t = 0.0;
  prev.f = f0;
  prev.dphi = dphi0;
  double t = std::min(initial_stepsize, max_stepsize), grow = 2.0;
  for (bool first = true; tr.evaluations < max_iterations; first = false) {
    detail::Trial cur = tr.eval(t);
    if ((tr.armijo(cur) || tr.approx_armijo(cur)) && curvature(cur)) return tr.accept(cur);
    if (!tr.in_noise(cur) && too_long(cur, prev, first)) return zoom(std::move(prev), std::move(cur));
    if (cur.dphi >= 0.0) return zoom(std::move(cur), std::move(prev));
    if (t >= max_stepsize) {
      LineSearchResult r = tr.fail(g0);
      r.unbounded = true;
      return r;
    }
    prev = std::move(cur);
    t = std::min(t * grow, max_stepsize);
    grow *= 2.0;
  }
  return tr.fail(g0);
}

}  // namespace xgrad::optim
