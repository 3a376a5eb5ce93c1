#include <doctest/doctest.h>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
template <class Solver>
void every_line_search(Solver solver, const char* name) {
  for (auto kind : {opt::LineSearchKind::zoom, opt::LineSearchKind::backtracking, opt::LineSearchKind::more_thuente,
                    opt::LineSearchKind::hager_zhang}) {
    solver.linesearch = kind;
    auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
    INFO(name << " with line search " << static_cast<int>(kind) << ": " << to_string(state.status) << " after "
              << state.iter_num << " iterations, " << state.num_fun_eval << " evaluations");
    CHECK(state.status == opt::Status::converged);
    CHECK(max_abs_diff(x, 1.0) < 1e-5);
    CHECK(state.num_linesearch_iter > 0);
  }
}
}  // namespace

TEST_CASE("solvers: every solver with every line search reaches the Rosenbrock minimum") {
  every_line_search(opt::LBFGS{.maxiter = 500, .tol = 1e-8}, "LBFGS");
  every_line_search(opt::BFGS{.maxiter = 500, .tol = 1e-8}, "BFGS");
  every_line_search(opt::NonlinearCG{.maxiter = 2000, .tol = 1e-8}, "NonlinearCG");
  every_line_search(opt::NewtonCG{.maxiter = 500, .tol = 1e-8}, "NewtonCG");
}
