#include <algorithm>

#include <xgrad/implicit/argmin.hpp>

#include "implicit/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace im = xgrad::implicit;
namespace opt = xgrad::optim;

namespace {
// d outer(w*(alpha)) / d alpha by implicit differentiation through LBFGS.
double ridge_hypergrad(const Ridge& r, double alpha, const im::ImplicitOptions& o) {
  const Tensor w0(Array(xt::zeros<double>({r.X.shape(1)})));
  auto outer = [&](const Tensor& a) {
    auto [w, state] = im::argmin(o, opt::LBFGS{.maxiter = 1000, .tol = 1e-10}, ridge_inner, w0, a, Tensor(r.X),
                                 Tensor(r.y));
    REQUIRE(state.status == opt::Status::converged);
    return ridge_outer(w, r);
  };
  return grad(outer)(Tensor(alpha)).item();
}

// L2-regularised logistic regression: inner(w, log_lambda) and its outer (validation) loss.
Tensor logistic_inner(const Tensor& w, const Tensor& log_lambda, const Tensor& X, const Tensor& y) {
  const Tensor z = matmul(X, w);
  return mean(softplus(z) - y * z) + 0.5 * sum(exp(log_lambda) * square(w));
}
}  // namespace

TEST_CASE("argmin: ridge hypergradient equals the closed form to 1e-8, with cg and with the dense solver") {
  for (auto [n, d] : {std::pair<std::size_t, std::size_t>{40, 5}, {100, 20}, {60, 40}}) {
    const Ridge r = ridge_problem(n, d, 17 + d);
    for (double alpha : {0.01, 0.3}) {
      const auto want = ridge_closed_form(r, alpha);
      for (auto m : {im::Method::cg, im::Method::lu, im::Method::gmres}) {
        INFO("n=" << n << " d=" << d << " alpha=" << alpha << " " << im::to_string(m));
        const double got = ridge_hypergrad(r, alpha, {.solver = {.method = m, .options = {.tol = 1e-12}}});
        CHECK(std::abs(got - want.hypergrad) <= 1e-8 * std::abs(want.hypergrad));
      }
    }
  }
}

TEST_CASE("argmin: the solution itself, pytree parameters, and several hyperparameter arguments") {
  struct Linear {
    Tensor w, b;
  };
  const Ridge r = ridge_problem(50, 4, 3);
  // Per-feature penalties and a scalar on the bias: two theta arguments.
  auto inner = [&](const Linear& m, const Tensor& alphas, const Tensor& beta) {
    const Tensor pred = matmul(Tensor(r.X), m.w) + m.b;
    return 0.5 * mean(square(pred - Tensor(r.y))) + 0.5 * sum(alphas * square(m.w)) + 0.5 * beta * square(m.b);
  };
  const Linear m0{Tensor(Array(xt::zeros<double>({4}))), Tensor(0.0)};
  auto outer = [&](const Tensor& alphas, const Tensor& beta) {
    auto [m, state] = im::argmin(opt::LBFGS{.maxiter = 500, .tol = 1e-12}, inner, m0, alphas, beta);
    return ridge_outer(m.w, r) + 0.1 * square(m.b);
  };
  const Array a0{0.1, 0.2, 0.05, 0.4};
  const double b0 = 0.3;
  // Central differences of the outer loss (each inner solve to 1e-12).
  auto f = [&](const Array& a, double b) { return outer(Tensor(a), Tensor(b)).item(); };
  const Tensor ga = grad([&](const Tensor& a) { return outer(a, Tensor(b0)); })(Tensor(a0));
  const Tensor gb = grad([&](const Tensor& b) { return outer(Tensor(a0), b); })(Tensor(b0));
  const double h = 1e-5;
  for (std::size_t i = 0; i < 4; ++i) {
    Array ap = a0, am = a0;
    ap(i) += h;
    am(i) -= h;
    CHECK(ga.value()(i) == doctest::Approx((f(ap, b0) - f(am, b0)) / (2 * h)).epsilon(1e-6));
  }
  CHECK(gb.item() == doctest::Approx((f(a0, b0 + h) - f(a0, b0 - h)) / (2 * h)).epsilon(1e-6));
}

