#pragma once
// Checks every jaxopt-style solver must pass (LBFGS, BFGS, NonlinearCG, NewtonCG, TransformSolver), written once:
// each solver's suite calls them with its own options.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "optim/solver_problems.hpp"

namespace xgrad::testing {

/// Everything `fn()` writes to the C stdout (the solvers' verbose table), captured through a temporary file.
template <class Fn>
std::string capture_stdout(Fn&& fn) {
  std::fflush(stdout);
  const int saved = dup(fileno(stdout));
  std::FILE* tmp = std::tmpfile();
  REQUIRE(saved >= 0);
  REQUIRE(tmp != nullptr);
  dup2(fileno(tmp), fileno(stdout));
  fn();
  std::fflush(stdout);
  dup2(saved, fileno(stdout));
  close(saved);
  std::rewind(tmp);
  std::string out;
  for (int c = std::fgetc(tmp); c != EOF; c = std::fgetc(tmp)) out += static_cast<char>(c);
  std::fclose(tmp);
  return out;
}

/// The result of check_split_iterates: steps compared and the final status of the one-leaf run.
struct SplitRun {
  int steps = 0;
  optim::Status status = optim::Status::running;
};

/// Stepping `solver` with update() on `chained` (one leaf) and on `chained_split` (the same 5 values in two leaves)
/// gives the same iterates, steps and evaluation counts: the solver's inner products are global over the leaves.
template <class Solver>
SplitRun check_split_iterates(const Solver& solver, int max_steps = 60) {
  Tensor x(Array{-1.0, 0.5, 2.0, -0.3, 0.8});
  Split p{Tensor(Array{-1.0, 0.5}), Tensor(Array{2.0, -0.3, 0.8})};
  auto sx = solver.init_state(chained, x);
  auto sp = solver.init_state(chained_split, p);
  int steps = 0;
  for (; steps < max_steps && sx.status == optim::Status::running; ++steps) {
    auto [xn, sxn] = solver.update(chained, x, sx);
    auto [pn, spn] = solver.update(chained_split, p, sp);
    x = xn, sx = sxn, p = pn, sp = spn;
    const Tensor joined = concatenate({p.head, p.tail});
    INFO("iteration " << steps);
    REQUIRE(max_abs_diff(x, joined) <= 1e-13 * (1.0 + max_abs_diff(x, 0.0)));
    REQUIRE(sp.stepsize == doctest::Approx(sx.stepsize).epsilon(1e-12));
    REQUIRE(sp.num_fun_eval == sx.num_fun_eval);
    REQUIRE(sp.status == sx.status);
  }
  CHECK(tree::repr(sp.grad) == "Split(head=f64[2], tail=f64[3])");
  return {steps, sx.status};
}

/// NaN everywhere ends at once with Status::non_finite; an objective that is NaN past x = 1 ends non_finite with
/// finite params (below 1) and a finite value.
template <class Solver>
void check_nan_objectives(const Solver& solver) {
  auto [x0, s0] = solver.run(nan_everywhere, Tensor(Array{1.0, 2.0}));
  CHECK(s0.status == optim::Status::non_finite);
  CHECK(s0.iter_num == 0);

  auto [x, state] = solver.run(nan_past_one, Tensor(Array{0.0, 0.0}));
  CHECK(state.status == optim::Status::non_finite);
  for (double v : x.value()) {
    CHECK(std::isfinite(v));
    CHECK(v < 1.0);
  }
  CHECK(std::isfinite(state.value));
  CHECK(state.value == doctest::Approx(nan_past_one(x).item()));
}

/// mean(X w - y), unbounded below, ends with Status `expected` (never converged) and finite params.
template <class Solver>
void check_unbounded(const Solver& solver, optim::Status expected = optim::Status::unbounded) {
  const auto data = ridge_data(20, 3);
  auto [w, state] = solver.run(linear_loss, Tensor(Array(xt::zeros<double>({3}))), data.X, data.y);
  CHECK(state.status == expected);
  CHECK(state.status != optim::Status::converged);
  CHECK(state.error > solver.tol);
  for (double v : w.value()) CHECK(std::isfinite(v));
}

/// maxiter iterations give Status::max_iterations, and the state's value, error and counters tell the truth.
/// `line_search`: every evaluation after the first is a line-search trial (else none is).
template <class Solver>
void check_max_iterations(Solver solver, bool line_search = true) {
  solver.maxiter = 5;
  solver.tol = 1e-12;
  auto [x, state] = solver.run(ext_rosenbrock, rosenbrock_start(10));
  CHECK(state.status == optim::Status::max_iterations);
  CHECK(state.iter_num == 5);
  CHECK(state.num_fun_eval >= state.iter_num + 1);
  CHECK(state.num_grad_eval == state.num_fun_eval);
  if (line_search)
    CHECK(state.num_linesearch_iter == state.num_fun_eval - 1);  // all but the initial evaluation
  else
    CHECK(state.num_linesearch_iter == 0);
  CHECK(state.error == doctest::Approx(std::sqrt(sum(square(grad(ext_rosenbrock)(x))).item())));
  CHECK(state.value == doctest::Approx(ext_rosenbrock(x).item()));
  CHECK(state.value < ext_rosenbrock(rosenbrock_start(10)).item());
}

/// A callback that asks to stop after 3 iterations stops the run (status running, not success); it sees every
/// iteration, and the last IterationInfo matches the final state. With `verbose`, the table has a title line
/// `name`, a header and one line per iteration (0 to 3), the last showing the final value.
template <class Solver, class P>
void check_callback_and_verbose(Solver solver, const char* name, const P& x0) {
  std::vector<optim::IterationInfo> seen;
  solver.verbose = true;
  solver.callback = [&](const optim::IterationInfo& info) {
    seen.push_back(info);
    return info.iter_num >= 3;
  };
  decltype(solver.run(rosenbrock, x0)) run;
  const std::string out = capture_stdout([&] { run = solver.run(rosenbrock, x0); });
  const auto& state = run.state;
  CHECK(state.iter_num == 3);
  CHECK(state.status == optim::Status::running);  // stopped early: not success
  REQUIRE(seen.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(seen[k].iter_num == static_cast<int>(k) + 1);
    CHECK(seen[k].num_fun_eval >= seen[k].iter_num);
    if (k > 0) CHECK(seen[k].value <= seen[k - 1].value);
  }
  const optim::IterationInfo& last = seen.back();
  CHECK(last.iter_num == state.iter_num);
  CHECK(last.value == state.value);
  CHECK(last.error == state.error);
  CHECK(last.stepsize == state.stepsize);
  CHECK(last.num_fun_eval == state.num_fun_eval);
  CHECK(last.num_grad_eval == state.num_grad_eval);
  CHECK(last.num_linesearch_iter == state.num_linesearch_iter);
  CHECK(last.status == state.status);

  std::vector<std::string> lines;
  for (std::size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1)
    lines.push_back(out.substr(pos, nl - pos));
  REQUIRE(lines.size() == 6);  // title, header, iterations 0..3
  CHECK(lines[0] == name);
  CHECK(lines[1].find("iter") != std::string::npos);
  CHECK(lines[1].find("error") != std::string::npos);
  char value[64];
  std::snprintf(value, sizeof value, "%16.9e", state.value);
  CHECK(lines[5].find(value) != std::string::npos);
  CHECK(lines[5].find("     3 ") == 0);
}

}  // namespace xgrad::testing
