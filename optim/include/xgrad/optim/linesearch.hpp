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
// more_thuente.hpp and hager_zhang.hpp add two more searches with the same interface and conventions; search.hpp
// holds the value a solver takes (`LineSearch`, any of the four). Their bodies are compiled once (optim/src).
// `line_search(...)` runs any of them on a pytree objective.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/array.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/tree.hpp"
#include "xgrad/optim/flat_objective.hpp"

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

/// A non-owning reference to a flat objective `x -> {f(x), grad f(x)}` (flat_objective's result, or any callable
/// returning a pair-like {double, Array}). The searches take it instead of a template parameter so that their bodies
/// are compiled once, in optim/src, rather than in every file that includes a solver. The callable must outlive it.
class FlatObjectiveRef {
 public:
  template <class VG>
    requires(!std::is_same_v<std::remove_cvref_t<VG>, FlatObjectiveRef>)
  FlatObjectiveRef(VG&& vg)  // NOLINT: implicit, so a lambda passes where a search expects an objective
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(vg)))),
        call_([](void* object, const Array& x) {
          auto [f, g] = (*static_cast<std::remove_reference_t<VG>*>(object))(x);
          return std::pair<double, Array>(f, std::move(g));
        }) {}
  /// {f(x), grad f(x)} at flat x.
  std::pair<double, Array> operator()(const Array& x) const { return call_(object_, x); }

 private:
  void* object_;
  std::pair<double, Array> (*call_)(void*, const Array&);
};


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
  LineSearchResult search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const;
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
  LineSearchResult search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double initial_stepsize = 1.0) const;
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