TEST_CASE("argmin: logistic regression hypergradient against central differences with a tight inner solve") {
  auto k = xgrad::random::split(xgrad::random::key(21), 3);
  const std::size_t n = 80, d = 6;
  const Array X = xgrad::random::normal(k[0], {n, d});
  const Array y = xgrad::random::bernoulli(k[1], 0.5, {n});
  const Array Xv = xgrad::random::normal(k[2], {n, d});
  const Array yv = xt::cast<double>(xt::linalg::dot(Xv, xt::ones<double>({d})) > 0.0);
  const Tensor w0(Array(xt::zeros<double>({d})));
  auto outer = [&](const Tensor& log_lambda) {
    auto [w, state] = im::argmin(opt::LBFGS{.maxiter = 1000, .tol = 1e-12}, logistic_inner, w0, log_lambda,
                                 Tensor(X), Tensor(y));
    CHECK(state.status == opt::Status::converged);
    const Tensor z = matmul(Tensor(Xv), w);
    return mean(softplus(z) - Tensor(yv) * z);
  };
  for (double ll : {-3.0, -1.0, 0.5}) {
    const double g = grad(outer)(Tensor(ll)).item();
    const double h = 1e-4;
    const double fd = (outer(Tensor(ll + h)).item() - outer(Tensor(ll - h)).item()) / (2 * h);
    INFO("log lambda " << ll);
    CHECK(g == doctest::Approx(fd).epsilon(1e-6));
  }
}

TEST_CASE("argmin: second order (hvp of the outer loss) and forward mode through the implicit node") {
  const Ridge r = ridge_problem(40, 3, 5);
  const Tensor w0(Array(xt::zeros<double>({3})));
  auto outer = [&](const Tensor& alphas) {
    auto [w, state] = im::argmin(opt::LBFGS{.maxiter = 500, .tol = 1e-12}, ridge_inner, w0, alphas, Tensor(r.X),
                                 Tensor(r.y));
    return ridge_outer(w, r);
  };
  const Array a0{0.2, 0.05, 0.5};
  const Array v{1.0, -0.5, 0.25};
  const Array hv = hvp(outer, Tensor(a0), Tensor(v)).value();
  // Finite differences of the (implicit) hypergradient along v.
  const double h = 1e-5;
  const Array gp = grad(outer)(Tensor(Array(a0 + h * v))).value();
  const Array gm = grad(outer)(Tensor(Array(a0 - h * v))).value();
  const Array fd = (gp - gm) / (2 * h);
  CHECK(rel_err(hv, fd) < 1e-6);

  // jvp of alphas -> w*(alphas) against central differences of the solution.
  auto solution = [&](const Tensor& alphas) {
    return im::argmin(opt::LBFGS{.maxiter = 500, .tol = 1e-12}, ridge_inner, w0, alphas, Tensor(r.X), Tensor(r.y))
        .params;
  };
  const Array tangent = jvp(solution, Tensor(a0), Tensor(v)).second.value();
  const Array fdw = (solution(Tensor(Array(a0 + h * v))).value() - solution(Tensor(Array(a0 - h * v))).value()) / (2 * h);
  CHECK(rel_err(tangent, fdw) < 1e-6);
}

