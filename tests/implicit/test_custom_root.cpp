// custom_root's error bound (ImplicitOptions::error_bound): on ridge, logistic regression and a fixed point, over
// random instances and inner/adjoint tolerances from 1e-2 to 1e-10, the true error of the implicit derivative
// (against the closed form, or a solve polished to machine precision by Newton's method) never exceeds the bound,
// and the bound is useful (within 100x of the true error at the median).
#include <algorithm>
#include <cstdio>
#include <vector>

#include "implicit/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

const std::vector<double> kTolerances{1e-2, 1e-4, 1e-6, 1e-8, 1e-10};

// The implicit options with the bound on, the adjoint solve at tolerance `tol`.
implicit::ImplicitOptions bounded(implicit::Method method, double tol) {
  implicit::ImplicitOptions o;
  o.solver.method = method;
  o.solver.options.tol = tol;
  o.report = std::make_shared<implicit::ImplicitReport>();
  o.error_bound = true;
  return o;
}

// Ratios bound / true error over every instance and tolerance; true errors at rounding level are left out (their
// ratio says nothing).
struct Ratios {
  std::vector<double> r;
  int violations = 0;
  int total = 0;
  void add(double bound, double err, double scale) {
    ++total;
    if (err > bound) {
      ++violations;
      std::printf("  over the bound: true error %.3g, bound %.3g (scale %.3g)\n", err, bound, scale);
    }
    if (err > 1e-13 * std::max(scale, 1e-300)) r.push_back(bound / err);
  }
  double median() {
    std::sort(r.begin(), r.end());
    return r.empty() ? 0.0 : r[r.size() / 2];
  }
  double worst() { return r.empty() ? 0.0 : *std::min_element(r.begin(), r.end()); }
  double loosest() { return r.empty() ? 0.0 : *std::max_element(r.begin(), r.end()); }
  void print(const char* what) {
    const double m = median();
    std::printf("%s: %d of %d within the bound; bound / true error: median %.3g, smallest %.3g, largest %.3g\n", what,
                total - violations, total, m, worst(), loosest());
  }
};

Array solve(const Array& A, const Array& b) { return xt::linalg::solve(A, b); }
double dotv(const Array& a, const Array& b) { return xt::linalg::vdot(a, b); }

}  // namespace

TEST_CASE("custom_root error bound: ridge, 100 instances x 5 tolerances") {
  Ratios ratios;
  for (std::uint64_t inst = 0; inst < 100; ++inst) {
    const Ridge r = ridge_problem(40, 10, 1000 + inst);
    const auto k = random::split(random::key(2000 + inst), 2);
    const double alpha = std::pow(10.0, random::uniform(k[0], {1}, -2.0, 0.0)(0));
    const Array c = random::normal(k[1], {10});
    // Closed form: w* = H^{-1} X^T y / n, d(c.w*)/d alpha = -c^T H^{-1} w*.
    const auto n = static_cast<double>(r.X.shape(0));
    Array H = xt::linalg::dot(xt::transpose(r.X), r.X) / n;
    for (std::size_t i = 0; i < 10; ++i) H(i, i) += alpha;
    const Array w_star = solve(H, Array(xt::linalg::dot(xt::transpose(r.X), r.y) / n));
    const double exact = -dotv(c, solve(H, w_star));
    for (double tol : kTolerances) {
      const auto opts = bounded(implicit::Method::cg, tol);
      const Tensor a(Array{alpha});
      const Tensor g = grad([&](const Tensor& al) {
        auto [w, s] = implicit::argmin(opts, optim::LBFGS{.tol = tol}, ridge_inner, Tensor(Array(xt::zeros<double>({10}))),
                                       al, Tensor(r.X), Tensor(r.y));
        return vdot(Tensor(c), w);
      })(a);
      const auto& eb = opts.report->error_bound;
      REQUIRE(std::isfinite(eb.bound));
      ratios.add(eb.bound, std::abs(g.value()(0) - exact), std::abs(exact));
      CHECK(eb.sigma_min > 0.0);
    }
  }
  ratios.print("ridge");
  CHECK(ratios.violations == 0);
  CHECK(ratios.median() <= 100.0);
}

TEST_CASE("custom_root error bound: logistic regression, 100 instances x 5 tolerances") {
  Ratios ratios;
  const std::size_t m = 60, d = 8;
  for (std::uint64_t inst = 0; inst < 100; ++inst) {
    const auto k = random::split(random::key(3000 + inst), 4);
    const Array X = random::normal(k[0], {m, d});
    const Array w_true = random::normal(k[1], {d});
    Array y = xt::sign(xt::linalg::dot(X, w_true) + random::normal(k[2], {m}));
    const Array c = random::normal(k[3], {d});
    const double alpha = 0.1 + 0.05 * static_cast<double>(inst % 10);
    auto inner = [](const Tensor& w, const Tensor& al, const Tensor& Xt, const Tensor& yt) {
      return mean(softplus(-yt * matmul(Xt, w))) + 0.5 * sum(al * square(w));
    };
    // The reference: a tight solve polished by Newton steps in plain xtensor (machine precision).
    auto [w0, s0] = optim::LBFGS{.tol = 1e-12}.run(inner, Tensor(Array(xt::zeros<double>({d}))), Tensor(Array{alpha}),
                                                  Tensor(X), Tensor(y));
    Array w = w0.value();
    Array Hm;
    for (int it = 0; it < 4; ++it) {
      const Array z = y * xt::linalg::dot(X, w);
      const Array s = 1.0 / (1.0 + xt::exp(z));  // sigmoid(-z)
      const Array gw = -xt::linalg::dot(xt::transpose(X), y * s) / double(m) + alpha * w;
      const Array dd = s * (1.0 - s);
      Array DX = X;
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < d; ++j) DX(i, j) *= dd(i);
      Hm = xt::linalg::dot(xt::transpose(X), DX) / double(m);
      for (std::size_t i = 0; i < d; ++i) Hm(i, i) += alpha;
      w = w - solve(Hm, gw);
    }
    const double exact = -dotv(c, solve(Hm, w));
    for (double tol : kTolerances) {
      const auto opts = bounded(implicit::Method::cg, tol);
      const Tensor g = grad([&](const Tensor& al) {
        auto [wt, s] = implicit::argmin(opts, optim::LBFGS{.tol = tol}, inner, Tensor(Array(xt::zeros<double>({d}))),
                                        al, Tensor(X), Tensor(y));
        return vdot(Tensor(c), wt);
      })(Tensor(Array{alpha}));
      const auto& eb = opts.report->error_bound;
      REQUIRE(std::isfinite(eb.bound));
      ratios.add(eb.bound, std::abs(g.value()(0) - exact), std::abs(exact));
    }
  }
  ratios.print("logistic regression");
  CHECK(ratios.violations == 0);
  CHECK(ratios.median() <= 100.0);
}

