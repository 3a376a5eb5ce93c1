// xgrad's LevenbergMarquardt beside Ceres Solver's (Debian's libceres-dev 2.1; optional: built when CMake finds Ceres,
// see bench/README.md), on the same problems:
//
//   the table (printed first): the 28 Moré-Garbow-Hillstrom least-squares problems (tests/optim/mgh_problems.hpp)
//     from their standard starts, Ceres given the same residuals and the same Jacobians (a CostFunction that calls
//     xgrad): solved or not, final sum of squares, residual and Jacobian evaluations, for both. So the comparison is
//     of the algorithms: trust-region rules, scaling, stopping.
//   BM_mgh_xgrad, BM_mgh_ceres: the time to solve all 28, each.
//   BM_fit_xgrad/m, BM_fit_ceres/m: y = a exp(-b t) + c fitted to m points (bench_least_squares.cpp's data), each
//     written as its users would: xgrad's residuals with ops (one Tensor of m residuals, the Jacobian by AD), Ceres's
//     one AutoDiffCostFunction block per point (Jets, the Ceres idiom), DENSE_QR. Counters: nfev, njev, cost.
//
// Both at matching tolerances: xgrad's ftol = xtol = 1e-8 (scipy's defaults), gtol 1e-10; Ceres's
// function_tolerance 1e-8, parameter_tolerance 1e-8, gradient_tolerance 1e-10, at most 100 (n + 1) iterations.
#define DOCTEST_CONFIG_DISABLE  // the shared MGH problems include doctest; no test runs here
#include <ceres/ceres.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <xtensor/xadapt.hpp>

#include "optim/mgh_problems.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;
namespace opt = xgrad::optim;
using xgrad::testing::MGHProblem;

// The residuals of an MGH problem and their Jacobian from xgrad, as a Ceres cost function of one parameter block.
class XgradCost final : public ceres::CostFunction {
 public:
  explicit XgradCost(const MGHProblem& p) : problem_(p) {
    Array x0 = Array::from_shape({p.x0.size()});
    std::copy(p.x0.begin(), p.x0.end(), x0.begin());
    set_num_residuals(static_cast<int>(p.residuals(Tensor(x0)).size()));
    mutable_parameter_block_sizes()->push_back(static_cast<int>(p.x0.size()));
  }
  bool Evaluate(double const* const* parameters, double* residuals, double** jacobians) const override {
    const std::size_t n = problem_.x0.size(), m = static_cast<std::size_t>(num_residuals());
    Array x = Array::from_shape({n});
    std::copy(parameters[0], parameters[0] + n, x.begin());
    const Array r = problem_.residuals(Tensor(x)).value();
    std::copy(r.begin(), r.end(), residuals);
    if (jacobians && jacobians[0]) {
      const Array J = xgrad::jacobian(problem_.residuals)(Tensor(x));  // m x n, row-major as Ceres wants
      std::copy(J.begin(), J.begin() + static_cast<std::ptrdiff_t>(m * n), jacobians[0]);
    }
    return std::isfinite(xt::sum(r)());
  }

 private:
  const MGHProblem& problem_;
};

ceres::Solver::Options ceres_options(std::size_t n) {
  ceres::Solver::Options o;
  o.trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  o.linear_solver_type = ceres::DENSE_QR;
  o.function_tolerance = 1e-8;
  o.parameter_tolerance = 1e-8;
  o.gradient_tolerance = 1e-10;
  o.max_num_iterations = static_cast<int>(100 * (n + 1));
  o.logging_type = ceres::SILENT;
  return o;
}
const opt::LevenbergMarquardt kXgrad{.ftol = 1e-8, .xtol = 1e-8, .gtol = 1e-10};

struct Outcome {
  double f = NAN;  // sum of squares at the end
  int nfev = 0, njev = 0;
  std::string status;
};
Outcome solve_xgrad(const MGHProblem& p) {
  Array x0 = Array::from_shape({p.x0.size()});
  std::copy(p.x0.begin(), p.x0.end(), x0.begin());
  auto [x, s] = kXgrad.run(p.residuals, Tensor(x0));
  std::string status = opt::to_string(s.status);
  if (s.status == opt::Status::converged) status += " " + opt::to_string(s.converged_by);
  return {2.0 * s.value, s.num_fun_eval, s.num_jac_eval, status};
}
Outcome solve_ceres(const MGHProblem& p) {
  std::vector<double> x = p.x0;
  ceres::Problem problem;
  problem.AddResidualBlock(new XgradCost(p), nullptr, x.data());
  ceres::Solver::Summary summary;
  ceres::Solve(ceres_options(x.size()), &problem, &summary);
  std::string status = summary.termination_type == ceres::CONVERGENCE ? "convergence"
                       : summary.termination_type == ceres::NO_CONVERGENCE ? "no_convergence"
                                                                              : "failure";
  return {2.0 * summary.final_cost, summary.num_residual_evaluations, summary.num_jacobian_evaluations, status};
}
bool solved(const MGHProblem& p, double f) {
  for (double m : p.minima)
    if (std::abs(f - m) <= 1e-6 * std::max(1.0, std::abs(m))) return true;
  return false;
}

