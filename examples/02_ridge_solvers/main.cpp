// 02_ridge_solvers: ridge regression solved three ways — LBFGS, adam run to tolerance by TransformSolver, and the
// closed form — on the diabetes data, with the model as a plain struct (a pytree). Then the two traps of the
// notebook this project started from, run for real: a data loss without its square (unbounded below), and the
// hyperparameter passed inside the solver's parameters (the solver then optimises it too).
//
// Run: ./example_02_ridge_solvers           (writes convergence.csv and, with gnuplot, convergence.png)
//      ./example_02_ridge_solvers --smoke   (the ctest: checks the solvers against the closed form and the traps)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <vector>
#include <xgrad/xgrad.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include "../data.hpp"
#include "../plot.hpp"

using xgrad::Array;
using xgrad::Tensor;
namespace opt = xgrad::optim;

// The model: y_pred = X weight^T + bias, weight of shape (1, 10) as a 10 -> 1 linear layer has it.
struct Linear {
  Tensor weight, bias;
};
static Linear init_linear(xgrad::random::Key key, std::size_t in) {
  return {Tensor(xgrad::random::normal(key, {1, in}, 0.0, 1.0 / std::sqrt(double(in)))),
          Tensor(Array(xt::zeros<double>({1})))};
}
static Tensor predict(const Linear& m, const Tensor& X) {
  return xgrad::reshape(xgrad::matmul(X, xgrad::transpose(m.weight)), {-1}) + m.bias;
}

// The loss of the notebook: data loss (mean squared error) + 0.5 alpha ||weight||^2 (the bias is not penalised).
// The model is the first argument (what the solver optimises); alpha and the data are extra arguments.
static Tensor ridge_loss(const Linear& m, const Tensor& alpha, const Tensor& X, const Tensor& y) {
  return xgrad::mean(xgrad::square(predict(m, X) - y)) + 0.5 * alpha * xgrad::sum(xgrad::square(m.weight));
}

// Trap 1: the data loss written without its square. Linear in the weights: unbounded below.
static Tensor no_square_loss(const Linear& m, const Tensor& alpha, const Tensor& X, const Tensor& y) {
  return xgrad::mean(predict(m, X) - y) + 0.5 * alpha * xgrad::sum(xgrad::square(m.weight));
}

// Trap 2: the hyperparameter inside the parameters, as a struct holding alpha and the model.
struct Ridge {
  Tensor alpha;
  Linear model;
};
static Tensor ridge_struct_loss(const Ridge& r, const Tensor& X, const Tensor& y) {
  return ridge_loss(r.model, r.alpha, X, y);
}

// Closed form: with centred columns (the file's are) the bias is mean(y) and
// weight = (X^T X / n + alpha / 2 I)^{-1} X^T (y - mean y) / n   (the loss is mean((Xw + b - y)^2) + alpha/2 ||w||^2).
static Linear closed_form(const Array& X, const Array& y, double alpha) {
  const double n = double(X.shape()[0]);
  Array H = xt::linalg::dot(xt::transpose(X), X) / n;
  for (std::size_t i = 0; i < H.shape()[0]; ++i) H(i, i) += alpha / 2;
  const double mu = xt::mean(y)();
  const Array w = xt::linalg::solve(H, Array(xt::linalg::dot(xt::transpose(X), Array(y - mu)) / n));
  return {Tensor(Array(xt::reshape_view(w, {std::size_t(1), w.size()}))), Tensor(Array{mu})};
}
static double max_diff(const Linear& a, const Linear& b) {
  return std::max(xt::amax(xt::abs(a.weight.value() - b.weight.value()))(),
                  xt::amax(xt::abs(a.bias.value() - b.bias.value()))());
}

