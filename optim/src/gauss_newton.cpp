// Gauss-Newton on flat arrays (gauss_newton.hpp).
#include "xgrad/optim/gauss_newton.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <xtensor-blas/xlinalg.hpp>

namespace xgrad::optim::detail {

Array gauss_newton_flat(const FlatVectorFunction& problem, Array x, GaussNewtonState<Array>& s, const GaussNewton& o) {
  if (!(o.maxiter >= 0 && o.tol >= 0.0 && o.xtol >= 0.0 && o.decrease_factor > 0.0 && o.decrease_factor < 1.0 &&
        o.c1 > 0.0 && o.c1 < 1.0 && o.maxls >= 1))
    throw ValueError("xgrad::optim::GaussNewton: needs maxiter >= 0, tol >= 0, xtol >= 0, 0 < decrease_factor < 1, "
                     "0 < c1 < 1 and maxls >= 1");
  const std::size_t n = x.size();
  Array r = problem.value(x);
  s.num_fun_eval = 1;
  s.grad = xt::zeros<double>({n});
  double f = 0.5 * flat::dot(r, r);
  s.value = f;
  s.residual = Tensor(r);
  auto done = [&](Status st, ConvergenceTest by = ConvergenceTest::none) {
    s.status = st;
    s.converged_by = by;
    return x;
  };
  if (!std::isfinite(f)) return done(Status::non_finite);
  if (o.verbose) std::printf("GaussNewton\n%6s %16s %12s %12s %8s\n", "iter", "value", "error", "stepsize", "evals");
  for (int iter = 0;; ++iter) {
    const Array J = problem.jacobian(x);
    ++s.num_jac_eval;
    ++s.num_grad_eval;
    if (J.dimension() != 2 || J.shape(1) != n || J.shape(0) != r.size())
      throw ShapeError("xgrad::optim::GaussNewton: the Jacobian is " +
                       shape_str(Shape(J.shape().begin(), J.shape().end())) + " for " + std::to_string(r.size()) +
                       " residuals and " + std::to_string(n) + " parameters");
    if (!flat::all_finite(J)) return done(Status::non_finite);
    const Array g = xt::linalg::dot(xt::transpose(J), r);
    s.grad = g;
    s.error = flat::norm2(g);
    if (s.error <= o.tol) return done(Status::converged, ConvergenceTest::gtol);
    if (iter >= o.maxiter) return done(Status::max_iterations);
    // The minimum-norm solution of J p = -r.
    const Array p = std::get<0>(xt::linalg::lstsq(J, Array(-r)));
    if (!flat::all_finite(p)) return done(Status::non_finite);
    const double slope = flat::dot(g, p);  // d/dt 1/2 ||r(x + t p)||^2 at 0: -||J p||^2 <= 0
    // No descent left in floating point (J p = 0 to rounding, or a step truncated to nothing): not a certified
    // minimiser (the gradient test failed above), so stalled.
    if (!(slope < 0.0)) return done(Status::stalled);
    double t = 1.0;
    Array xt_, rt;
    double ft = 0.0;
    for (int ls = 0;; ++ls) {
      xt_ = flat::axpy(x, t, p);
      rt = problem.value(xt_);
      ++s.num_fun_eval;
      if (rt.size() != r.size())
        throw ShapeError("xgrad::optim::GaussNewton: the residuals had " + std::to_string(r.size()) +
                         " values at x and " + std::to_string(rt.size()) + " at the trial point (their number must "
                         "not depend on x)");
      ft = flat::all_finite(rt) ? 0.5 * flat::dot(rt, rt) : std::numeric_limits<double>::infinity();
      if (!o.damped) {
        if (!std::isfinite(ft)) return done(Status::non_finite);  // the full step left the domain
        break;
      }
      if (ft <= f + o.c1 * t * slope) break;
      ++s.num_linesearch_iter;
      if (ls + 1 >= o.maxls) return done(Status::line_search_failed);
      t *= o.decrease_factor;
    }
    const double step = flat::norm2(p);  // the Gauss-Newton step, before any damping
    x = std::move(xt_);
    r = std::move(rt);
    f = ft;
    s.value = f;
    s.residual = Tensor(r);
    s.stepsize = t;
    ++s.iter_num;
    if (o.verbose) std::printf("%6d %16.9e %12.5e %12.5e %8d\n", s.iter_num, s.value, s.error, t, s.num_fun_eval);
    if (o.callback && o.callback(s)) return x;
    if (o.xtol > 0.0 && step <= o.xtol * (1.0 + flat::norm2(x))) return done(Status::converged, ConvergenceTest::xtol);
  }
}

}  // namespace xgrad::optim::detail
