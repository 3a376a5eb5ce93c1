#include <doctest/doctest.h>

#include <cmath>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
// Double well in every coordinate: minima at x_i = +-1, Hessian 3 x^2 - 1 negative near 0.
Tensor double_well(const Tensor& x) { return 0.25 * sum(square(square(x))) - 0.5 * sum(square(x)); }
}  // namespace

TEST_CASE("NewtonCG: Rosenbrock 2-D from (-1.2, 1) to (1, 1)") {
  const opt::NewtonCG solver{.maxiter = 200, .tol = 1e-8};
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  MESSAGE("NewtonCG on Rosenbrock 2-D: " << state.iter_num << " iterations, " << state.num_fun_eval
                                         << " evaluations, " << state.num_hvp_eval << " Hessian-vector products");
  CHECK(state.status == opt::Status::converged);
  CHECK(state.error <= 1e-8);
  CHECK(state.iter_num < 100);
  CHECK(max_abs_diff(x, 1.0) < 1e-7);
  CHECK(state.num_hvp_eval == state.num_cg_iter);
  CHECK(state.num_cg_iter >= state.iter_num);
  // In 2-D the default forcing (eta <= 0.5) often stops CG after one inner iteration, a curvature-scaled
  // steepest-descent step, and the path crosses the region where the Hessian is indefinite; a tight inner solve
  // is plain Newton with a line search (N&W report about 21 iterations).
  const opt::NewtonCG newton{.maxiter = 200, .tol = 1e-8, .max_forcing = 1e-3};
  auto [xn, sn] = newton.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(sn.status == opt::Status::converged);
  CHECK(sn.iter_num < 30);
  CHECK(sn.iter_num < state.iter_num);
  CHECK(max_abs_diff(xn, 1.0) < 1e-7);
}

TEST_CASE("NewtonCG: extended Rosenbrock 100-D, with zoom and with Armijo backtracking") {
  for (auto kind : {opt::LineSearchKind::zoom, opt::LineSearchKind::backtracking}) {
    const opt::NewtonCG solver{.maxiter = 500, .tol = 1e-6, .linesearch = kind};
    auto [x, state] = solver.run(ext_rosenbrock, rosenbrock_start(100));
    INFO("line search " << static_cast<int>(kind) << ": " << to_string(state.status) << " after " << state.iter_num);
    CHECK(state.status == opt::Status::converged);
    CHECK(max_abs_diff(x, 1.0) < 1e-5);
    CHECK(state.iter_num < 100);
  }
}

TEST_CASE("NewtonCG: random strongly convex quadratics against A^{-1} b; one iteration with an exact inner solve") {
  for (std::uint64_t seed : {7u, 8u}) {
    const auto q = random_quadratic(20, 0.5, seed);
    const Tensor exact = quadratic_solution(q);
    const Tensor x0(Array(xt::zeros<double>({20})));
    INFO("seed " << seed);
    const opt::NewtonCG solver{.maxiter = 100, .tol = 1e-10};
    auto [x, state] = solver.run(quadratic_form, x0, q.A, q.b);
    CHECK(state.status == opt::Status::converged);
    CHECK(max_abs_diff(x, exact) < 1e-9);

    const opt::NewtonCG exact_cg{.maxiter = 100, .tol = 1e-9, .max_cg_iter = 200, .max_forcing = 1e-13};
    auto [xe, se] = exact_cg.run(quadratic_form, x0, q.A, q.b);
    CHECK(se.status == opt::Status::converged);
    CHECK(se.iter_num == 1);
    CHECK(se.stepsize == 1.0);  // the full Newton step
    CHECK(se.num_fun_eval == 2);
    CHECK(se.cg_residual <= 1e-13);
    CHECK(max_abs_diff(xe, exact) < 1e-9);
    CHECK(se.num_negative_curvature == 0);

    const opt::LBFGS lbfgs{.maxiter = 100, .tol = 1e-9};
    auto [xl, sl] = lbfgs.run(quadratic_form, x0, q.A, q.b);
    CHECK(sl.status == opt::Status::converged);
    CHECK(sl.iter_num > 5 * se.iter_num);
  }
}

TEST_CASE("NewtonCG: negative curvature stops the inner CG; -grad on the first inner iteration") {
  const opt::NewtonCG solver{.tol = 1e-10};
  Tensor x(Array{0.1, -0.2, 0.05});
  auto state = solver.init_state(double_well, x);
  auto [x1, s1] = solver.update(double_well, x, state);
  CHECK(s1.num_negative_curvature == 1);
  CHECK(s1.num_cg_iter == 1);
  CHECK(s1.num_hvp_eval == 1);
  CHECK(s1.value < state.value);
  // the step went along -grad = x - x^3: every coordinate moved away from 0, keeping its sign
  for (std::size_t i = 0; i < 3; ++i) CHECK(std::abs(at(x1, i)) > std::abs(at(x, i)));
  auto [x2, s2] = solver.run(double_well, x);
  CHECK(s2.status == opt::Status::converged);
  CHECK(max_abs_diff(abs(x2), 1.0) < 1e-10);
  CHECK(at(x2, 0) > 0.0);
  CHECK(at(x2, 1) < 0.0);
}

TEST_CASE("NewtonCG: the init_state/update loop descends; bind gives the same run") {
  const opt::NewtonCG solver{.tol = 1e-9};
  Tensor x = rosenbrock_start(6);
  auto state = solver.init_state(ext_rosenbrock, x);
  CHECK(state.num_fun_eval == 1);
  CHECK(state.num_hvp_eval == 0);
  for (int k = 0; k < 100 && state.status == opt::Status::running; ++k) {
    auto [xn, sn] = solver.update(ext_rosenbrock, x, state);
    CHECK(sn.value <= state.value);
    CHECK(sn.num_hvp_eval > state.num_hvp_eval);
    x = xn;
    state = sn;
  }
  CHECK(state.status == opt::Status::converged);
  auto [y, s2] = solver.bind(ext_rosenbrock).run(rosenbrock_start(6));
  CHECK(s2.iter_num == state.iter_num);
  CHECK(s2.num_hvp_eval == state.num_hvp_eval);
  CHECK(max_abs_diff(x, y) == 0.0);
}

TEST_CASE("NewtonCG: CG is global: a struct of two leaves gives the raveled iterates") {
  const auto run = check_split_iterates(opt::NewtonCG{.tol = 1e-10});
  CHECK(run.steps > 3);
  CHECK(run.status == opt::Status::converged);
}

TEST_CASE("NewtonCG: an objective unbounded below ends unbounded, never converged") {
  check_unbounded(opt::NewtonCG{});
}

TEST_CASE("NewtonCG: NaN objectives end with Status::non_finite and finite params") {
  check_nan_objectives(opt::NewtonCG{});
}

TEST_CASE("NewtonCG: maxiter gives Status::max_iterations; counters are consistent") {
  check_max_iterations(opt::NewtonCG{});
}

TEST_CASE("NewtonCG: the callback sees every iteration and can stop the run; verbose prints the table") {
  check_callback_and_verbose(opt::NewtonCG{}, "NewtonCG", Tensor(Array{-1.2, 1.0}));
}