TEST_CASE("argmin: an unconverged inner solve or adjoint solve is visible, and raises by default") {
  const Ridge r = ridge_problem(40, 8, 9);
  const Tensor w0(Array(xt::zeros<double>({8})));
  auto outer_with = [&](const im::ImplicitOptions& o, int maxiter) {
    return [&, o, maxiter](const Tensor& a) {
      auto [w, state] = im::argmin(o, opt::LBFGS{.maxiter = maxiter, .tol = 1e-12}, ridge_inner, w0, a, Tensor(r.X),
                                   Tensor(r.y));
      CHECK(state.status == (maxiter < 5 ? opt::Status::max_iterations : opt::Status::converged));
      return ridge_outer(w, r);
    };
  };
  const im::ImplicitOptions cg{.solver = {.method = im::Method::cg}};
  CHECK_THROWS_WITH_AS(grad(outer_with(cg, 2))(Tensor(0.1)), doctest::Contains("max_iterations"), Error);

  auto report = std::make_shared<im::ImplicitReport>();
  im::ImplicitOptions ignore = cg;
  ignore.on_failure = im::OnFailure::ignore;
  ignore.report = report;
  const double g = grad(outer_with(ignore, 2))(Tensor(0.1)).item();
  CHECK(std::isfinite(g));
  CHECK_FALSE(report->ok());
  CHECK(report->inner_status == "max_iterations");
  CHECK(report->adjoint.converged);

  // An inner run stopped by ftol is converged for the solver but not a certified stationary point: it raises.
  auto outer_ftol = [&](const Tensor& a) {
    auto [w, state] = im::argmin(cg, opt::LBFGS{.maxiter = 500, .tol = 1e-12, .ftol = 0.5}, ridge_inner, w0, a,
                                 Tensor(r.X), Tensor(r.y));
    CHECK(state.status == opt::Status::converged);
    CHECK(state.converged_by == opt::ConvergenceTest::ftol);
    return ridge_outer(w, r);
  };
  CHECK_THROWS_WITH_AS(grad(outer_ftol)(Tensor(0.1)), doctest::Contains("converged by ftol"), Error);

  // The adjoint solve capped at one iteration on an 8-dimensional system cannot converge.
  im::ImplicitOptions short_adjoint{.solver = {.method = im::Method::cg, .options = {.maxiter = 1}}};
  CHECK_THROWS_WITH_AS(grad(outer_with(short_adjoint, 500))(Tensor(0.1)), doctest::Contains("adjoint"), Error);
  short_adjoint.on_failure = im::OnFailure::ignore;
  short_adjoint.report = report = std::make_shared<im::ImplicitReport>();
  (void)grad(outer_with(short_adjoint, 500))(Tensor(0.1));
  CHECK(report->inner_converged);
  CHECK(report->adjoint_solves == 1);
  CHECK(report->adjoint_failures == 1);
  CHECK_FALSE(report->adjoint.converged);
  CHECK(report->adjoint.residual > report->adjoint.tolerance);
}

TEST_CASE("argmin: the tape does not grow with the inner iterations, and is empty afterwards") {
  const Ridge r = ridge_problem(60, 10, 11);
  const Tensor w0(Array(xt::zeros<double>({10})));
  auto tape_during = [&](double tol) {
    std::size_t size = 0;
    int iters = 0;
    (void)grad([&](const Tensor& a) {
      auto [w, state] = im::argmin(opt::GradientDescent{.maxiter = 100000, .tol = tol, .stepsize = 0.05}, ridge_inner, w0, a,
                                   Tensor(r.X), Tensor(r.y));
      iters = state.iter_num;
      size = ad::tape_size();
      return ridge_outer(w, r);
    })(Tensor(0.1));
    return std::pair{size, iters};
  };
  auto [loose, it_loose] = tape_during(1e-3);
  auto [tight, it_tight] = tape_during(1e-10);
  CHECK(it_tight > 3 * it_loose);
  CHECK(tight == loose);
  CHECK(ad::tape_size() == 0);
}

TEST_CASE("root: the root of a nonlinear system, differentiable in its parameter") {
  // F(x, c) = x^3 + x - c, elementwise: dx/dc = 1 / (3 x^2 + 1).
  auto F = [](const Tensor& x, const Tensor& c) { return x * x * x + x - c; };
  const Array c0{0.5, 2.0, -3.0};
  const Tensor x0(Array(xt::zeros<double>({3})));
  auto [x, state] = im::root(opt::LBFGS{.tol = 1e-14}, F, x0, Tensor(c0));
  CHECK(state.status == opt::Status::converged);
  const Array resid = x.value() * x.value() * x.value() + x.value() - c0;
  CHECK(xt::amax(xt::abs(resid))() < 1e-10);
  const Array J = jacobian([&](const Tensor& c) { return im::root(opt::LBFGS{.tol = 1e-14}, F, x0, c).params; })(Tensor(c0));
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      CHECK(J(i, j) == doctest::Approx(i == j ? 1.0 / (3 * x.value()(i) * x.value()(i) + 1) : 0.0).epsilon(1e-9));
}

TEST_CASE("custom_root evaluates F once per first-order backward pass, whatever the adjoint solve's iterations") {
  int calls = 0;
  // F(x, a) = A x - a with A = diag(2, 4, 8): x* = A^{-1} a, d sum(x*)/da = A^{-1} 1.
  const Tensor A(Array{2.0, 4.0, 8.0});
  auto F = [&](const Tensor& x, const Tensor& a) {
    ++calls;
    return A * x - a;
  };
  auto solve = [&](const Tensor&, const Tensor& a) { return Tensor(Array(a.value() / A.value())); };
  auto x_star = im::custom_root(F, {.solver = {.method = im::Method::cg}})(solve);
  const Tensor x0(Array(xt::zeros<double>({3})));
  const Tensor g = grad([&](const Tensor& a) { return sum(x_star(x0, a)); })(Tensor(Array{1.0, 1.0, 1.0}));
  CHECK(calls == 1);
  CHECK(x_star.report().adjoint.iterations >= 2);  // several matvecs, one evaluation of F
  CHECK(g.value()(0) == doctest::Approx(0.5));
  CHECK(g.value()(1) == doctest::Approx(0.25));
  CHECK(g.value()(2) == doctest::Approx(0.125));
}

