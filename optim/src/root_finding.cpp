// Newton, Broyden and bisection on flat arrays (root_finding.hpp).
#include "xgrad/optim/root_finding.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <xtensor-blas/xlinalg.hpp>

namespace xgrad::optim {

namespace detail {
namespace {

// The solution of J p = b, or the least-squares (minimum-norm) one when J is singular or the solve is not finite.
Array solve_or_least_squares(const Array& J, const Array& b) {
  try {
    Array p = xt::linalg::solve(J, b);
    if (flat::all_finite(p)) return p;
  } catch (const std::exception&) {
  }
  return std::get<0>(xt::linalg::lstsq(J, b));
}

}  // namespace

Array find_root_flat(RootMethod method, const FlatVectorFunction& sys, Array x, RootState<Array>& s, int maxiter,
                     double tol, double xtol, int maxls, bool verbose, const Callback& callback) {
  const char* name = method == RootMethod::newton ? "Newton" : "Broyden";
  if (maxiter < 0 || maxls < 1 || !(tol >= 0.0) || !(xtol >= 0.0))
    throw ValueError(std::string("xgrad::optim::") + name + ": needs maxiter >= 0, maxls >= 1, tol >= 0, xtol >= 0");
  const std::size_t n = x.size();
  Array F = sys.value(x);
  s.num_fun_eval = 1;
  s.grad = xt::zeros<double>({n});  // J^T F, the gradient of 1/2 ||F||^2, once a Jacobian is known
  auto record = [&](const Array& Fx) {
    const double fn = flat::norm2(Fx);
    s.value = 0.5 * fn * fn;
    s.error = fn;
    s.residual = Fx;
  };
  record(F);
  auto done = [&](Status st, ConvergenceTest by = ConvergenceTest::none) {
    s.status = st;
    s.converged_by = by;
    return x;
  };
  auto print = [&] {
    if (!verbose) return;
    if (s.iter_num == 0) std::printf("%s\n%6s %16s %12s %12s %8s\n", name, "iter", "value", "error", "stepsize", "evals");
    std::printf("%6d %16.9e %12.5e %12.5e %8d  %s\n", s.iter_num, s.value, s.error, s.stepsize, s.num_fun_eval,
                s.status == Status::running ? "" : to_string(s.status).c_str());
  };
  if (!flat::all_finite(F)) return done(Status::non_finite);
  if (s.error <= tol) return done(Status::converged, ConvergenceTest::gtol);
  print();
  Array H;                 // Broyden: the inverse Jacobian approximation
  Array J;                 // the last Jacobian
  bool have_jacobian = false;
  bool fresh = false;      // H (or J) is the exact one at x
  auto new_jacobian = [&] {
    J = sys.jacobian(x);
    ++s.num_jac_eval;
    ++s.num_grad_eval;
    if (J.dimension() != 2 || J.shape(0) != n || J.shape(1) != n)
      throw ShapeError(std::string("xgrad::optim::") + name + ": the Jacobian is not " + std::to_string(n) + " x " +
                       std::to_string(n));
    if (method == RootMethod::broyden) {
      try {
        H = xt::linalg::inv(J);
      } catch (const std::exception&) {
        H = xt::linalg::pinv(J);
      }
      if (!flat::all_finite(H)) H = xt::linalg::pinv(J);
    }
    fresh = have_jacobian = true;
  };
  while (s.iter_num < maxiter) {
    if (method == RootMethod::newton || !have_jacobian) new_jacobian();
    if (!flat::all_finite(J)) return done(Status::non_finite);
    if (fresh) s.grad = xt::linalg::dot(xt::transpose(J), F);
    Array p;
    double slope = 0.0;  // d/dt 1/2 ||F(x + t p)||^2 at 0: F^T J p
    for (;;) {
      p = method == RootMethod::newton ? solve_or_least_squares(J, Array(-F)) : Array(-xt::linalg::dot(H, F));
      // The slope needs J at x; for Broyden with a stale J, J p is estimated by the secant model (-F).
      slope = fresh ? flat::dot(F, Array(xt::linalg::dot(J, p))) : -flat::dot(F, F);
      if (slope < 0.0 || fresh) break;
      new_jacobian();  // Broyden's direction does not descend: start again from the true Jacobian
    }
    if (!(slope < 0.0)) return done(Status::line_search_failed);
    // Armijo backtracking on phi = 1/2 ||F||^2.
    const double phi0 = s.value;
    double t = 1.0;
    bool accepted = false;
    Array xn, Fn;
    for (int k = 0; k < maxls; ++k, t *= 0.5) {
      xn = flat::axpy(x, t, p);
      Fn = sys.value(xn);
      ++s.num_fun_eval;
      ++s.num_linesearch_iter;
      if (!flat::all_finite(Fn)) continue;
      const double fn = flat::norm2(Fn);
      if (0.5 * fn * fn <= phi0 + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      if (method == RootMethod::broyden && !fresh) {
        new_jacobian();
        continue;
      }
      return done(Status::line_search_failed);
    }
    ++s.iter_num;
    const Array step = flat::sub(xn, x);
    s.stepsize = t;
    if (method == RootMethod::broyden) {  // H+ = H + (s - H y) s^T H / (s^T H y)
      const Array y = flat::sub(Fn, F);
      const Array Hy = xt::linalg::dot(H, y);
      const double sHy = flat::dot(step, Hy);
      if (std::abs(sHy) > 1e-14 * flat::norm2(step) * flat::norm2(Hy)) {
        const Array sH = xt::linalg::dot(step, H);
        const Array u = (step - Hy) / sHy;
        H += xt::linalg::outer(u, sH);
      }
      fresh = false;
    }
    const double xnorm = flat::norm2(x);
    x = std::move(xn);
    F = std::move(Fn);
    record(F);
    if (s.error <= tol) {
      done(Status::converged, ConvergenceTest::gtol);
      print();
      return x;
    }
    if (xtol > 0.0 && flat::norm2(step) <= xtol * std::max(1.0, xnorm)) {
      done(Status::converged, ConvergenceTest::xtol);
      print();
      return x;
    }
    print();
    if (callback && callback(s)) return x;
  }
  return done(Status::max_iterations);
}

}  // namespace detail

double Bisection::bisect(const std::function<double(double)>& f, RootState<Array>& s) const {
  if (!(lower <= upper) || !std::isfinite(lower) || !std::isfinite(upper))
    throw ValueError("xgrad::optim::Bisection: needs a finite bracket lower <= upper, got [" + std::to_string(lower) +
                     ", " + std::to_string(upper) + "]");
  double lo = lower, hi = upper, flo = f(lo), fhi = f(hi);
  s.num_fun_eval = 2;
  auto finish = [&](double x, double fx, Status st, ConvergenceTest by) {
    s.value = 0.5 * fx * fx;
    s.error = std::abs(fx);
    s.status = st;
    s.converged_by = by;
    s.grad = Array{fx};
    return x;
  };
  if (!std::isfinite(flo) || !std::isfinite(fhi)) return finish(lo, flo, Status::non_finite, ConvergenceTest::none);
  if (std::abs(flo) <= tol) return finish(lo, flo, Status::converged, ConvergenceTest::gtol);
  if (std::abs(fhi) <= tol) return finish(hi, fhi, Status::converged, ConvergenceTest::gtol);
  if ((flo > 0.0) == (fhi > 0.0))
    throw ValueError("xgrad::optim::Bisection: f has the same sign at both ends of [" + std::to_string(lower) + ", " +
                     std::to_string(upper) + "] (f = " + std::to_string(flo) + " and " + std::to_string(fhi) +
                     "): no bracketed root");
  double mid = 0.5 * (lo + hi), fmid = 0.0;
  while (s.iter_num < maxiter) {
    mid = 0.5 * (lo + hi);
    fmid = f(mid);
    ++s.num_fun_eval;
    ++s.iter_num;
    s.stepsize = hi - lo;
    if (!std::isfinite(fmid)) return finish(mid, fmid, Status::non_finite, ConvergenceTest::none);
    if (std::abs(fmid) <= tol) return finish(mid, fmid, Status::converged, ConvergenceTest::gtol);
    // The bracket cannot shrink further in floating point: no root to tol here.
    if (mid <= lo || mid >= hi) return finish(mid, fmid, Status::stalled, ConvergenceTest::none);
    if ((fmid > 0.0) == (flo > 0.0)) {
      lo = mid;
      flo = fmid;
    } else {
      hi = mid;
    }
    if (xtol > 0.0 && hi - lo <= xtol * std::max(1.0, std::abs(mid)))
      return finish(mid, fmid, Status::converged, ConvergenceTest::xtol);
    s.value = 0.5 * fmid * fmid;
    s.error = std::abs(fmid);
    if (callback && callback(s)) return finish(mid, fmid, Status::running, ConvergenceTest::none);
  }
  return finish(mid, fmid, Status::max_iterations, ConvergenceTest::none);
}

}  // namespace xgrad::optim
