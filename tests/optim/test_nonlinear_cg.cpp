#include <doctest/doctest.h>

#include <cmath>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
constexpr opt::NonlinearCGMethod methods[] = {opt::NonlinearCGMethod::fletcher_reeves,
                                              opt::NonlinearCGMethod::polak_ribiere,
                                              opt::NonlinearCGMethod::hestenes_stiefel,
                                              opt::NonlinearCGMethod::dai_yuan};
}  // namespace

TEST_CASE("NonlinearCG: defaults as documented") {
  const opt::NonlinearCG solver;
  CHECK(solver.method == opt::NonlinearCGMethod::polak_ribiere);
  CHECK(solver.linesearch.get<opt::ZoomLineSearch>().c2 == 0.1);
  CHECK(solver.linesearch == opt::LineSearchKind::zoom);
  CHECK(solver.restart_every == 0);
}

TEST_CASE("NonlinearCG: Rosenbrock 2-D from (-1.2, 1) to (1, 1), PR+ and the other methods") {
  const opt::NonlinearCG solver{.maxiter = 1000, .tol = 1e-8};
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  MESSAGE("PR+ on Rosenbrock 2-D: " << state.iter_num << " iterations, " << state.num_fun_eval << " evaluations");
  CHECK(state.status == opt::Status::converged);
  CHECK(state.error <= 1e-8);
  CHECK(state.iter_num < 200);
  CHECK(max_abs_diff(x, 1.0) < 1e-7);
  CHECK(state.value < 1e-14);
  for (auto method : methods) {
    opt::NonlinearCG m{.maxiter = 2000, .tol = 1e-8, .method = method};
    auto [xm, sm] = m.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
    INFO("method " << static_cast<int>(method) << ": " << to_string(sm.status) << " after " << sm.iter_num);
    CHECK(sm.status == opt::Status::converged);
    CHECK(max_abs_diff(xm, 1.0) < 1e-6);
  }
}

TEST_CASE("NonlinearCG: extended Rosenbrock 100-D, every method, with zoom and with strong-Wolfe backtracking") {
  for (auto method : methods) {
    for (auto kind : {opt::LineSearchKind::zoom, opt::LineSearchKind::backtracking}) {
      const opt::NonlinearCG solver{.maxiter = 3000, .tol = 1e-6, .method = method, .linesearch = kind};
      auto [x, state] = solver.run(ext_rosenbrock, rosenbrock_start(100));
      INFO("method " << static_cast<int>(method) << ", line search " << static_cast<int>(kind) << ": "
                     << to_string(state.status) << " after " << state.iter_num);
      CHECK(state.status == opt::Status::converged);
      CHECK(state.error <= 1e-6);
      CHECK(max_abs_diff(x, 1.0) < 1e-5);
      CHECK(state.descent_direction.size() == 100);
    }
  }
}

// tol 1e-10: the last steps decrease f (-23 here) by less than its rounding level; the zoom search then follows
// the slope (Hager & Zhang's approximate Wolfe regime).
TEST_CASE("NonlinearCG: random strongly convex quadratics against A^{-1} b; restarts as asked") {
  for (std::uint64_t seed : {3u, 4u}) {
    const auto q = random_quadratic(30, 0.5, seed);
    const Tensor exact = quadratic_solution(q);
    for (auto method : methods) {
      const opt::NonlinearCG solver{.maxiter = 500, .tol = 1e-10, .method = method};
      auto [x, state] = solver.run(quadratic_form, Tensor(Array(xt::zeros<double>({30}))), q.A, q.b);
      INFO("seed " << seed << ", method " << static_cast<int>(method));
      CHECK(state.status == opt::Status::converged);
      CHECK(max_abs_diff(x, exact) < 1e-9);  // ||x - x*|| <= ||grad|| / mu
      // On a quadratic with (nearly) exact line searches CG terminates in about n steps, far below maxiter.
      CHECK(state.iter_num <= 60);
    }
  }
  const auto q = random_quadratic(30, 0.5, 3);
  const opt::NonlinearCG every5{.maxiter = 500, .tol = 1e-10, .restart_every = 5};
  auto [x5, s5] = every5.run(quadratic_form, Tensor(Array(xt::zeros<double>({30}))), q.A, q.b);
  CHECK(s5.status == opt::Status::converged);
  CHECK(s5.num_restarts >= s5.iter_num / 5 - 1);
  const opt::NonlinearCG powell{.maxiter = 500, .tol = 1e-10, .powell_restart = true};
  auto [xp, sp] = powell.run(quadratic_form, Tensor(Array(xt::zeros<double>({30}))), q.A, q.b);
  CHECK(sp.status == opt::Status::converged);
  CHECK(max_abs_diff(xp, quadratic_solution(q)) < 1e-9);
}

TEST_CASE("NonlinearCG: the init_state/update loop descends; the direction stays a descent direction") {
  const opt::NonlinearCG solver{.tol = 1e-9};
  Tensor x = rosenbrock_start(6);
  auto state = solver.init_state(ext_rosenbrock, x);
  CHECK(state.num_fun_eval == 1);
  CHECK(state.stepsize == 0.0);
  CHECK(max_abs_diff(Tensor(state.descent_direction), Tensor(-grad(ext_rosenbrock)(x).value())) == 0.0);
  for (int k = 0; k < 500 && state.status == opt::Status::running; ++k) {
    auto [xn, sn] = solver.update(ext_rosenbrock, x, state);
    CHECK(sn.value <= state.value);
    CHECK(flat::dot(sn.descent_direction, flat::values(sn.grad)) < 0.0);
    x = xn;
    state = sn;
  }
  CHECK(state.status == opt::Status::converged);
  auto [y, s2] = solver.bind(ext_rosenbrock).run(rosenbrock_start(6));
  CHECK(s2.iter_num == state.iter_num);
  CHECK(max_abs_diff(x, y) == 0.0);
}

// Fletcher-Reeves and Dai-Yuan jam on this problem without restarts (hundreds of tiny steps): Powell's restart
// fixes it.
TEST_CASE("NonlinearCG: inner products are global: a struct of two leaves gives the raveled iterates") {
  for (auto method : methods) {
    const auto run = check_split_iterates(opt::NonlinearCG{.tol = 1e-10, .method = method, .powell_restart = true});
    CHECK(run.steps > 5);
    CHECK(run.status == opt::Status::converged);
  }
}

TEST_CASE("NonlinearCG: an objective unbounded below ends unbounded, never converged") {
  check_unbounded(opt::NonlinearCG{});
}

TEST_CASE("NonlinearCG: NaN objectives end with Status::non_finite and finite params") {
  check_nan_objectives(opt::NonlinearCG{});
}

TEST_CASE("NonlinearCG: maxiter gives Status::max_iterations; counters are consistent") {
  check_max_iterations(opt::NonlinearCG{});
}

TEST_CASE("NonlinearCG: the callback sees every iteration and can stop the run; verbose prints the table") {
  check_callback_and_verbose(opt::NonlinearCG{}, "NonlinearCG", Tensor(Array{-1.2, 1.0}));
}
