#pragma once
// Root finding, F(x) = 0 for F: R^n -> R^n written with xgrad ops (optimistix's Newton and Bisection, jaxopt's
// Broyden and Bisection):
//
//   Newton      x+ = x + t p,  J p = -F  (J from the AD core; a least-squares step when J is singular), t by
//               Armijo backtracking on phi = 1/2 ||F||^2 from t = 1 (the Newton direction descends phi whenever
//               F != 0): quadratic convergence near a regular root, global steering away from it.
//   Broyden     the same with H ~ J^-1 by Broyden's "good" update H+ = H + (s - H y) s^T H / (s^T H y), started from
//               the exact inverse Jacobian at x0; the Jacobian is recomputed when the direction stops descending
//               phi or the search fails. One Jacobian instead of one per iteration.
//   Bisection   a scalar root in a bracket [lower, upper] with a sign change (checked: a bracket without one throws).
//
// state.error = ||F(x)||_2, converged (converged_by gtol: the optimality condition F = 0 holds to tol) when
// error <= tol; xtol (off by default) on the step. Each is a root finder for implicit::root, which then solves
// F = 0 directly instead of minimising ||F||^2.
//
//   auto F = [](const Tensor& x, const Tensor& a) { return x * x * x - a; };
//   auto [x, state] = optim::Newton{.tol = 1e-12}.run(F, Tensor(Array{1.0}), Tensor(Array{8.0}));  // x = 2
#include <functional>
#include <limits>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/optim/flat_function.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of a root finder: the shared record (value = 1/2 ||F||^2, error = ||F||_2) and F at params.
template <class P>
struct RootState : SolverState<P> {
  P residual{};          ///< F at params
  int num_jac_eval = 0;  ///< Jacobian evaluations
};

namespace detail {
enum class RootMethod { newton, broyden };
/// The Newton or Broyden run on flat x; fills the state.
Array find_root_flat(RootMethod method, const FlatVectorFunction& sys, Array x, RootState<Array>& s, int maxiter,
                     double tol, double xtol, int maxls, bool verbose, const Callback& callback);

/// Runs `method` on residuals(x, args...) = 0 for a Tensor x of any shape, the result in the Tensor state.
template <class F, class... Args>
OptStep<Tensor, RootState<Tensor>> find_root(RootMethod method, const F& fun, const Tensor& x0, int maxiter,
                                             double tol, double xtol, int maxls, bool verbose, const Callback& callback,
                                             const Args&... args) {
  FlatVectorFunction sys = flat_vector_function(fun, x0.shape(), args...);
  sys.value = [value = std::move(sys.value)](const Array& z) {
    Array y = value(z);
    if (y.size() != z.size())
      throw ShapeError("xgrad::optim root finding: F returned " + std::to_string(y.size()) + " values for " +
                       std::to_string(z.size()) + " unknowns (F must map R^n to R^n)");
    return y;
  };
  RootState<Array> s;
  Array x = find_root_flat(method, sys, flat::values(x0.value()), s, maxiter, tol, xtol, maxls, verbose, callback);
  RootState<Tensor> out;
  static_cast<IterationInfo&>(out) = static_cast<const IterationInfo&>(s);
  out.grad = sys.as_x(s.grad);
  out.residual = sys.as_x(s.residual);
  out.num_jac_eval = s.num_jac_eval;
  return {sys.as_x(x), std::move(out)};
}
}  // namespace detail

/// Newton's method (Method = newton) or Broyden's (broyden), with backtracking on 1/2 ||F||^2 (see the header
/// comment): spelled `Newton` and `Broyden`.
template <detail::RootMethod Method>
struct NewtonFamily {
  int maxiter = 100;      ///< most iterations
  double tol = 1e-10;     ///< converged when ||F(x)||_2 <= tol
  double xtol = 0.0;      ///< also converged when ||x+ - x||_2 <= xtol max(1, ||x||_2) (0: off)
  int maxls = 30;         ///< most halvings of the step per iteration
  bool verbose = false;   ///< one line per iteration
  Callback callback{};    ///< called after each iteration; returning true stops run()
  static constexpr bool root_finder = true;  ///< implicit::root solves F = 0 with it directly

  template <class F, class... Args>
  OptStep<Tensor, RootState<Tensor>> run(const F& fun, const Tensor& x0, const Args&... args) const {
    return detail::find_root(Method, fun, x0, maxiter, tol, xtol, maxls, verbose, callback, args...);
  }
};
using Newton = NewtonFamily<detail::RootMethod::newton>;    ///< a Jacobian per iteration, quadratic convergence
using Broyden = NewtonFamily<detail::RootMethod::broyden>;  ///< secant updates of J^-1, superlinear convergence

/// Bisection for a scalar root of f in [lower, upper], f(lower) and f(upper) of opposite signs (or one of them 0).
/// x0 is ignored but for its shape (a one-element Tensor), so that it runs wherever a root finder does.
struct Bisection {
  double lower = 0.0;    ///< the bracket's left end
  double upper = 1.0;    ///< its right end
  int maxiter = 200;     ///< most halvings
  double tol = 1e-12;    ///< converged when |f(x)| <= tol
  double xtol = 0.0;     ///< also converged when the bracket is narrower than xtol max(1, |x|) (0: off)
  Callback callback{};   ///< called after each halving; returning true stops run()
  static constexpr bool root_finder = true;  ///< implicit::root solves F = 0 with it directly

  template <class F, class... Args>
  OptStep<Tensor, RootState<Tensor>> run(const F& fun, const Tensor& x0, const Args&... args) const {
    if (x0.size() != 1)
      throw ShapeError("xgrad::optim::Bisection: a scalar root; the initial value has " + std::to_string(x0.size()) +
                       " elements");
    const Shape shape = x0.shape();
    auto at = [&](double v) {
      Array a = Array::from_shape(shape);
      a.data()[0] = v;
      return a;
    };
    auto f = [&](double v) {
      const Tensor y = fun(Tensor(at(v)), args...);
      if (y.size() != 1)
        throw ShapeError("xgrad::optim::Bisection: f returned " + std::to_string(y.size()) + " values, not one");
      return y.value().data()[0];
    };
    RootState<Array> s;
    const double x = bisect(f, s);
    RootState<Tensor> out;
    static_cast<IterationInfo&>(out) = static_cast<const IterationInfo&>(s);
    out.grad = Tensor(at(s.grad.size() ? s.grad.data()[0] : 0.0));
    out.residual = Tensor(at(std::sqrt(2.0 * s.value)));
    return {Tensor(at(x)), std::move(out)};
  }

 private:
  double bisect(const std::function<double(double)>& f, RootState<Array>& s) const;
};

}  // namespace xgrad::optim
