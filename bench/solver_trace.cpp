// Reference trace of the gradient solvers (issue 14): every solver with every line search it accepts on the test
// problems of tests/optim (extended Rosenbrock n = 2, 10, 100, 1000, the chained 5-D problem, ridge, logistic
// regression) and every line search on the six More-Thuente functions. One line per run with the counters, the final
// value and error to full precision, the status, the first and last coordinate of the final iterate, a hash of the
// final iterate's bits and a hash of the per-iteration (value, error, stepsize, evaluations) sequence the callback
// sees. A refactor that changes none of these numbers changes no iterate; docs/solver_baseline.txt holds the output
// of the code before issue 14's fixes.
//
//   cmake --build build/release --target solver_trace -j2 && ./build/release/bench/solver_trace > out.txt
#define DOCTEST_CONFIG_DISABLE  // the shared test problems include doctest; no test runs here
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "optim/linesearch_problems.hpp"
#include "optim/solver_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {

// FNV-1a over the bits of doubles and ints: equal hashes mean bit-identical sequences (with overwhelming odds).
struct Hash {
  std::uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  void add(double v) { bytes(&v, sizeof v); }
  void add(int v) { bytes(&v, sizeof v); }
};

// One run: `solver` on f from x0 with extra args; prints the line.
template <class Solver, class F, class... Args>
void trace(const char* solver_name, const std::string& variant, const std::string& problem, Solver solver, const F& f,
           const Tensor& x0, const Args&... args) {
  Hash path;
  solver.callback = [&](const opt::IterationInfo& it) {
    path.add(it.value);
    path.add(it.error);
    path.add(it.stepsize);
    path.add(it.num_fun_eval);
    path.add(static_cast<int>(it.status));
    return false;
  };
  auto [x, s] = solver.run(f, x0, args...);
  Hash final_x;
  const Array& v = x.value();
  for (double e : v) final_x.add(e);
  std::printf("%-15s %-22s %-16s n=%-5zu iter=%-5d nfev=%-6d ngev=%-6d nls=%-6d f=%.17g err=%.17g status=%s "
              "x0=%.17g xn=%.17g hx=%016" PRIx64 " hpath=%016" PRIx64 "\n",
              solver_name, variant.c_str(), problem.c_str(), v.size(), s.iter_num, s.num_fun_eval, s.num_grad_eval,
              s.num_linesearch_iter, s.value, s.error, to_string(s.status).c_str(), v.data()[0], v.data()[v.size() - 1],
              final_x.h, path.h);
}

// Every solver configuration on one problem.
template <class F, class... Args>
void all_solvers(const std::string& problem, double tol, const F& f, const Tensor& x0, const Args&... args) {
  const std::size_t n = x0.size();
  {
    trace("GradientDescent", "backtracking", problem, opt::GradientDescent{.maxiter = 2000, .tol = tol}, f, x0,
          args...);
    trace("GradientDescent", "accelerated", problem,
          opt::GradientDescent{.maxiter = 2000, .tol = tol, .acceleration = true}, f, x0, args...);
  }
  for (auto k : opt::all_line_search_kinds)
    trace("LBFGS", opt::to_string(k), problem, opt::LBFGS{.maxiter = 500, .tol = tol, .linesearch = k}, f, x0, args...);
  if (n <= 1000)
    for (auto k : opt::all_line_search_kinds)
      trace("BFGS", opt::to_string(k), problem, opt::BFGS{.maxiter = 500, .tol = tol, .linesearch = k}, f, x0, args...);
  for (auto k : opt::all_line_search_kinds)
    trace("NonlinearCG", opt::to_string(k), problem, opt::NonlinearCG{.maxiter = 2000, .tol = tol, .linesearch = k}, f, x0,
          args...);
  for (auto [m, name] : {std::pair{opt::NonlinearCGMethod::fletcher_reeves, "zoom/fletcher_reeves"},
                         std::pair{opt::NonlinearCGMethod::hestenes_stiefel, "zoom/hestenes_stiefel"},
                         std::pair{opt::NonlinearCGMethod::dai_yuan, "zoom/dai_yuan"}})
    trace("NonlinearCG", name, problem,
          opt::NonlinearCG{.maxiter = 2000, .tol = tol, .method = m, .powell_restart = true}, f, x0, args...);
  for (auto k : opt::all_line_search_kinds)
    trace("NewtonCG", opt::to_string(k), problem, opt::NewtonCG{.maxiter = 500, .tol = tol, .linesearch = k}, f, x0, args...);
}

template <class LS>
void mt_line(const char* name, const LS& ls, const MTTable& t, double t0) {
  auto r = mt_search(ls, t.k, t0);
  std::printf("linesearch %-13s phi%d t0=%-6g evals=%-3d ok=%d decrease=%d t=%.17g f=%.17g\n", name, t.k, t0,
              r.evaluations, r.ok, r.decrease, r.stepsize, r.value);
}

}  // namespace

int main() {
  // The More-Thuente functions with each table's (mu, eta) as (c1, c2).
  for_each_mt_case([](const MTTable& t, std::size_t, double t0) {
    mt_line("zoom", opt::ZoomLineSearch{.c1 = t.mu, .c2 = t.eta}, t, t0);
    mt_line("backtracking",
            opt::BacktrackingLineSearch{.condition = opt::LineSearchCondition::strong_wolfe, .c1 = t.mu, .c2 = t.eta},
            t, t0);
    mt_line("more_thuente", opt::MoreThuenteLineSearch{.c1 = t.mu, .c2 = t.eta}, t, t0);
    mt_line("hager_zhang", opt::HagerZhangLineSearch{.c1 = std::min(t.mu, t.eta), .c2 = t.eta}, t, t0);
  });

  for (std::size_t n : {2, 10, 100, 1000})
    all_solvers("ext_rosenbrock", 1e-8, ext_rosenbrock, rosenbrock_start(n));
  all_solvers("chained", 1e-10, chained, Tensor(Array{-1.0, 0.5, 2.0, -0.3, 0.8}));
  {
    const auto data = ridge_data(40, 6);
    all_solvers("ridge", 1e-9, ridge, Tensor(Array(xt::zeros<double>({6}))), data.X, data.y, 0.5);
  }
  {
    // tests/optim/test_solver.cpp's L2-regularised logistic regression.
    auto k = xgrad::random::split(xgrad::random::key(5), 2);
    const std::size_t n = 200, d = 8;
    const Tensor X(xgrad::random::normal(k[0], {n, d})), y(xgrad::random::bernoulli(k[1], 0.4, {n}));
    const double lambda = 1e-2;
    auto loss = [&](const Tensor& w) {
      const Tensor z = matmul(X, w);
      return mean(softplus(z) - y * z) + 0.5 * lambda * sum(square(w));
    };
    all_solvers("logistic", 1e-10, loss, Tensor(Array(xt::zeros<double>({d}))));
  }
  return 0;
}
