// HagerZhangLineSearch (hager_zhang.hpp), compiled once.
#include "xgrad/optim/hager_zhang.hpp"

#include <optional>
#include <tuple>

#include "linesearch_detail.hpp"

namespace xgrad::optim {
LineSearchResult HagerZhangLineSearch::search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0,
                                              const Array& d, double initial_stepsize) const {
  detail::Trials tr{vg, x, d, f0, flat::dot(g0, d), c1, epsilon, {}};
  const double dphi0 = tr.dphi0;
  if (!(dphi0 < 0.0) || !(initial_stepsize > 0.0)) return tr.fail(g0);  // not a descent direction, or no step
  struct Pt {  // a bracket end: step, value, slope
    double t, f, dphi;
    bool low;  // finite with phi(t) <= phi(0) + epsilon_k
  };
  std::optional<detail::Trial> hit;  // the accepted trial, once there is one
  auto going = [&] { return !hit && tr.evaluations < max_iterations; };
  auto eval = [&](double t) {
    detail::Trial c = tr.eval(t);
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

}  // namespace xgrad::optim
