#pragma once
// Line searches along a direction d from x: find a step t with sufficient decrease (Armijo)
//     f(x + t d) <= f(x) + c1 t <g, d>
// and, for the Wolfe conditions, enough change in slope (curvature)
//     <g(x + t d), d> >= c2 <g, d>             (Wolfe)
//     |<g(x + t d), d>| <= c2 |<g, d>|         (strong Wolfe).
//
// Two searches, both working on a flat view of the parameters (one Array holding every leaf of the pytree, in
// tree::ravel's order), so every inner product is global across the leaves:
//   BacktrackingLineSearch  shrink by `decrease_factor` until the condition holds (Wolfe variants also grow a step
//                           that is too short, then bisect the bracket);
//   ZoomLineSearch          Nocedal & Wright, Numerical Optimization (2nd ed.), Algorithms 3.5 (bracketing) and 3.6
//                           (zoom), with cubic then quadratic interpolation and a bisection safeguard.
// Both treat a non-finite trial value or gradient as "step too long" (they shrink instead of returning it: jaxopt
// #409/#473, torch #5953), and when they run out of evaluations they fall back to the best trial point with
// sufficient decrease (ok = false, decrease = true). With a curvature condition, where the decrease asked for is
// below f's rounding level, the approximate sufficient-decrease test of Hager & Zhang also accepts a step (see
// `approx_eps`), and in that regime the zoom search brackets by the slope's sign and interpolates by the secant on
// the slopes, since the values there are rounding noise; the Armijo-only backtracking search never uses it.
// more_thuente.hpp and hager_zhang.hpp add two more searches with the same interface and conventions.
// `line_search(...)` runs any of them on a pytree objective.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/array.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::optim {

/// What a line search returns. `params` and `grad` are flat (tree::ravel order) when the search ran on a flat
/// objective; line_search() rebuilds pytrees from them.
struct LineSearchResult {
  double stepsize = 0.0;    ///< accepted step t (0 when no acceptable point was found)
  Array params;             ///< x + t d (x itself when stepsize == 0)
  double value = 0.0;       ///< f at params
  Array grad;               ///< gradient at params
  int evaluations = 0;      ///< value-and-gradient evaluations spent (trial points)
  bool ok = false;          ///< the requested conditions hold at the returned point
  bool decrease = false;    ///< sufficient decrease (Armijo) holds at the returned point: the step is usable
  bool non_finite = false;  ///< some trial point had a non-finite value or gradient
  bool unbounded = false;   ///< the step reached max_stepsize with sufficient decrease and a still negative slope
};

/// Which line search a solver (LBFGS, BFGS, NonlinearCG, NewtonCG) uses.
enum class LineSearchKind {
  zoom,          ///< ZoomLineSearch (strong Wolfe, Nocedal & Wright)
  backtracking,  ///< BacktrackingLineSearch with its own `condition`
  more_thuente,  ///< MoreThuenteLineSearch (strong Wolfe, More & Thuente 1994)
  hager_zhang,   ///< HagerZhangLineSearch (Wolfe or approximate Wolfe, Hager & Zhang 2005)
};

/// Every LineSearchKind, in declaration order (for sweeps and tables).
inline constexpr LineSearchKind all_line_search_kinds[] = {LineSearchKind::zoom, LineSearchKind::backtracking,
                                                           LineSearchKind::more_thuente, LineSearchKind::hager_zhang};

/// The enumerator's name: to_string(LineSearchKind::more_thuente) == "more_thuente".
inline const char* to_string(LineSearchKind k) {
  switch (k) {
    case LineSearchKind::zoom: return "zoom";
    case LineSearchKind::backtracking: return "backtracking";
    case LineSearchKind::more_thuente: return "more_thuente";
    case LineSearchKind::hager_zhang: return "hager_zhang";
  }
  return "unknown";
}

/// Which conditions a backtracking search enforces.
enum class LineSearchCondition { armijo, wolfe, strong_wolfe };

/// The objective seen through the flat view (core/flat.hpp): x (flat, tree::ravel order of `proto`) -> {f, flat
/// gradient}, what a line search's `search` takes. Holds references to fun and args.
template <class F, class P, class... Args>
auto flat_objective(const F& fun, const P& proto, const Args&... args) {
  auto unravel = tree::ravel(proto).second;
  return [&fun, unravel, &args...](const Array& x) {
    const P p = unravel(x);
    auto [y, g] = value_and_grad(fun)(p, args...);
    return std::pair<double, Array>(y.item(), flat::values(g));
  };
}

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
template <class VG>
struct Trials {
  VG& vg;
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

}  // namespace detail