TEST_CASE("argmin with automatic tolerances: the bound meets the target, the solves as loose as it allows") {
  const Ridge r = ridge_problem(40, 10, 5);
  const Tensor w0(Array(xt::zeros<double>({10})));
  auto run = [&](const im::ImplicitOptions& o, double alpha, double inner_tol) {
    return grad([&](const Tensor& a) {
      auto [w, s] = im::argmin(o, opt::LBFGS{.tol = inner_tol}, ridge_inner, w0, a, Tensor(r.X), Tensor(r.y));
      return sum(w);
    })(Tensor(Array{alpha})).value()(0);
  };
  auto exact = [&](double alpha) {  // d(1.w*)/d alpha = -1^T H^{-1} w*
    const auto n = static_cast<double>(r.X.shape(0));
    Array H = xt::linalg::dot(xt::transpose(r.X), r.X) / n;
    for (std::size_t i = 0; i < 10; ++i) H(i, i) += alpha;
    const Array w = xt::linalg::solve(H, Array(xt::linalg::dot(xt::transpose(r.X), r.y) / n));
    return -xt::sum(Array(xt::linalg::solve(H, w)))();
  };
  for (double target : {1e-4, 1e-8}) {
    INFO(target);
    im::ImplicitOptions o;
    o.solver.method = im::Method::cg;
    o.hypergradient_tol = target;
    o.report = std::make_shared<im::ImplicitReport>();
    // The first call runs the inner solve at the solver's own (loose) tol; the report says whether that sufficed.
    // Calls after it (an outer loop over alpha) run at the tolerance the bound asked for, and meet the target.
    std::vector<double> alphas{0.3, 0.31, 0.32, 0.33, 0.34};
    for (std::size_t k = 0; k < alphas.size(); ++k) {
      const double g = run(o, alphas[k], 1e-1);
      const auto& eb = o.report->error_bound;
      CHECK(eb.target == target);
      CHECK(std::abs(g - exact(alphas[k])) <= eb.bound);
      if (k >= 2) CHECK(eb.within_target);
    }
    // Not tighter than needed: the inner tolerance it settled on is within 1e4 of the target's scale, not at 1e-14.
    CHECK(o.report->inner_tol > 1e-4 * target);
  }
}

TEST_CASE("root with a root finder (Newton, Broyden, Bisection): F = 0 solved directly, derivatives implicit") {
  // x^3 = a elementwise: x* = a^(1/3), dx*/da = 1 / (3 a^(2/3)).
  auto F = [](const Tensor& x, const Tensor& a) { return x * x * x - a; };
  const Array a{8.0, 27.0, 2.0};
  auto check = [&](const auto& solver, const Tensor& x0) {
    const Tensor g = grad([&](const Tensor& at) {
      auto [x, s] = im::root(solver, F, x0, at);
      REQUIRE(s.status == opt::Status::converged);
      CHECK(xt::amax(xt::abs(x.value() - xt::cbrt(at.value())))() < 1e-10);
      return sum(x);
    })(Tensor(a));
    const Array want = 1.0 / (3.0 * xt::pow(xt::cbrt(a), 2.0));
    CHECK(xt::amax(xt::abs(g.value() - want))() < 1e-9);
  };
  check(opt::Newton{.tol = 1e-12}, Tensor(Array{1.0, 1.0, 1.0}));
  check(opt::Broyden{.tol = 1e-12}, Tensor(Array{1.5, 2.5, 1.0}));
  // Bisection: one scalar.
  const Tensor g = grad([&](const Tensor& at) {
    auto [x, s] = im::root(opt::Bisection{.lower = 0.0, .upper = 5.0, .tol = 1e-13}, F, Tensor(1.0), at);
    REQUIRE(s.status == opt::Status::converged);
    return x;
  })(Tensor(8.0));
  CHECK(g.item() == doctest::Approx(1.0 / 12.0).epsilon(1e-8));
}

