// Levenberg-Marquardt on flat arrays (levenberg_marquardt.hpp): Moré's lmpar on the QR of the augmented problem, and
// the trust-region loop of MINPACK's lmder.
#include "xgrad/optim/levenberg_marquardt.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>
#include <xtensor-blas/xlinalg.hpp>

namespace xgrad::optim::detail {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kDwarf = std::numeric_limits<double>::min();

double l2(const Array& v) { return flat::norm2(v); }

// The scaled step p~ = D p minimising ||J D^-1 p~ + r||^2 + lambda ||p~||^2, and q = R^-T p~ (R of the QR of the
// augmented matrix [J D^-1; sqrt(lambda) I]), whose norm gives the secular equation's slope. `ok` is false when R is
// singular (lambda = 0 and J rank-deficient).
struct Trial {
  Array p, q;
  bool ok = true;
};

// Householder QR of A (m x n, overwritten) applied to b as it goes: returns R (its top n x n; rows past m stay 0)
// and the first n entries of Q^T b. No Q is formed: what the step needs is R and Q^T b, in O(m n^2).
std::pair<Array, Array> householder_r(Array A, Array b) {
  const std::size_t m = A.shape(0), n = A.shape(1), k_end = std::min(m, n);
  double* a = A.data();
  std::vector<double> v(m);
  for (std::size_t k = 0; k < k_end; ++k) {
    double norm = 0.0;
    for (std::size_t i = k; i < m; ++i) norm += a[i * n + k] * a[i * n + k];
    norm = std::sqrt(norm);
    if (norm == 0.0) continue;
    const double alpha = a[k * n + k] > 0.0 ? -norm : norm;
    for (std::size_t i = k; i < m; ++i) v[i] = a[i * n + k];
    v[k] -= alpha;
    double vv = 0.0;
    for (std::size_t i = k; i < m; ++i) vv += v[i] * v[i];
    if (vv == 0.0) continue;
    for (std::size_t j = k; j < n; ++j) {  // A[k:, j] -= 2 v (v^T A[k:, j]) / (v^T v)
      double d = 0.0;
      for (std::size_t i = k; i < m; ++i) d += v[i] * a[i * n + j];
      d *= 2.0 / vv;
      for (std::size_t i = k; i < m; ++i) a[i * n + j] -= d * v[i];
    }
    double d = 0.0;
    for (std::size_t i = k; i < m; ++i) d += v[i] * b(i);
    d *= 2.0 / vv;
    for (std::size_t i = k; i < m; ++i) b(i) -= d * v[i];
  }
  Array R = xt::zeros<double>({n, n}), c = xt::zeros<double>({n});
  for (std::size_t i = 0; i < k_end; ++i) {
    for (std::size_t j = i; j < n; ++j) R(i, j) = a[i * n + j];
    c(i) = b(i);
  }
  return {R, c};
}

Trial scaled_step(const Array& JD, const Array& r, double lambda) {
  const std::size_t m = JD.shape(0), n = JD.shape(1);
  Array A = xt::zeros<double>({m + n, n});
  std::copy(JD.begin(), JD.end(), A.begin());
  const double s = std::sqrt(lambda);
  for (std::size_t j = 0; j < n; ++j) A(m + j, j) = s;
  Array b = xt::zeros<double>({m + n});
  for (std::size_t i = 0; i < m; ++i) b(i) = -r(i);
  auto [R, c] = householder_r(std::move(A), std::move(b));
  Trial t;
  double rmax = 0.0;
  for (std::size_t j = 0; j < n; ++j) rmax = std::max(rmax, std::abs(R(j, j)));
  for (std::size_t j = 0; j < n; ++j)
    if (!(std::abs(R(j, j)) > 1e3 * kEps * rmax)) t.ok = false;
  if (!t.ok) return t;
  t.p = xt::zeros<double>({n});  // R p = c: back substitution
  for (std::size_t i = n; i-- > 0;) {
    double v = c(i);
    for (std::size_t j = i + 1; j < n; ++j) v -= R(i, j) * t.p(j);
    t.p(i) = v / R(i, i);
  }
  t.q = xt::zeros<double>({n});  // R^T q = p: forward substitution
  for (std::size_t i = 0; i < n; ++i) {
    double v = t.p(i);
    for (std::size_t j = 0; j < i; ++j) v -= R(j, i) * t.q(j);
    t.q(i) = v / R(i, i);
  }
  return t;
}

}  // namespace