/// Backtracking: start at the initial step and multiply by `decrease_factor` while the step is too long (no
/// sufficient decrease, a non-finite trial, or for strong Wolfe a slope that became too positive). For the Wolfe
/// conditions a step that is too short (slope still below c2 <g, d>) is divided by `decrease_factor`, and once a
/// bracket exists the search bisects it.
struct BacktrackingLineSearch {
  LineSearchCondition condition = LineSearchCondition::armijo;  ///< conditions enforced at the returned step
  double c1 = 1e-4;               ///< sufficient-decrease constant, 0 < c1 < c2 < 1
  double c2 = 0.9;                ///< curvature constant (Wolfe variants only)
  double decrease_factor = 0.5;   ///< shrink factor in (0, 1)
  int max_iterations = 30;        ///< most trial evaluations
  double approx_eps = 1e-12;      ///< relative rounding level of f for the approximate Armijo test (Wolfe variants; 0: off)

  /// Search from flat x (value f0, gradient g0) along descent direction d, first trying initial_stepsize.
  /// `vg(flat_x) -> std::pair<double, Array>` evaluates the value and flat gradient.
  template <class VG>
  LineSearchResult search(VG&& vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const {
    detail::Trials<VG> tr{vg, x, d, f0, flat::dot(g0, d), c1, approx_eps, {}};
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
};

/// Strong-Wolfe line search of Nocedal & Wright (Alg. 3.5 and 3.6). The bracketing phase grows the step by a
/// factor that itself doubles (x2, x4, x8, ...) up to `max_stepsize`; the zoom phase picks trial steps by cubic
/// interpolation, else quadratic, else bisection (when the interpolant falls outside the open bracket, or
/// when two trials did not shrink the bracket below 2/3 of its width, as More & Thuente safeguard). Reaching
/// `max_stepsize` with sufficient decrease and a negative slope returns ok = false, unbounded = true.
struct ZoomLineSearch {
  double c1 = 1e-4;           ///< sufficient-decrease constant
  double c2 = 0.9;            ///< curvature constant (0.9 for quasi-Newton, 0.1 for conjugate gradients)
  int max_iterations = 30;    ///< most trial evaluations (both phases together)
  double max_stepsize = 1e20; ///< largest step tried
  double approx_eps = 1e-12;  ///< relative rounding level of f for the approximate Armijo test (0: off)

  /// Search from flat x (value f0, gradient g0) along descent direction d, first trying initial_stepsize.
  template <class VG>
  LineSearchResult search(VG&& vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const {
    detail::Trials<VG> tr{vg, x, d, f0, flat::dot(g0, d), c1, approx_eps, {}};
    const double dphi0 = tr.dphi0;
    if (!(dphi0 < 0.0) || !(initial_stepsize > 0.0)) return tr.fail(g0);  // not a descent direction, or no step
    using Trial = typename detail::Trials<VG>::Trial;
    auto too_long = [&](const Trial& a, const Trial& prev, bool first) {
      return !tr.armijo(a) || (!first && a.f >= prev.f);
    };
    auto curvature = [&](const Trial& a) { return std::abs(a.dphi) <= -c2 * dphi0; };

    // Alg. 3.6: lo has the lowest value so far with sufficient decrease; the minimiser lies between lo and hi.
    auto zoom = [&](Trial lo, Trial hi) -> LineSearchResult {
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
        Trial tj = tr.eval(t);
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
    Trial prev;
    prev.t = 0.0;
    prev.f = f0;
    prev.dphi = dphi0;
    double t = std::min(initial_stepsize, max_stepsize), grow = 2.0;
    for (bool first = true; tr.evaluations < max_iterations; first = false) {
      Trial cur = tr.eval(t);
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
};

/// A line search's result on a pytree: the new parameters and gradient have the parameters' type.
template <class P>
struct LineSearchStep {
  double stepsize = 0.0;  ///< accepted step
  P params;               ///< params + stepsize * direction
  double value = 0.0;     ///< objective at params
  P grad;                 ///< gradient at params
  int evaluations = 0;    ///< trial evaluations (the one at the start point not included)
  bool ok = false;        ///< the search's conditions hold at the returned step
};

/// Run line search `ls` (BacktrackingLineSearch, ZoomLineSearch, MoreThuenteLineSearch, HagerZhangLineSearch) on
/// fun(params, args...) from `params` along `direction` (same pytree type), first trying `initial_stepsize`. Inner
/// products are global over all leaves.
template <class LS, class F, class P, class... Args>
LineSearchStep<P> line_search(const LS& ls, const F& fun, const P& params, const P& direction,
                              double initial_stepsize, const Args&... args) {
  auto [y0, g0] = value_and_grad(fun)(params, args...);
  auto vg = flat_objective(fun, params, args...);
  auto r = ls.search(vg, flat::values(params), y0.item(), flat::values(g0), flat::values(direction), initial_stepsize);
  auto unravel = tree::ravel(params).second;
  return {r.stepsize, unravel(r.params), r.value, unravel(r.grad), r.evaluations, r.ok};
}

}  // namespace xgrad::optim
