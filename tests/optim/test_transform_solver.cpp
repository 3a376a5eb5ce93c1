#include <doctest/doctest.h>

#include <cmath>
#include <type_traits>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
// -sum(x^3): unbounded below; sgd on it grows x doubly exponentially, so the value passes -1e100 while finite.
Tensor negative_cube(const Tensor& x) { return -sum(x * x * x); }
}  // namespace

TEST_CASE("TransformSolver: the transform type is deduced from .opt; defaults as documented") {
  const opt::TransformSolver solver{.opt = opt::adam(1e-3), .maxiter = 1000, .tol = 1e-6};
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(solver.opt)>, decltype(opt::adam(1e-3))>);
  CHECK(solver.maxiter == 1000);
  CHECK(solver.tol == 1e-6);
  CHECK_FALSE(solver.verbose);
  const opt::TransformSolver<decltype(opt::sgd(0.1))> explicit_form{opt::sgd(0.1)};
  CHECK(explicit_form.maxiter == 500);
  CHECK(explicit_form.tol == 1e-5);
}

TEST_CASE("TransformSolver: adam on Rosenbrock 2-D from (-1.2, 1) reaches (1, 1) at tol 1e-6") {
  const opt::TransformSolver solver{.opt = opt::adam(0.1), .maxiter = 5000, .tol = 1e-6};
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  MESSAGE("adam(0.1) on Rosenbrock 2-D: " << state.iter_num << " iterations, " << state.num_fun_eval
                                          << " evaluations");
  CHECK(state.status == opt::Status::converged);
  CHECK(state.error <= 1e-6);
  CHECK(max_abs_diff(x, 1.0) < 1e-5);
  CHECK(state.num_fun_eval == state.iter_num + 1);
  CHECK(state.num_grad_eval == state.num_fun_eval);
  CHECK(state.num_linesearch_iter == 0);
  CHECK(state.error == doctest::Approx(std::sqrt(sum(square(grad(rosenbrock)(x))).item())));
}

TEST_CASE("TransformSolver: the iterates are the transform's own loop; opt_state is the transform's state") {
  const auto adam = opt::adam(0.05);
  const opt::TransformSolver solver{.opt = adam, .maxiter = 25, .tol = 0.0};
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(state.status == opt::Status::max_iterations);
  CHECK(state.iter_num == 25);
  const Tensor by_hand = run(adam, Tensor(Array{-1.2, 1.0}), rosenbrock, 25);
  CHECK(max_abs_diff(x, by_hand) == 0.0);
  // the state holds the transform's state after 25 updates: one more update agrees with the hand loop's
  auto [u, next] = adam.update(grad(rosenbrock)(x), state.opt_state, x);
  const Tensor by_hand26 = run(adam, Tensor(Array{-1.2, 1.0}), rosenbrock, 26);
  CHECK(max_abs_diff(opt::apply_updates(x, u), by_hand26) == 0.0);
  CHECK(tree::repr(state.opt_state) == tree::repr(adam.init(x)));  // same structure (leaves' shapes)
}

TEST_CASE("TransformSolver: sgd on random strongly convex quadratics against A^{-1} b; stepsize is the lr") {
  for (std::uint64_t seed : {9u, 10u}) {
    const auto q = random_quadratic(20, 0.5, seed);
    const opt::TransformSolver solver{.opt = opt::sgd(0.2), .maxiter = 2000, .tol = 1e-9};
    auto [x, state] = solver.run(quadratic_form, Tensor(Array(xt::zeros<double>({20}))), q.A, q.b);
    INFO("seed " << seed);
    CHECK(state.status == opt::Status::converged);
    CHECK(max_abs_diff(x, quadratic_solution(q)) < 1e-8);  // ||x - x*|| <= ||grad|| / mu
    CHECK(state.stepsize == doctest::Approx(0.2).epsilon(1e-12));
    CHECK(state.value == doctest::Approx(quadratic_form(x, q.A, q.b).item()).epsilon(1e-14));
  }
}

TEST_CASE("TransformSolver: leaves are only concatenated: a struct of two leaves gives the raveled iterates") {
  const auto run = check_split_iterates(opt::TransformSolver{.opt = opt::adam(0.05), .tol = 1e-10}, 40);
  CHECK(run.steps == 40);
  CHECK(run.status == opt::Status::running);
}

TEST_CASE("TransformSolver: unbounded objectives never converge; below -1e100 the status is unbounded") {
  // mean(X w - y) has a constant gradient: the run ends at maxiter, not converged
  check_unbounded(opt::TransformSolver{.opt = opt::adam(0.1), .maxiter = 200}, opt::Status::max_iterations);
  const opt::TransformSolver solver{.opt = opt::sgd(0.1), .maxiter = 1000};
  auto [x, state] = solver.run(negative_cube, Tensor(Array{1.0, 2.0}));
  CHECK(state.status == opt::Status::unbounded);
  CHECK(state.value < -1e100);
  CHECK(state.iter_num < 100);
  for (double v : x.value()) CHECK(std::isfinite(v));
}

TEST_CASE("TransformSolver: NaN objectives end with Status::non_finite and the last finite params") {
  check_nan_objectives(opt::TransformSolver{.opt = opt::adam(0.1), .maxiter = 1000});
  // sgd(0.3) on -sum(x) for x < 1: 0, 0.3, 0.6, 0.9, then 1.2 is NaN: the params stay at 0.9
  const opt::TransformSolver solver{.opt = opt::sgd(0.3), .maxiter = 100};
  auto [x, state] = solver.run(nan_past_one, Tensor(Array{0.0, 0.0}));
  CHECK(state.status == opt::Status::non_finite);
  CHECK(state.iter_num == 4);
  CHECK(max_abs_diff(x, 0.9) < 1e-12);
  CHECK(state.value == doctest::Approx(-1.8));
}

TEST_CASE("TransformSolver: maxiter gives Status::max_iterations; counters are consistent") {
  check_max_iterations(opt::TransformSolver{.opt = opt::adam(1e-3)}, false);
}

TEST_CASE("TransformSolver: the callback sees every iteration and can stop the run; verbose prints the table") {
  check_callback_and_verbose(opt::TransformSolver{.opt = opt::adam(1e-3)}, "TransformSolver",
                             Tensor(Array{-1.2, 1.0}));
}

TEST_CASE("TransformSolver: bind and the init_state/update loop give the same run") {
  const opt::TransformSolver solver{.opt = opt::sgd(0.2), .maxiter = 2000, .tol = 1e-9};
  const auto q = random_quadratic(10, 0.5, 11);
  Tensor x(Array(xt::zeros<double>({10})));
  auto state = solver.init_state(quadratic_form, x, q.A, q.b);
  while (state.status == opt::Status::running) {
    auto [xn, sn] = solver.update(quadratic_form, x, state, q.A, q.b);
    x = xn;
    state = sn;
  }
  CHECK(state.status == opt::Status::converged);
  auto [y, s2] = solver.bind(quadratic_form).run(Tensor(Array(xt::zeros<double>({10}))), q.A, q.b);
  CHECK(s2.iter_num == state.iter_num);
  CHECK(max_abs_diff(x, y) == 0.0);
}