std::pair<double, Array> levenberg_marquardt_step(const Array& J, const Array& d, const Array& r, double delta,
                                                  double lambda0) {
  const std::size_t m = J.shape(0), n = J.shape(1);
  Array JD = J;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) JD(i, j) /= d(j);
  auto unscale = [&](const Array& pt) {
    Array p = pt;
    for (std::size_t j = 0; j < n; ++j) p(j) /= d(j);
    return p;
  };
  // ||J D^-1 p~ + r|| = ||R p~ + Q^T r|| up to a constant: one QR of the m x n matrix per step, then each trial
  // works on the small [R; sqrt(lambda) I] (as MINPACK's qrsolv).
  const auto [JDs, rs] = householder_r(JD, r);  // R and Q^T r stand in for J D^-1 and r from here on
  // The Gauss-Newton step, if J has full rank and the step is inside the region (within 10 %).
  Trial gn = scaled_step(JDs, rs, 0.0);
  double parl = 0.0;
  if (gn.ok) {
    const double pn = l2(gn.p), phi = pn - delta;
    if (phi <= 0.1 * delta) return {0.0, unscale(gn.p)};
    // A lower bound on lambda: the first Newton step of the secular equation from 0.
    const double qn = l2(gn.q);
    parl = phi / delta * (pn / qn) * (pn / qn);
  }
  const double gnorm = l2(Array(xt::linalg::dot(xt::transpose(JDs), rs)));
  double paru = gnorm / delta;
  if (paru == 0.0) paru = kDwarf / std::min(delta, 0.1);
  double lambda = std::clamp(lambda0, parl, paru);
  if (lambda == 0.0) lambda = gnorm / std::max(l2(gn.ok ? gn.p : Array(xt::zeros<double>({n}))), kDwarf);
  lambda = std::clamp(lambda, parl, paru);
  Trial t;
  double prev_phi = 0.0;  // MINPACK's stop when lambda is at its lower bound 0 and phi stopped rising towards 0
  for (int iter = 0; iter < 10; ++iter) {
    if (lambda == 0.0) lambda = std::max(kDwarf, 1e-3 * paru);
    t = scaled_step(JDs, rs, lambda);
    if (!t.ok) {  // only at a lambda too small to regularise a rank-deficient J
      lambda = std::max(10.0 * lambda, 1e-3 * paru);
      continue;
    }
    const double pn = l2(t.p), phi = pn - delta;
    if (std::abs(phi) <= 0.1 * delta || (parl == 0.0 && iter > 0 && phi <= prev_phi && prev_phi < 0.0) ||
        iter == 9)
      break;
    prev_phi = phi;
    const double qn = l2(t.q);
    const double correction = phi / delta * (pn / qn) * (pn / qn);
    if (phi > 0.0) parl = std::max(parl, lambda);
    if (phi < 0.0) paru = std::min(paru, lambda);
    lambda = std::max(parl, lambda + correction);
  }
  if (!t.ok) return {lambda, Array(xt::zeros<double>({n}))};
  return {lambda, unscale(t.p)};
}

// gtol's measure: the largest cosine between r and a column of J (0 when r = 0).
double gradient_cosine(const Array& J, const Array& r, double fnorm) {
  if (fnorm == 0.0) return 0.0;
  const Array g = xt::linalg::dot(xt::transpose(J), r);
  double c = 0.0;
  for (std::size_t j = 0; j < J.shape(1); ++j) {
    double norm = 0.0;
    for (std::size_t i = 0; i < J.shape(0); ++i) norm += J(i, j) * J(i, j);
    if (norm != 0.0) c = std::max(c, std::abs(g(j)) / (std::sqrt(norm) * fnorm));
  }
  return c;
}