TEST_CASE("argmin with LBFGSB: the projected gradient map's fixed point; active bounds get zero derivatives") {
  // Ridge with w in [-0.2, 0.2]: some coordinates end on a bound. d(sum w*)/d alpha against central differences of
  // tight solves; the active coordinates' derivatives are exactly 0.
  const Ridge r = ridge_problem(40, 6, 11);
  const opt::LBFGSB solver{.tol = 1e-12, .bounds = opt::Bounds::of(-0.2, 0.2)};
  const Tensor w0(Array(xt::zeros<double>({6})));
  auto solution = [&](double alpha) {
    return solver.run(ridge_inner, w0, Tensor(Array{alpha}), Tensor(r.X), Tensor(r.y)).params.value();
  };
  const double alpha = 0.05;
  const Array w = solution(alpha);
  int active = 0;
  for (double v : w) active += std::abs(std::abs(v) - 0.2) < 1e-12;
  REQUIRE(active >= 1);
  REQUIRE(active < 6);
  const Tensor dw = jacobian([&](const Tensor& a) {
    auto [ws, s] = im::argmin(solver, ridge_inner, w0, a, Tensor(r.X), Tensor(r.y));
    REQUIRE(s.status == opt::Status::converged);
    return ws;
  })(Tensor(Array{alpha}));
  const double h = 1e-6;
  const Array fd = (solution(alpha + h) - solution(alpha - h)) / (2 * h);
  for (std::size_t i = 0; i < 6; ++i) {
    INFO(i);
    const bool at_bound = std::abs(std::abs(w(i)) - 0.2) < 1e-12;
    if (at_bound) CHECK(dw.value()(i, 0) == 0.0);
    CHECK(std::abs(dw.value()(i, 0) - fd(i)) < 1e-6);
  }
}

TEST_CASE("argmin with ProximalGradient: the lasso's derivative is the closed form on its support, zero off it") {
  // min_w 1/2 mean((X w - y)^2) + alpha/2 ||w||^2 + lambda ||w||_1. On the support S of w*, the stationarity
  // condition H_SS w_S = X_S^T y / n - lambda sign(w_S) with H = X^T X / n + alpha I gives dw_S/dy = H_SS^{-1} X_S^T / n
  // and dw_S/dalpha = -H_SS^{-1} w_S; off S the derivatives are 0 (the prox's fixed point, as jaxopt).
  const Ridge r = ridge_problem(40, 6, 11);
  const double alpha = 0.05, lambda = 0.3;
  const opt::ProximalGradient solver{.maxiter = 100000, .tol = 1e-12, .prox = opt::prox_lasso(lambda)};
  const Tensor w0(Array(xt::zeros<double>({6}))), X(r.X), y(r.y);
  auto solution = [&](double a, const Array& yy) {
    auto [w, state] = solver.run(ridge_inner, w0, Tensor(Array{a}), X, Tensor(yy));
    REQUIRE(state.status == opt::Status::converged);
    return w.value();
  };
  const Array w = solution(alpha, r.y);
  std::vector<std::size_t> S;
  for (std::size_t i = 0; i < 6; ++i)
    if (w(i) != 0.0) S.push_back(i);
  REQUIRE(S.size() >= 1);
  REQUIRE(S.size() < 6);
  const double n = 40.0;
  Array H = Array::from_shape({S.size(), S.size()}), XS = Array::from_shape({40, S.size()});
  for (std::size_t a = 0; a < S.size(); ++a) {
    for (std::size_t k = 0; k < 40; ++k) XS(k, a) = r.X(k, S[a]);
    for (std::size_t b = 0; b < S.size(); ++b) {
      double v = 0.0;
      for (std::size_t k = 0; k < 40; ++k) v += r.X(k, S[a]) * r.X(k, S[b]);
      H(a, b) = v / n + (a == b ? alpha : 0.0);
    }
  }
  const Array Hinv = xt::linalg::inv(H);
  const Array dwS_dy = xt::linalg::dot(Hinv, Array(xt::transpose(XS))) / n;
  Array wS = Array::from_shape({S.size()});
  for (std::size_t a = 0; a < S.size(); ++a) wS(a) = w(S[a]);
  const Array dwS_dalpha = -xt::linalg::dot(Hinv, wS);

  auto implicit_w = [&](const Tensor& a, const Tensor& yy) {
    auto [ws, state] = im::argmin(solver, ridge_inner, w0, a, X, yy);
    REQUIRE(state.status == opt::Status::converged);
    return ws;
  };
  const Array Jy = jacobian([&](const Tensor& yy) { return implicit_w(Tensor(Array{alpha}), yy); })(y);
  const Array Ja = jacobian([&](const Tensor& a) { return implicit_w(a, y); })(Tensor(Array{alpha}));
  REQUIRE(shape_of(Jy) == Shape{6, 40});
  const double h = 1e-6;
  const Array fd_alpha = (solution(alpha + h, r.y) - solution(alpha - h, r.y)) / (2 * h);
  for (std::size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    const auto at = std::find(S.begin(), S.end(), i);
    if (at == S.end()) {
      CHECK(Ja(i, 0) == 0.0);
      for (std::size_t k = 0; k < 40; ++k) CHECK(Jy(i, k) == 0.0);
    } else {
      const auto a = static_cast<std::size_t>(at - S.begin());
      CHECK(Ja(i, 0) == doctest::Approx(dwS_dalpha(a)).epsilon(1e-8));
      for (std::size_t k = 0; k < 40; ++k) CHECK(std::abs(Jy(i, k) - dwS_dy(a, k)) < 1e-9);
    }
    CHECK(std::abs(Ja(i, 0) - fd_alpha(i)) < 1e-6);
  }
  // One column of dw/dy against central differences of tight solves.
  Array yp = r.y, ym = r.y;
  yp(3) += h;
  ym(3) -= h;
  const Array fd_y = (solution(alpha, yp) - solution(alpha, ym)) / (2 * h);
  for (std::size_t i = 0; i < 6; ++i) CHECK(std::abs(Jy(i, 3) - fd_y(i)) < 1e-6);
}