void print_table() {
  const auto& problems = xgrad::testing::mgh_problems();
  std::printf("%2s %-26s | %12s %5s %5s %-14s | %12s %5s %5s %s\n", "#", "MGH problem", "xgrad f", "nfev", "njev",
              "status", "Ceres f", "nfev", "njev", "status");
  int sx = 0, sc = 0, fx = 0, jx = 0, fc = 0, jc = 0;
  for (const auto& p : problems) {
    const Outcome a = solve_xgrad(p), b = solve_ceres(p);
    const bool oa = solved(p, a.f), ob = solved(p, b.f);
    sx += oa;
    sc += ob;
    fx += a.nfev;
    jx += a.njev;
    fc += b.nfev;
    jc += b.njev;
    std::printf("%2d %-26s | %12.5e %5d %5d %-14s%s | %12.5e %5d %5d %s%s\n", p.number, p.name.c_str(), a.f, a.nfev,
                a.njev, a.status.c_str(), oa ? "" : " !", b.f, b.nfev, b.njev, b.status.c_str(), ob ? "" : " !");
  }
  std::printf("solved (f at a known minimum to 1e-6): xgrad %d/28, nfev %d, njev %d | Ceres %d/28, nfev %d, njev %d\n\n",
              sx, fx, jx, sc, fc, jc);
}

void BM_mgh_xgrad(benchmark::State& state) {
  for (auto _ : state)
    for (const auto& p : xgrad::testing::mgh_problems()) benchmark::DoNotOptimize(solve_xgrad(p));
}
void BM_mgh_ceres(benchmark::State& state) {
  for (auto _ : state)
    for (const auto& p : xgrad::testing::mgh_problems()) benchmark::DoNotOptimize(solve_ceres(p));
}

// The exponential fit of bench_least_squares.cpp.
struct Curve {
  std::vector<double> t, y;
};
Curve curve(std::size_t m) {
  Curve c{std::vector<double>(m), std::vector<double>(m)};
  for (std::size_t i = 0; i < m; ++i) {
    c.t[i] = 5.0 * double(i) / double(m - 1);
    c.y[i] = 2.0 * std::exp(-0.7 * c.t[i]) + 0.5 + 0.05 * std::sin(37.0 * double(i));
  }
  return c;
}
Tensor fit_residuals(const Tensor& p, const Tensor& t, const Tensor& y) {
  const Tensor a = xgrad::slice(p, 0, 0, 1), b = xgrad::slice(p, 0, 1, 2), c = xgrad::slice(p, 0, 2, 3);
  return a * xgrad::exp(-b * t) + c - y;
}
struct ExpResidual {  // one point, as Ceres's users write it
  double t, y;
  template <class T>
  bool operator()(const T* p, T* r) const {
    r[0] = p[0] * exp(-p[1] * T(t)) + p[2] - T(y);
    return true;
  }
};

void BM_fit_xgrad(benchmark::State& state) {
  const Curve c = curve(std::size_t(state.range(0)));
  const std::vector<std::size_t> shape{c.t.size()};
  const Tensor t(Array(xt::adapt(c.t, shape))), y(Array(xt::adapt(c.y, shape)));
  opt::LevenbergMarquardtState<Tensor> s;
  for (auto _ : state) {
    auto r = kXgrad.run(fit_residuals, Tensor(Array{1.0, 1.0, 0.0}), t, y);
    s = std::move(r.state);
    benchmark::DoNotOptimize(r.params);
  }
  state.counters["nfev"] = s.num_fun_eval;
  state.counters["njev"] = s.num_jac_eval;
  state.counters["cost"] = s.value;
}
void BM_fit_ceres(benchmark::State& state) {
  const Curve c = curve(std::size_t(state.range(0)));
  double p[3];
  ceres::Problem problem;
  for (std::size_t i = 0; i < c.t.size(); ++i)
    problem.AddResidualBlock(new ceres::AutoDiffCostFunction<ExpResidual, 1, 3>(new ExpResidual{c.t[i], c.y[i]}),
                             nullptr, p);
  const auto options = ceres_options(3);
  ceres::Solver::Summary summary;
  for (auto _ : state) {
    p[0] = 1.0, p[1] = 1.0, p[2] = 0.0;
    ceres::Solve(options, &problem, &summary);
    benchmark::DoNotOptimize(p);
  }
  state.counters["nfev"] = summary.num_residual_evaluations;
  state.counters["njev"] = summary.num_jacobian_evaluations;
  state.counters["cost"] = summary.final_cost;
}

}  // namespace

BENCHMARK(BM_mgh_xgrad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mgh_ceres)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fit_xgrad)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fit_ceres)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  print_table();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