template <class S>
static void print_state(const char* name, const S& s) {
  std::printf("%s: iter_num %d, value %.10g, error (||grad||) %.3e, stepsize %.3e, status %s\n", name, s.iter_num,
              s.value, s.error, s.stepsize, opt::to_string(s.status).c_str());
}

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  // Diabetes: 442 x 10 features with zero-mean unit-norm columns, scaled here to unit variance; target standardised.
  const auto data = example::split_xy(example::load_csv(example::data_path("diabetes.csv")));
  const double n = double(data.X.shape()[0]);
  const Array Xa = data.X * std::sqrt(n);
  const Array ya = (data.y - xt::mean(data.y)()) / xt::stddev(data.y)();
  const Tensor X(Xa), y(ya), alpha(0.1);

  const Linear model0 = init_linear(xgrad::random::key(42), 10);
  const Linear exact = closed_form(Xa, ya, alpha.item());
  std::printf("diabetes: %zu rows, %zu features; alpha = %.2f\n", data.X.shape()[0], data.X.shape()[1], alpha.item());
  std::printf("initial model: ");
  xgrad::tree::print(std::cout, model0);
  std::printf("\n\n");

  // 1. LBFGS. The model is the solver's parameter; alpha and the data pass through as extra arguments.
  std::vector<double> lbfgs_err;
  opt::LBFGS lbfgs{.maxiter = 100, .tol = 1e-10};
  lbfgs.callback = [&](const opt::IterationInfo& it) {
    lbfgs_err.push_back(it.error);
    return false;
  };
  auto [m_lbfgs, s_lbfgs] = lbfgs.run(ridge_loss, model0, alpha, X, y);
  print_state("LBFGS", s_lbfgs);
  std::cout << "  grad is a Linear, like the parameters: weight " << s_lbfgs.grad.weight << ", bias "
            << s_lbfgs.grad.bias << "\n";
  std::printf("  max |LBFGS - closed form| = %.3e\n\n", max_diff(m_lbfgs, exact));

  // 2. adam with learning rate 1e-3 for 1000 iterations, as a solver (jaxopt.OptaxSolver).
  std::vector<double> adam_err;
  opt::TransformSolver adam{.opt = opt::adam(1e-3), .maxiter = 1000, .tol = 1e-10};
  adam.callback = [&](const opt::IterationInfo& it) {
    adam_err.push_back(it.error);
    return false;
  };
  auto [m_adam, s_adam] = adam.run(ridge_loss, model0, alpha, X, y);
  print_state("adam (TransformSolver)", s_adam);
  std::printf("  max |adam - closed form| = %.3e: 1000 steps of at most ~1e-3 each are not enough to get there;\n"
              "  the status says max_iterations, not converged\n\n", max_diff(m_adam, exact));

  // 3. Trap 1: mean(y_pred - y) without the square. Linear in the bias: no minimum. The solver must say so.
  auto [m_bad, s_bad] = opt::LBFGS{}.run(no_square_loss, model0, alpha, X, y);
  print_state("trap 1, data loss without the square", s_bad);
  std::printf("  bias went to %.3e: the loss decreases without bound; the status is not 'converged'\n\n",
              m_bad.bias.item());

  // 4. Trap 2: the whole Ridge struct as the solver's parameters: alpha is optimised too (the loss is linear in
  //    alpha, so it runs to -infinity with it). Keep hyperparameters as extra arguments instead.
  const Ridge r0{alpha, model0};
  auto [r_bad, s_r] = opt::LBFGS{}.run(ridge_struct_loss, r0, X, y);
  print_state("trap 2, alpha inside the parameters", s_r);
  std::printf("  alpha went from %.2f to %.3e\n", alpha.item(), r_bad.alpha.item());

  if (!smoke) {
    std::vector<double> it_l, it_a;
    for (std::size_t i = 0; i < lbfgs_err.size(); ++i) it_l.push_back(double(i + 1));
    for (std::size_t i = 0; i < adam_err.size(); ++i) it_a.push_back(double(i + 1));
    example::write_csv("lbfgs.csv", {"iteration", "grad_norm"}, {it_l, lbfgs_err});
    example::write_csv("adam.csv", {"iteration", "grad_norm"}, {it_a, adam_err});
    example::gnuplot("convergence.gp",
                     "set terminal pngcairo size 800,450 font ',10'\nset output 'convergence.png'\n"
                     "set datafile separator ','\nset logscale xy\nset format y '10^{%L}'\n"
                     "set title 'Ridge on the diabetes data: gradient norm per iteration'\n"
                     "set key bottom left\nset xlabel 'iteration'\nset ylabel '||grad||_2'\n"
                     "plot 'lbfgs.csv' using 1:2 with linespoints pt 7 ps 0.6 title 'LBFGS', "
                     "'adam.csv' using 1:2 with lines lw 2 title 'adam, lr 1e-3'\n");
  }

  const bool ok = s_lbfgs.status == opt::Status::converged && max_diff(m_lbfgs, exact) < 1e-8 &&
                  s_adam.status == opt::Status::max_iterations && max_diff(m_adam, exact) < 0.2 &&
                  max_diff(m_adam, exact) < max_diff(model0, exact) && s_bad.status != opt::Status::converged &&
                  s_r.status != opt::Status::converged && r_bad.alpha.item() < alpha.item();
  std::printf("\n%s\n", ok ? "OK: LBFGS matches the closed form, adam reports that it has not converged, both traps are reported"
                           : "FAILED: see above");
  return ok ? 0 : 1;
}