namespace {
// The columns of J listed in `cols` (the free coordinates of a bounded run).
Array columns(const Array& J, const std::vector<std::size_t>& cols) {
  const std::size_t m = J.shape(0);
  Array out = Array::from_shape({m, cols.size()});
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t k = 0; k < cols.size(); ++k) out(i, k) = J(i, cols[k]);
  return out;
}
}  // namespace

Array levenberg_marquardt_flat(const FlatVectorFunction& problem, Array x, LevenbergMarquardtState<Array>& s,
                               const LevenbergMarquardt& o) {
  const double ftol = o.ftol, xtol = o.xtol, gtol = o.gtol, factor = o.factor;
  if (!(ftol >= 0.0 && xtol >= 0.0 && gtol >= 0.0 && factor > 0.0))
    throw ValueError("xgrad::optim::LevenbergMarquardt: needs ftol, xtol, gtol >= 0 and factor > 0");
  const std::size_t n = x.size();
  const int max_nfev = o.max_nfev < 0 ? static_cast<int>(100 * std::max<std::size_t>(n, 1)) : o.max_nfev;
  const auto [lo, hi] = o.bounds.expand(n, "xgrad::optim::LevenbergMarquardt");
  const bool bounded = std::any_of(lo.begin(), lo.end(), [](double v) { return std::isfinite(v); }) ||
                       std::any_of(hi.begin(), hi.end(), [](double v) { return std::isfinite(v); });
  if (bounded) x = project_onto(x, lo, hi);
  // The coordinates a step may move: all without bounds; with bounds, not those fixed (l = u) or at a bound that the
  // gradient g = J^T r pushes against (the step -g would leave the box there).
  std::vector<std::size_t> free;
  auto free_set = [&](const Array& g) {
    free.clear();
    for (std::size_t j = 0; j < n; ++j) {
      const bool held = lo(j) == hi(j) || (x(j) <= lo(j) && g(j) > 0.0) || (x(j) >= hi(j) && g(j) < 0.0);
      if (!bounded || !held) free.push_back(j);
    }
    s.active = static_cast<int>(n - free.size());
  };
  auto cosine = [&](const Array& J, const Array& r, double fn) {  // over the free columns
    return free.size() == n ? gradient_cosine(J, r, fn) : gradient_cosine(columns(J, free), r, fn);
  };
  auto error = [&](const Array& g) { return bounded ? projected_gradient_norm(x, g, lo, hi) : l2(g); };
  Array r = problem.value(x);
  s.num_fun_eval = 1;
  s.grad = xt::zeros<double>({n});
  double fnorm = l2(r);
  s.value = 0.5 * fnorm * fnorm;
  s.residual = Tensor(r);
  auto finish = [&](Status st, ConvergenceTest by) {
    s.status = st;
    s.converged_by = by;
    // certify: an ftol, xtol or "no further reduction" end is checked against gtol with a fresh Jacobian.
    const bool uncertified = (st == Status::converged && by != ConvergenceTest::gtol) || st == Status::stalled;
    if (o.certify && uncertified) {
      const Array Jx = problem.jacobian(x);
      ++s.num_jac_eval;
      ++s.num_grad_eval;
      s.grad = xt::linalg::dot(xt::transpose(Jx), r);
      s.error = error(s.grad);
      free_set(s.grad);
      if (flat::all_finite(Jx) && (free.empty() || cosine(Jx, r, flat::norm2(r)) <= gtol)) {
        s.status = Status::converged;
        s.converged_by = ConvergenceTest::gtol;
      }
    }
    return x;
  };
  if (!std::isfinite(fnorm)) return finish(Status::non_finite, ConvergenceTest::none);
  Array diag, J;
  double delta = 0.0, xnorm = 0.0, lambda = 0.0;
  auto scaled_norm = [&](const Array& v) {
    double acc = 0.0;
    for (std::size_t j = 0; j < n; ++j) acc += (diag(j) * v(j)) * (diag(j) * v(j));
    return std::sqrt(acc);
  };
  if (o.verbose)
    std::printf("LevenbergMarquardt\n%6s %16s %12s %12s %12s %8s\n", "iter", "value", "error", "lambda", "radius",
                "evals");
  for (int iter = 1;; ++iter) {
    J = problem.jacobian(x);
    ++s.num_jac_eval;
    ++s.num_grad_eval;
    if (J.dimension() != 2 || J.shape(1) != n || J.shape(0) != r.size())
      throw ShapeError("xgrad::optim::LevenbergMarquardt: the Jacobian is " + shape_str(Shape(J.shape().begin(), J.shape().end())) + " for " +
                       std::to_string(r.size()) + " residuals and " + std::to_string(n) + " parameters");
    if (!flat::all_finite(J)) return finish(Status::non_finite, ConvergenceTest::none);
    const std::size_t m = r.size();
    const Array g = xt::linalg::dot(xt::transpose(J), r);
    s.grad = g;
    s.error = error(g);
    Array colnorm = xt::zeros<double>({n});
    for (std::size_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (std::size_t i = 0; i < m; ++i) acc += J(i, j) * J(i, j);
      colnorm(j) = std::sqrt(acc);
    }
    if (iter == 1) {
      diag = colnorm;
      for (std::size_t j = 0; j < n; ++j)
        if (diag(j) == 0.0) diag(j) = 1.0;
      xnorm = scaled_norm(x);
      delta = factor * xnorm;
      if (delta == 0.0 || !std::isfinite(delta)) delta = factor;
    } else {
      for (std::size_t j = 0; j < n; ++j) diag(j) = std::max(diag(j), colnorm(j));
    }
    free_set(g);
    if (free.empty() || cosine(J, r, fnorm) <= gtol) return finish(Status::converged, ConvergenceTest::gtol);
    const bool all_free = free.size() == n;
    const Array J_free = all_free ? Array() : columns(J, free);
    Array diag_free = Array::from_shape({free.size()});
    for (std::size_t k = 0; k < free.size(); ++k) diag_free(k) = diag(free[k]);
    // The inner loop: trial steps until one is taken.
    while (true) {
      auto [lam, p_free] = levenberg_marquardt_step(all_free ? J : J_free, diag_free, r, delta, lambda);
      lambda = lam;
      Array p = xt::zeros<double>({n});
      for (std::size_t k = 0; k < free.size(); ++k) p(free[k]) = p_free(k);
      // MINPACK's predicted reduction (t1^2 + 2 t2^2) and directional derivative hold for the trust-region step
      // itself; a step changed by the box gets the model's values: (||r||^2 - ||r + J p||^2) / ||r||^2, computed as
      // -(2 r^T J p + ||J p||^2) / ||r||^2 (no cancellation), and r^T J p / ||r||^2.
      const double pnorm_step = scaled_norm(p);
      double pnorm = pnorm_step, prered = 0.0, dirder = 0.0;
      bool modeled = false;
      Array xt_;
      if (bounded) {
        bool inside = true;
        for (std::size_t j = 0; j < n && inside; ++j) inside = x(j) + p(j) >= lo(j) && x(j) + p(j) <= hi(j);
        if (!inside) {
          double to_edge = 1.0;  // the largest t <= 1 with x + t p inside the box
          for (std::size_t j = 0; j < n; ++j) {
            if (p(j) > 0.0 && std::isfinite(hi(j))) to_edge = std::min(to_edge, (hi(j) - x(j)) / p(j));
            if (p(j) < 0.0 && std::isfinite(lo(j))) to_edge = std::min(to_edge, (lo(j) - x(j)) / p(j));
          }
          // Both trial points are projected (rounding in x + t p must not leave the box); the step is what remains.
          const Array projected = project_onto(flat::axpy(x, 1.0, p), lo, hi);
          const Array cut = project_onto(flat::axpy(x, std::max(to_edge, 0.0), p), lo, hi);
          auto model = [&](const Array& trial) {  // {predicted reduction, directional derivative}
            const Array Jq = xt::linalg::dot(J, flat::axpy(trial, -1.0, x));
            const double rJq = flat::dot(r, Jq);
            return std::pair<double, double>(-(2.0 * rJq + flat::dot(Jq, Jq)) / (fnorm * fnorm), rJq / (fnorm * fnorm));
          };
          const auto mp = model(projected), mc = model(cut);
          xt_ = mp.first >= mc.first ? projected : cut;
          std::tie(prered, dirder) = mp.first >= mc.first ? mp : mc;
          p = flat::axpy(xt_, -1.0, x);
          pnorm = scaled_norm(p);
          modeled = true;
        }
      }
      if (!modeled) {
        const double t1 = l2(Array(xt::linalg::dot(J, p))) / fnorm, t2 = std::sqrt(lambda) * pnorm / fnorm;
        prered = t1 * t1 + 2.0 * t2 * t2;
        dirder = -(t1 * t1 + t2 * t2);
        xt_ = flat::axpy(x, 1.0, p);
      }
      if (modeled && !(prered > 0.0)) {
        // The box left no step that the model says decreases ||r||: a smaller region turns the step towards -g,
        // which points into the box on the free coordinates. No evaluation, and no convergence claim: when the
        // region cannot shrink further the run has stalled (certify then checks gtol).
        delta *= 0.25;
        lambda = lambda == 0.0 ? 0.0 : 4.0 * lambda;
        s.radius = delta;
        if (!(delta > kEps * std::max(xnorm, 1.0))) return finish(Status::stalled, ConvergenceTest::none);
        continue;
      }
      if (iter == 1) delta = std::min(delta, pnorm);
      Array rt = problem.value(xt_);
      ++s.num_fun_eval;
      if (rt.size() != r.size())
        throw ShapeError("xgrad::optim::LevenbergMarquardt: the residuals had " + std::to_string(r.size()) +
                         " values at x and " + std::to_string(rt.size()) + " at the trial point (their number must "
                         "not depend on x)");
      const double fnorm1 = flat::all_finite(rt) ? l2(rt) : std::numeric_limits<double>::infinity();
      const double actred = 0.1 * fnorm1 < fnorm ? 1.0 - (fnorm1 / fnorm) * (fnorm1 / fnorm) : -1.0;
      const double ratio = prered != 0.0 ? actred / prered : 0.0;
      if (ratio <= 0.25) {
        double temp = actred >= 0.0 ? 0.5 : 0.5 * dirder / (dirder + 0.5 * actred);
        if (0.1 * fnorm1 >= fnorm || temp < 0.1) temp = 0.1;
        delta = temp * std::min(delta, pnorm / 0.1);
        lambda /= temp;
      } else if (lambda == 0.0 || ratio >= 0.75) {
        delta = modeled ? std::max(delta, pnorm / 0.5) : pnorm / 0.5;  // a step the box shortened: keep the region
        lambda *= 0.5;
      }
      const bool taken = ratio >= 1e-4;
      if (taken) {
        x = xt_;
        r = std::move(rt);
        fnorm = fnorm1;
        xnorm = scaled_norm(x);
        s.value = 0.5 * fnorm * fnorm;
        s.residual = Tensor(r);
        s.stepsize = pnorm;
        ++s.iter_num;
      }
      s.damping = lambda;
      s.radius = delta;
      if (o.verbose && taken)
        std::printf("%6d %16.9e %12.5e %12.5e %12.5e %8d\n", s.iter_num, s.value, s.error, lambda, delta,
                    s.num_fun_eval);
      if (std::abs(actred) <= ftol && prered <= ftol && 0.5 * ratio <= 1.0)
        return finish(Status::converged, ConvergenceTest::ftol);
      if (delta <= xtol * xnorm) return finish(Status::converged, ConvergenceTest::xtol);
      if (s.num_fun_eval >= max_nfev) return finish(Status::max_iterations, ConvergenceTest::none);
      // MINPACK's "tolerance too small" ends: no further reduction is possible in floating point.
      if ((std::abs(actred) <= kEps && prered <= kEps && 0.5 * ratio <= 1.0) || delta <= kEps * xnorm)
        return finish(Status::stalled, ConvergenceTest::none);
      if (taken) {
        if (o.callback && o.callback(s)) return x;
        break;
      }
    }
  }
}

}  // namespace xgrad::optim::detail