TEST_CASE("custom_root error bound: fixed point x = tanh(W x + theta), 100 instances x 5 tolerances (gmres)") {
  Ratios ratios;
  const std::size_t n = 12;
  for (std::uint64_t inst = 0; inst < 100; ++inst) {
    const auto k = random::split(random::key(4000 + inst), 3);
    Array W = random::normal(k[0], {n, n});
    W *= 0.9 / std::get<1>(xt::linalg::svd(W, false, false))(0);  // a contraction: ||W||_2 = 0.9
    const Array theta = random::normal(k[1], {n});
    const Array c = random::normal(k[2], {n});
    // The reference: iterate to machine precision, then d(c.x*)/d theta = D (I - D W)^{-T} c, D = diag(1 - x*^2).
    Array x = xt::zeros<double>({n});
    for (int it = 0; it < 2000; ++it) x = xt::tanh(xt::linalg::dot(W, x) + theta);
    const Array D = 1.0 - x * x;
    Array M = xt::zeros<double>({n, n});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) M(i, j) = (i == j ? 1.0 : 0.0) - D(i) * W(i, j);
    const Array exact = D * solve(Array(xt::transpose(M)), c);
    auto T = [](const Tensor& xx, const Tensor& th, const Tensor& Wt) { return tanh(matmul(Wt, xx) + th); };
    for (double tol : kTolerances) {
      const auto opts = bounded(implicit::Method::gmres, tol);
      const Tensor g = grad([&](const Tensor& th) {
        auto [xt_, s] = implicit::fixed_point(opts, implicit::FixedPointIteration{.maxiter = 10000, .tol = tol}, T,
                                              Tensor(Array(xt::zeros<double>({n}))), th, Tensor(W));
        return vdot(Tensor(c), xt_);
      })(Tensor(theta));
      const auto& eb = opts.report->error_bound;
      REQUIRE(std::isfinite(eb.bound));
      ratios.add(eb.bound, xt::linalg::norm(g.value() - exact), xt::linalg::norm(exact));
    }
  }
  ratios.print("fixed point");
  CHECK(ratios.violations == 0);
  CHECK(ratios.median() <= 100.0);
}

TEST_CASE("custom_root error bound: reported only when asked, and inf with a note when sigma_min is unknown") {
  const Ridge r = ridge_problem(30, 5, 7);
  auto hyper = [&](const implicit::ImplicitOptions& opts) {
    return grad([&](const Tensor& al) {
      auto [w, s] = implicit::argmin(opts, optim::LBFGS{.tol = 1e-10}, ridge_inner,
                                     Tensor(Array(xt::zeros<double>({5}))), al, Tensor(r.X), Tensor(r.y));
      return ridge_outer(w, r);
    })(Tensor(Array{0.3}));
  };
  implicit::ImplicitOptions off;
  off.solver.method = implicit::Method::cg;
  off.report = std::make_shared<implicit::ImplicitReport>();
  hyper(off);
  CHECK(off.report->adjoint_solves == 1);
  CHECK(std::isinf(off.report->error_bound.bound));  // not asked for
  auto on = bounded(implicit::Method::cg, 1e-10);
  hyper(on);
  CHECK(std::isfinite(on.report->error_bound.bound));
  CHECK(on.report->error_bound.bound < 1e-6);
  CHECK(on.report->error_bound.note.empty());
  // bicgstab gives no estimate of sigma_min, the rough solve for the error's direction does.
  auto bicg = bounded(implicit::Method::bicgstab, 1e-10);
  hyper(bicg);
  CHECK(std::isfinite(bicg.report->error_bound.bound));
  CHECK(bicg.report->error_bound.sigma_min > 0.0);
  // When neither solve gives one (bicgstab, and F exactly 0 so no rough solve), no bound, and a note says why.
  auto exact = bounded(implicit::Method::bicgstab, 1e-10);
  auto F = [](const Tensor& x, const Tensor& th) { return 2.0 * x - th; };
  auto solve = [](const Tensor&, const Tensor& th) { return th / 2.0; };
  grad([&](const Tensor& th) { return sum(implicit::custom_root(F, exact)(solve)(Tensor(Array{0.0, 0.0}), th)); })(
      Tensor(Array{1.0, 3.0}));
  CHECK(exact.report->error_bound.inner_residual == 0.0);
  CHECK(std::isinf(exact.report->error_bound.bound));
  CHECK(exact.report->error_bound.note.find("sigma_min") != std::string::npos);
}
