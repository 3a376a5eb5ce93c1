#pragma once
// Differentiable solvers: the solution of a problem as a function of its hyperparameters, by implicit
// differentiation (custom_root.hpp), with any solver of the optim module.
//
//   // w*(alpha) = argmin_w  mse(X w, y) + 0.5 alpha ||w||^2, differentiable in alpha:
//   auto [w, state] = xgrad::implicit::argmin(xgrad::optim::LBFGS{.tol = 1e-10}, inner, w0, alpha, X, y);
//
// argmin(solver, f, init, theta...)      F = grad_x f; solver.run(f, init, theta...); adjoint solve: cg. With box
//                                        bounds (LBFGSB): F = P(x - grad_x f) - x, the projected gradient map's
//                                        fixed point, and gmres (active bounds get zero derivatives); with a prox
//                                        (ProximalGradient): F = prox(x - grad_x f) - x, the same for the prox
//                                        (a lasso's zeros get zero derivatives)
// root(solver, F, init, theta...)        F(x, theta...) = 0 by a root finder (optim::Newton, Broyden, Bisection),
//                                        or by minimising 0.5 ||F||^2 with any other solver (right when dF/dx is
//                                        nonsingular at the root); adjoint solve: gmres
// fixed_point(solver, T, init, theta...) x = T(x, theta...), e.g. with FixedPointIteration; adjoint solve: gmres
// least_squares(solver, r, init, theta...) min 1/2 ||r(x, theta...)||^2 by optim::LevenbergMarquardt (or
//                                        GaussNewton); F = J^T r (the
//                                        normal equations); adjoint solve: cg. With bounds: F = P(x - J^T r) - x
//                                        and gmres, as argmin with LBFGSB
//
// Each returns the solver's {params, state}: `state.status` is the inner solve's, and params carry the implicit
// derivatives with respect to every Tensor leaf of theta. Pass ImplicitOptions first to choose the linear solver,
// the failure policy, or a report: `argmin(opts, solver, f, init, theta...)`.
#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/implicit/custom_root.hpp"