TEST_CASE("argmin with ProximalGradient and a projection: the same derivative as LBFGSB's bounds; errors") {
  const Ridge r = ridge_problem(40, 6, 11);
  const Tensor w0(Array(xt::zeros<double>({6}))), X(r.X), y(r.y), a(Array{0.05});
  const opt::ProximalGradient projected{
      .maxiter = 100000, .tol = 1e-12,
      .prox = opt::make_prox_from_projection(opt::projection_box(-0.2, 0.2), [](const Tensor& x) { return clip(x, -0.2, 0.2); })};
  const opt::LBFGSB bounded{.tol = 1e-12, .bounds = opt::Bounds::of(-0.2, 0.2)};
  const Array J1 = jacobian([&](const Tensor& al) { return im::argmin(projected, ridge_inner, w0, al, X, y).params; })(a);
  const Array J2 = jacobian([&](const Tensor& al) { return im::argmin(bounded, ridge_inner, w0, al, X, y).params; })(a);
  for (std::size_t i = 0; i < 6; ++i) CHECK(std::abs(J1(i, 0) - J2(i, 0)) < 1e-7);
  // A prox without a differentiable form: a clear error before any solve.
  const opt::ProximalGradient opaque{.prox = opt::make_prox_from_projection(opt::projection_box(-0.2, 0.2))};
  CHECK_THROWS_WITH_AS(im::argmin(opaque, ridge_inner, w0, a, X, y), doctest::Contains("differentiable"), ValueError);
}

namespace {
// y = a exp(-b t) + c + a little deterministic noise at 12 points, and its residuals.
const Array kDecayT = xt::linspace<double>(0.0, 4.0, 12);
Array decay_data() {
  Array y = 2.0 * xt::exp(-0.7 * kDecayT) + 0.5;
  for (std::size_t i = 0; i < y.size(); ++i) y(i) += 0.05 * std::sin(7.0 * double(i));
  return y;
}
Tensor decay_residuals(const Tensor& p, const Tensor& tt, const Tensor& yy) {
  return slice(p, 0, 0, 1) * exp(-slice(p, 0, 1, 2) * tt) + slice(p, 0, 2, 3) - yy;
}
}  // namespace

