#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include <xtensor/xcsv.hpp>
#include <xtensor/xview.hpp>

#include "optim/solver_checks.hpp"
#include "optim/lasso_sklearn_reference.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
// 1/(2n) ||y - X w||^2: the smooth part of the lasso (scikit-learn's scaling).
Tensor least_squares(const Tensor& w, const Tensor& X, const Tensor& y) {
  const double n = double(X.shape()[0]);
  return sum(square(y - matmul(X, w))) / (2.0 * n);
}
std::pair<Array, Array> diabetes() {
  std::ifstream in(XGRAD_DATA_DIR "/diabetes.csv");
  REQUIRE(in);
  const Array t = xt::load_csv<double>(in, ',', 1);
  Array X = xt::view(t, xt::all(), xt::range(0, 10)), y = xt::view(t, xt::all(), 10);
  y -= xt::mean(y)();
  return {X, y};
}
}  // namespace

TEST_CASE("ProximalGradient: the lasso on the diabetes data matches scikit-learn along the penalty path") {
  const auto [X, y] = diabetes();
  const Tensor Xt(X), yt(y);
  for (const auto& point : lasso_reference::path) {
    CAPTURE(point.alpha);
    const opt::ProximalGradient solver{.maxiter = 100000, .tol = 1e-9, .prox = opt::prox_lasso(point.alpha)};
    auto [w, state] = solver.run(least_squares, Tensor(Array(xt::zeros<double>({10}))), Xt, yt);
    CHECK(state.status == opt::Status::converged);
    const double objective = state.value + point.alpha * xt::sum(xt::abs(w.value()))();
    CHECK(objective == doctest::Approx(point.objective).epsilon(1e-9));
    for (std::size_t j = 0; j < 10; ++j) {
      CAPTURE(j);
      CHECK((w.value()(j) == 0.0) == (point.w[j] == 0.0));  // the same support
      CHECK(w.value()(j) == doctest::Approx(point.w[j]).epsilon(1e-5));
    }
    MESSAGE("alpha " << point.alpha << ": " << state.iter_num << " iterations, " << state.num_fun_eval
                     << " evaluations");
  }
}

TEST_CASE("ProximalGradient: projected gradient on a box, the error is the gradient mapping") {
  // min 0.5 ||x - c||^2 over [0, 1]^3 with c outside the box: the solution is clip(c).
  const Tensor c(Array{1.7, -0.4, 0.3});
  const auto f = [](const Tensor& x, const Tensor& c_) { return 0.5 * sum(square(x - c_)); };
  for (bool acceleration : {true, false}) {
    CAPTURE(acceleration);
    const opt::ProximalGradient solver{.tol = 1e-12,
                                       .prox = opt::make_prox_from_projection(opt::projection_box(0.0, 1.0)),
                                       .acceleration = acceleration};
    auto [x, state] = solver.run(f, Tensor(Array{0.5, 0.5, 0.5}), c);
    CHECK(state.status == opt::Status::converged);
    CHECK(xt::allclose(x.value(), Array{1.0, 0.0, 0.3}, 1e-12, 1e-12));
    // The gradient is not zero at the solution (active bounds), the gradient mapping is.
    CHECK(flat::norm2(flat::values(state.grad)) > 0.5);
    CHECK(state.error <= 1e-12);
  }
  // Without a prox it is gradient descent: error = ||grad||.
  auto s0 = opt::ProximalGradient{}.init_state(f, Tensor(Array{0.5, 0.5, 0.5}), c);
  CHECK(s0.error == doctest::Approx(flat::norm2(flat::values(s0.grad))).epsilon(1e-15));
}

TEST_CASE("ProximalGradient: honest statuses on bad input") {
  const auto f = [](const Tensor& x) { return sum(square(x)); };
  // NaN in the start: non_finite at once.
  auto [x, s] = opt::ProximalGradient{.prox = opt::prox_lasso(0.1)}.run(f, Tensor(Array{std::nan(""), 1.0}));
  CHECK(s.status == opt::Status::non_finite);
  // An objective that is NaN away from the start: the search backtracks, then reports what it found.
  const auto g = [](const Tensor& x) { return sum(square(x)) + sum(log(1.0 - x)); };  // NaN for x > 1
  auto [x2, s2] = opt::ProximalGradient{.maxiter = 200, .prox = opt::prox_lasso(0.01)}.run(g, Tensor(Array{0.5, -0.5}));
  CHECK(s2.status != opt::Status::running);
  CHECK(flat::all_finite(flat::values(x2)));
  CHECK_THROWS_AS(opt::ProximalGradient{.maxls = 0}.run(f, Tensor(Array{1.0})), ValueError);
}

TEST_CASE("ProximalGradient: the solver contract (global inner products, NaN, max_iterations, callback, verbose)") {
  for (bool acceleration : {true, false}) {
    CAPTURE(acceleration);
    const opt::ProximalGradient solver{.tol = 1e-8, .prox = opt::prox_lasso(0.01), .acceleration = acceleration};
    const SplitRun split = check_split_iterates(solver);
    CHECK(split.steps > 3);
    // NaN everywhere: non_finite at once. NaN past x = 1 with f decreasing towards it: the search backtracks out
    // of the NaN region at every step, so the run creeps up to the boundary and ends without claiming success
    // (max_iterations or stalled; the descents of solver_checks.hpp end non_finite there instead).
    auto [x0, s0] = solver.run(nan_everywhere, Tensor(Array{1.0, 2.0}));
    CHECK(s0.status == opt::Status::non_finite);
    CHECK(s0.iter_num == 0);
    auto [x1, s1] = solver.run(nan_past_one, Tensor(Array{0.0, 0.0}));
    CHECK(s1.status != opt::Status::converged);
    CHECK(s1.status != opt::Status::running);
    for (double v : x1.value()) CHECK((std::isfinite(v) && v < 1.0));
    CHECK(s1.value == doctest::Approx(nan_past_one(x1).item()));
  }
  check_max_iterations(opt::ProximalGradient{.acceleration = false});
  check_callback_and_verbose(opt::ProximalGradient{}, "ProximalGradient", Tensor(Array{-1.2, 1.0}));
}