namespace xgrad::implicit {

template <class T>
concept NotOptions = !std::is_same_v<std::remove_cvref_t<T>, ImplicitOptions>;

namespace detail {
// The options with a report, shared by the solve function and the node (automatic tolerances pass through it).
template <class Solver>
ImplicitOptions with_report(ImplicitOptions o, const Solver& solver) {
  if (!o.report) o.report = std::make_shared<ImplicitReport>();
  // With only an absolute target the first inner solve runs at most at a tenth of it (the bound is usually within
  // 20x of the true error); with a relative one it starts at the solver's tol.
  if constexpr (requires { solver.tol; })
    if ((o.hypergradient_tol > 0.0 || o.hypergradient_rtol > 0.0 || o.value_tol > 0.0) && o.report->inner_tol == 0.0)
      o.report->inner_tol = o.hypergradient_rtol == 0.0 && o.hypergradient_tol > 0.0
                                ? std::min(solver.tol, 0.1 * o.hypergradient_tol)
                                : solver.tol;
  return o;
}
// The solver at the inner tolerance the automatic tolerances chose (unchanged otherwise).
template <class Solver>
Solver tuned(Solver solver, const ImplicitReport& rep) {
  if constexpr (requires { solver.tol; })
    if (rep.inner_tol > 0.0) solver.tol = rep.inner_tol;
  return solver;
}
}  // namespace detail

namespace detail {
template <class Solver>
concept Bounded = requires(const Solver& s) { s.bounds.expand(std::size_t{}, std::string{}); };
template <class Solver>
concept Proximal = requires(const Solver& s) { s.prox.differentiable; };

// The optimality condition of argmin: grad f = 0, or for a solver with box bounds (LBFGSB) the fixed point of the
// projected gradient map, P(x - grad f) - x = 0 (as jaxopt): at an active bound (strict complementarity) the
// coordinate's row is -e_i and its derivative with respect to theta is 0.
template <class Solver, class Fn, class X, class... Th>
auto optimality(const Solver& solver, const Fn& f) {
  if constexpr (Bounded<Solver>) {
    return [f, bounds = solver.bounds](const X& x, const Th&... th) {
      const X g = grad(f)(x, th...);
      auto [flat_x, unravel] = tree::ravel(x);
      auto [l, u] = bounds.expand(flat_x.size(), "xgrad::implicit::argmin");
      const X lower = unravel(l), upper = unravel(u);
      return tree::map([](const Tensor& xi, const Tensor& gi, const Tensor& li, const Tensor& ui) {
        return minimum(maximum(xi - gi, li), ui) - xi;
      }, x, g, lower, upper);
    };
  } else if constexpr (Proximal<Solver>) {
    // The fixed point of the proximal gradient map at unit step, prox(x - grad f) - x = 0 (as jaxopt): off the
    // support of a lasso the row is -e_i, so those coordinates get zero derivatives.
    if (!solver.prox.differentiable)
      throw ValueError("xgrad::implicit::argmin: the prox has no differentiable form (Prox::differentiable; "
                       "make_prox_from_projection takes the projection written with ops as its second argument)");
    return [f, prox = solver.prox.differentiable](const X& x, const Th&... th) {
      const X g = grad(f)(x, th...);
      const X z = tree::map([](const Tensor& xi, const Tensor& gi) { return xi - gi; }, x, g);
      const X p = unravel_tensors(prox(ravel_tensors(z), 1.0), x);
      return tree::map([](const Tensor& pi, const Tensor& xi) { return pi - xi; }, p, x);
    };
  } else {
    return [f](const X& x, const Th&... th) { return grad(f)(x, th...); };
  }
}
}  // namespace detail

/// argmin_x f(x, theta...) by `solver`, differentiable in theta.
template <class Solver, class Fn, class X, class... Th>
auto argmin(const ImplicitOptions& options, const Solver& solver, const Fn& f, const X& init, const Th&... theta) {
  const ImplicitOptions opts = detail::with_report(options, solver);
  auto F = detail::optimality<Solver, Fn, X, Th...>(solver, f);
  auto solve = [solver, f, rep = opts.report](const X& x0, const Th&... th) {
    return detail::tuned(solver, *rep).run(f, x0, th...);
  };
  return custom_root(F, opts, "implicit::argmin")(solve)(init, theta...);
}
template <NotOptions Solver, class Fn, class X, class... Th>
auto argmin(const Solver& solver, const Fn& f, const X& init, const Th&... theta) {
  // cg for the symmetric Hessian; gmres for the projected or proximal gradient map (not symmetric).
  constexpr bool map = detail::Bounded<Solver> || detail::Proximal<Solver>;
  return argmin(ImplicitOptions{.solver = {.method = map ? Method::gmres : Method::cg}}, solver, f, init, theta...);
}

namespace detail {
// Whether a least-squares solver has bounds to respect (LevenbergMarquardt::bounds not empty).
template <class Solver>
bool has_bounds(const Solver& solver) {
  if constexpr (Bounded<Solver>) return !solver.bounds.lower.empty() || !solver.bounds.upper.empty();
  return false;
}
}  // namespace detail

/// argmin_x 1/2 ||r(x, theta...)||^2 by a least-squares solver (optim::LevenbergMarquardt: solver.run(residuals, x0,
/// theta...)), differentiable in theta through the normal equations J^T r = 0 (the gradient of 1/2 ||r||^2; its
/// Jacobian J^T J + sum r_i H_i is symmetric: cg by default), or with bounds through the projected gradient map's
/// fixed point P(x - J^T r) - x = 0 (gmres by default; active bounds get zero derivatives). The solver runs with
/// `certify` on: an ftol or xtol stop is checked against gtol with one more Jacobian, since only a stationary point
/// gives the derivative.
template <class Solver, class Fn, class X, class... Th>
auto least_squares(const ImplicitOptions& options, const Solver& solver, const Fn& residuals, const X& init,
                   const Th&... theta) {
  const ImplicitOptions opts = detail::with_report(options, solver);
  auto half_squares = [residuals](const X& y, const Th&... t) {
    const auto r = residuals(y, t...);
    return 0.5 * vdot(r, r);
  };
  auto normal = [half_squares](const X& x, const Th&... th) { return grad(half_squares)(x, th...); };
  auto projected = detail::optimality<Solver, decltype(half_squares), X, Th...>(solver, half_squares);
  auto F = [normal, projected, bounded = detail::has_bounds(solver)](const X& x, const Th&... th) {
    return bounded ? projected(x, th...) : normal(x, th...);
  };
  auto solve = [solver, residuals](const X& x0, const Th&... th) {
    auto certified = solver;
    if constexpr (requires { certified.certify; }) certified.certify = true;  // a stationary point, checked
    return certified.run(residuals, x0, th...);
  };
  return custom_root(F, opts, "implicit::least_squares")(solve)(init, theta...);
}
template <NotOptions Solver, class Fn, class X, class... Th>
auto least_squares(const Solver& solver, const Fn& residuals, const X& init, const Th&... theta) {
  const Method method = detail::has_bounds(solver) ? Method::gmres : Method::cg;
  return least_squares(ImplicitOptions{.solver = {.method = method}}, solver, residuals, init, theta...);
}

/// The root of F(x, theta...) = 0 (x's structure in and out), differentiable in theta.
template <class Solver, class Fn, class X, class... Th>
auto root(const ImplicitOptions& options, const Solver& solver, const Fn& F, const X& init, const Th&... theta) {
  const ImplicitOptions opts = detail::with_report(options, solver);
  auto solve = [solver, F, rep = opts.report](const X& x0, const Th&... th) {
    if constexpr (requires { Solver::root_finder; }) {  // Newton, Broyden, Bisection: F = 0 directly
      return detail::tuned(solver, *rep).run(F, x0, th...);
    } else {  // a minimiser: 1/2 ||F||^2
      auto residual = [F](const X& x, const Th&... t) {
        const auto r = F(x, t...);
        return 0.5 * vdot(r, r);
      };
      return detail::tuned(solver, *rep).run(residual, x0, th...);
    }
  };
  return custom_root(F, opts, "implicit::root")(solve)(init, theta...);
}
template <NotOptions Solver, class Fn, class X, class... Th>
auto root(const Solver& solver, const Fn& F, const X& init, const Th&... theta) {
  return root(ImplicitOptions{}, solver, F, init, theta...);
}

/// The fixed point x = T(x, theta...), differentiable in theta.
template <class Solver, class Fn, class X, class... Th>
auto fixed_point(const ImplicitOptions& options, const Solver& solver, const Fn& T, const X& init,
                 const Th&... theta) {
  const ImplicitOptions opts = detail::with_report(options, solver);
  auto solve = [solver, T, rep = opts.report](const X& x0, const Th&... th) {
    return detail::tuned(solver, *rep).run(T, x0, th...);
  };
  return custom_fixed_point(T, opts, "implicit::fixed_point")(solve)(init, theta...);
}
template <NotOptions Solver, class Fn, class X, class... Th>
auto fixed_point(const Solver& solver, const Fn& T, const X& init, const Th&... theta) {
  return fixed_point(ImplicitOptions{}, solver, T, init, theta...);
}

}  // namespace xgrad::implicit