TEST_CASE("least_squares through LevenbergMarquardt: the fitted parameters' derivative with respect to the data") {
  // y = a exp(-b t) + c fitted to noisy data; d(params)/d(data) by the normal equations against central differences.
  const Array& t = kDecayT;
  const Array y = decay_data();
  const auto residuals = decay_residuals;
  const opt::LevenbergMarquardt solver{.ftol = 1e-12, .xtol = 1e-12, .gtol = 1e-6};
  const Tensor p0(Array{1.0, 1.0, 0.0});
  auto fit = [&](const Array& data) { return solver.run(residuals, p0, Tensor(t), Tensor(data)).params.value(); };
  const Array J = jacobian([&](const Tensor& data) {
    auto [p, s] = im::least_squares(solver, residuals, p0, Tensor(t), data);
    REQUIRE(s.status == opt::Status::converged);
    CHECK(s.converged_by == opt::ConvergenceTest::gtol);
    return p;
  })(Tensor(y));
  REQUIRE(J.shape(0) == 3);
  REQUIRE(J.shape(1) == 12);
  // Central differences of solves that stop near 1e-9 in the gradient: a step of 1e-4 keeps their noise below the
  // differences' own error (h^2).
  const double h = 1e-4;
  double worst = 0.0;
  for (std::size_t k = 0; k < 12; ++k) {
    Array up = y, down = y;
    up(k) += h;
    down(k) -= h;
    const Array fd = (fit(up) - fit(down)) / (2 * h);
    for (std::size_t i = 0; i < 3; ++i) worst = std::max(worst, std::abs(J(i, k) - fd(i)) / std::max(1.0, std::abs(fd(i))));
  }
  CHECK(worst < 1e-5);
}

TEST_CASE("least_squares with bounds: the projected map; the capped parameter gets zero derivatives") {
  // The same fit with the rate capped below its fitted value (0.7 > 0.5): the rate stays at the cap, the amplitude
  // and offset are the fit of a, c with b = 0.5 fixed, whose derivatives a plain 2-parameter fit gives.
  const Array& t = kDecayT;
  const Array y = decay_data();
  const auto residuals = decay_residuals;
  const double inf = std::numeric_limits<double>::infinity();
  const opt::LevenbergMarquardt capped{.ftol = 1e-12, .xtol = 1e-12, .gtol = 1e-6, .bounds = {.upper = {inf, 0.5, inf}}};
  const Array J = jacobian([&](const Tensor& data) {
    auto [p, s] = im::least_squares(capped, residuals, Tensor(Array{1.0, 0.1, 0.0}), Tensor(t), data);
    REQUIRE(s.status == opt::Status::converged);
    CHECK(p.value()(1) == 0.5);
    return p;
  })(Tensor(y));
  // The reduced fit: b = 0.5 is a constant.
  auto reduced = [](const Tensor& q, const Tensor& tt, const Tensor& yy) {
    return slice(q, 0, 0, 1) * exp(-0.5 * tt) + slice(q, 0, 1, 2) - yy;
  };
  const opt::LevenbergMarquardt free_solver{.ftol = 1e-12, .xtol = 1e-12, .gtol = 1e-6};
  const Array Jr = jacobian([&](const Tensor& data) {
    return im::least_squares(free_solver, reduced, Tensor(Array{1.0, 0.0}), Tensor(t), data).params;
  })(Tensor(y));
  for (std::size_t k = 0; k < 12; ++k) {
    CHECK(J(1, k) == 0.0);
    CHECK(J(0, k) == doctest::Approx(Jr(0, k)).epsilon(1e-7));
    CHECK(J(2, k) == doctest::Approx(Jr(1, k)).epsilon(1e-7));
  }
}

TEST_CASE("least_squares through GaussNewton: the same derivative as through LevenbergMarquardt") {
  const Tensor t(kDecayT), y(decay_data());
  auto through = [&](const auto& solver) {
    return jacobian([&](const Tensor& data) {
      auto [p, s] = im::least_squares(solver, decay_residuals, Tensor(Array{1.0, 1.0, 0.0}), t, data);
      CHECK(s.status == opt::Status::converged);
      return p;
    })(y);
  };
  const Array Jg = through(opt::GaussNewton{.tol = 1e-11});
  const Array Jl = through(opt::LevenbergMarquardt{.ftol = 1e-12, .xtol = 1e-12, .gtol = 1e-6});
  REQUIRE(Jg.shape(0) == 3);
  CHECK(xt::amax(xt::abs(Jg - Jl))() < 1e-6);
  CHECK(xt::amax(xt::abs(Jg))() > 1e-2);  // not trivially zero
}
