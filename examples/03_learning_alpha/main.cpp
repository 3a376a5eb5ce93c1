// 03_learning_alpha: learn the regularisation strength of ridge regression on the diabetes data by minimising the
// validation loss over log(alpha) with LBFGS. The inner problem is solved by LBFGS too; the gradient of the validation
// loss with respect to log(alpha) comes from implicit differentiation through the solution (never through LBFGS's
// iterations), with an error bound, and the inner and adjoint tolerances are chosen from that bound as the outer
// gradient shrinks. Then the same hypergradient by unrolling gradient descent, a grid search over alpha, and the
// closed-form optimum to check where we landed.
//
// Run: ./example_03_learning_alpha           (writes outer_loss.csv, validation.csv and, with gnuplot, the PNGs)
//      ./example_03_learning_alpha --smoke   (the ctest: checks the learned alpha against the grid; no pictures)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#include <xgrad/xgrad.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include "../data.hpp"
#include "../plot.hpp"

using xgrad::Array;
using xgrad::Tensor;
namespace im = xgrad::implicit;
namespace opt = xgrad::optim;

// The training objective: w*(alpha) = argmin_w  0.5 mean((X w - y)^2) + 0.5 alpha ||w||^2, with alpha = exp(log_alpha)
// so that the outer variable is unconstrained. Every function takes the same arguments: (w, log_alpha, data...).
static Tensor inner(const Tensor& w, const Tensor& log_alpha, const Tensor& X, const Tensor& y, const Tensor&,
                    const Tensor&) {
  return 0.5 * xgrad::mean(xgrad::square(xgrad::matmul(X, w) - y)) + 0.5 * xgrad::exp(log_alpha) * xgrad::sum(xgrad::square(w));
}
// The validation loss: 0.5 mean squared error on held-out rows.
static Tensor outer(const Tensor& w, const Tensor&, const Tensor&, const Tensor&, const Tensor& Xv, const Tensor& yv) {
  return 0.5 * xgrad::mean(xgrad::square(xgrad::matmul(Xv, w) - yv));
}

// Closed form for the grid and the checks: w = (X^T X / n + alpha I)^{-1} X^T y / n.
static Array ridge_closed_form(const Array& X, const Array& y, double alpha) {
  Array H = xt::linalg::dot(xt::transpose(X), X) / double(X.shape()[0]);
  for (std::size_t i = 0; i < H.shape()[0]; ++i) H(i, i) += alpha;
  return xt::linalg::solve(H, Array(xt::linalg::dot(xt::transpose(X), y) / double(X.shape()[0])));
}
static double validation(const Array& w, const Array& Xv, const Array& yv) {
  const Array r = xt::linalg::dot(Xv, w) - yv;
  return 0.5 * xt::mean(r * r)();
}

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  using clock = std::chrono::steady_clock;

  // Data: 442 patients, 10 standardised features, a disease-progression target. A fixed random split, 60% train.
  // Features get unit variance (the file's columns have unit norm); the target is standardised on the train rows.
  const auto data = example::split_xy(example::load_csv(example::data_path("diabetes.csv")));
  const std::size_t n = data.X.shape()[0], d = data.X.shape()[1], n_train = n * 6 / 10;
  const auto order = xgrad::random::permutation(xgrad::random::key(0), n);
  Array X = Array::from_shape({n, d}), y = Array::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) X(i, j) = data.X(order[i], j) * std::sqrt(double(n));
    y(i) = data.y(order[i]);
  }
  const Array Xtr = xt::view(X, xt::range(0, n_train)), Xv = xt::view(X, xt::range(n_train, n));
  Array ytr = xt::view(y, xt::range(0, n_train)), yv = xt::view(y, xt::range(n_train, n));
  const double mu = xt::mean(ytr)(), sd = xt::stddev(ytr)();
  ytr = (ytr - mu) / sd;
  yv = (yv - mu) / sd;
  std::printf("diabetes: %zu train and %zu validation rows, %zu features\n", n_train, n - n_train, d);

  // 1. LBFGS on log(alpha), LBFGS inside, warm starts; tolerances chosen by the error bound: the hypergradient to 10 %
  //    while it is large, to 1e-12 at the end, the outer values accurate to a hundredth of the next decrease.
  im::ImplicitOptions tolerances;
  tolerances.solver.method = im::Method::cg;
  tolerances.hypergradient_tol = 1e-12;
  tolerances.hypergradient_rtol = 0.1;
  im::Bilevel bilevel{.outer = opt::LBFGS{.tol = 1e-10},
                      .inner = opt::LBFGS{.maxiter = 1000, .tol = 1e-4},
                      .steps = 100,
                      .implicit = tolerances,
                      .verbose = !smoke};
  const Tensor w0(Array(xt::zeros<double>({d})));
  const Tensor log_alpha0(std::log(10.0));  // start far from the answer: alpha = 10
  const auto t0 = clock::now();
  auto run = bilevel.run(inner, outer, log_alpha0, w0, Tensor(Xtr), Tensor(ytr), Tensor(Xv), Tensor(yv));
  const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
  const double alpha = std::exp(run.theta.item());
  const int steps = static_cast<int>(run.history.size());
  std::printf("learned alpha = %.10g after %d outer steps, %d evaluations (%.2f s, LBFGS %s); validation MSE %.4f "
              "(target units^2: %.1f)\n",
              alpha, steps, run.evaluations, seconds, run.outer_status.c_str(), 2 * run.history.back().outer_loss,
              2 * run.history.back().outer_loss * sd * sd);

  // 2. The hypergradient at the learned alpha three ways: implicit, unrolled gradient descent, closed form.
  auto hyper_implicit = [&](const Tensor& la) {
    auto [w, state] = im::argmin(opt::LBFGS{.tol = 1e-10}, inner, w0, la, Tensor(Xtr), Tensor(ytr), Tensor(Xv), Tensor(yv));
    return outer(w, la, Tensor(Xtr), Tensor(ytr), Tensor(Xv), Tensor(yv));
  };
  // Gradient descent with step 1/L, L the largest eigenvalue of the inner Hessian X^T X / n + alpha I.
  const Array gram = xt::linalg::dot(xt::transpose(Xtr), Xtr) / double(n_train);
  const double L = xt::amax(xt::linalg::eigvalsh(gram))() + alpha;
  auto hyper_unrolled = [&](int k) {
    return [&, k](const Tensor& la) {
      const Tensor w = im::unroll(opt::sgd(1.0 / L), inner, w0, {.steps = k}, la, Tensor(Xtr), Tensor(ytr), Tensor(Xv), Tensor(yv));
      return outer(w, la, Tensor(Xtr), Tensor(ytr), Tensor(Xv), Tensor(yv));
    };
  };
  // Closed form: d val / d log alpha = -alpha grad_w val . H^{-1} w*.
  const double la = run.theta.item();
  const Array w_star = ridge_closed_form(Xtr, ytr, alpha);
  Array H = xt::linalg::dot(xt::transpose(Xtr), Xtr) / double(n_train);
  for (std::size_t i = 0; i < d; ++i) H(i, i) += alpha;
  const Array gw = xt::linalg::dot(xt::transpose(Xv), Array(xt::linalg::dot(Xv, w_star) - yv)) / double(n - n_train);
  const double exact = -alpha * xt::sum(gw * Array(xt::linalg::solve(H, w_star)))();
  // Compare at a point where the hypergradient is not ~0 (at the optimum it vanishes): alpha / 10.
  const double la_cmp = la - std::log(10.0);
  const double a_cmp = std::exp(la_cmp);
  const Array w_cmp = ridge_closed_form(Xtr, ytr, a_cmp);
  Array Hc = xt::linalg::dot(xt::transpose(Xtr), Xtr) / double(n_train);
  for (std::size_t i = 0; i < d; ++i) Hc(i, i) += a_cmp;
  const Array gwc = xt::linalg::dot(xt::transpose(Xv), Array(xt::linalg::dot(Xv, w_cmp) - yv)) / double(n - n_train);
  const double exact_cmp = -a_cmp * xt::sum(gwc * Array(xt::linalg::solve(Hc, w_cmp)))();
  std::printf("\nhypergradient d val / d log(alpha) at alpha = %.4g (closed form %.10e):\n", a_cmp, exact_cmp);
  auto timed = [&](const char* name, auto f) {
    const auto s = clock::now();
    const double g = xgrad::grad(f)(Tensor(la_cmp)).item();
    const double ms = 1e3 * std::chrono::duration<double>(clock::now() - s).count();
    std::printf("  %-28s %.10e   relative error %.2e   %.2f ms\n", name, g, std::abs(g - exact_cmp) / std::abs(exact_cmp), ms);
    return std::abs(g - exact_cmp) / std::abs(exact_cmp);
  };
  const double err_implicit = timed("implicit (LBFGS + CG)", hyper_implicit);
  timed("unrolled 10 sgd steps", hyper_unrolled(10));
  timed("unrolled 100 sgd steps", hyper_unrolled(100));
  if (!smoke) timed("unrolled 1000 sgd steps", hyper_unrolled(1000));
  const double final_implicit = run.history.back().grad_norm;
  std::printf("  at the learned alpha |hypergradient| = %.4e with an error bound of %.1e (closed form %.4e; %.3e "
              "after the first step)\n", final_implicit, run.history.back().hypergradient_bound, std::abs(exact),
              run.history.front().grad_norm);

  // 3. Grid search over alpha on the validation loss (closed form at each point), 20 points per decade.
  const double spacing = 0.05;  // in log10(alpha)
  std::vector<double> grid_alpha, grid_val;
  double best_val = INFINITY, best_alpha = 0.0;
  for (double e = -4.0; e <= 2.0 + 1e-9; e += spacing) {
    const double a = std::pow(10.0, e);
    const double v = validation(ridge_closed_form(Xtr, ytr, a), Xv, yv);
    grid_alpha.push_back(a);
    grid_val.push_back(2 * v);
    if (v < best_val) best_val = v, best_alpha = a;
  }
  const double gap = std::abs(std::log10(alpha) - std::log10(best_alpha));
  std::printf("\ngrid search: best alpha %.6g (validation MSE %.4f); learned alpha is %.3f decades away "
              "(grid spacing %.2f)\n", best_alpha, 2 * best_val, gap, spacing);
  // 4. The optimum of the closed form: the zero of its derivative in log(alpha), by bisection within the grid step
  //    around the grid's best (the derivative changes sign there).
  auto closed_form_slope = [&](double log_a) {
    const double a = std::exp(log_a);
    const Array w = ridge_closed_form(Xtr, ytr, a);
    Array Ha = xt::linalg::dot(xt::transpose(Xtr), Xtr) / double(n_train);
    for (std::size_t i = 0; i < d; ++i) Ha(i, i) += a;
    const Array g = xt::linalg::dot(xt::transpose(Xv), Array(xt::linalg::dot(Xv, w) - yv)) / double(n - n_train);
    return -a * xt::sum(g * Array(xt::linalg::solve(Ha, w)))();
  };
  double lo = std::log(best_alpha) - spacing * std::log(10.0), hi = std::log(best_alpha) + spacing * std::log(10.0);
  const bool bracketed = closed_form_slope(lo) < 0.0 && closed_form_slope(hi) > 0.0;
  for (int k = 0; k < 200 && hi - lo > 1e-15; ++k) (closed_form_slope(0.5 * (lo + hi)) < 0.0 ? lo : hi) = 0.5 * (lo + hi);
  const double alpha_star = std::exp(0.5 * (lo + hi));
  const double alpha_rel = std::abs(alpha / alpha_star - 1.0);
  std::printf("closed-form optimum: alpha* = %.10g; the learned alpha is within %.1e of it (relative)\n", alpha_star,
              alpha_rel);

  if (!smoke) {
    std::vector<double> col_step, col_loss, col_grad, col_tol, col_bound;
    for (const auto& h : run.history) {
      col_step.push_back(h.step);
      col_loss.push_back(2 * h.outer_loss);
      col_grad.push_back(h.grad_norm);
      col_tol.push_back(h.inner_tol);
      col_bound.push_back(h.hypergradient_bound);
    }
    example::write_csv("outer_loss.csv", {"step", "validation_mse", "hypergradient", "inner_tol", "bound"},
                       {col_step, col_loss, col_grad, col_tol, col_bound});
    example::write_csv("validation.csv", {"alpha", "validation_mse"}, {grid_alpha, grid_val});
    char learned[256];
    std::snprintf(learned, sizeof learned, "%.10g,%.10g", alpha, 2 * validation(w_star, Xv, yv));
    example::gnuplot("plots.gp", std::string("set terminal pngcairo size 1100,420 font ',10'\n"
                                             "set output 'learning_alpha.png'\nset datafile separator ','\n"
                                             "set multiplot layout 1,2\n"
                                             "set title 'LBFGS on log(alpha): hypergradient and tolerances per step'\n"
                                             "set xlabel 'outer step'\nset xtics 1\nset logscale y\nset format y '10^{%L}'\n"
                                             "set key top right\n"
                                             "plot 'outer_loss.csv' using 1:3 with linespoints pt 7 ps 0.6 lw 2 "
                                             "title '|hypergradient|', '' using 1:4 with linespoints pt 5 ps 0.5 "
                                             "title 'next inner tol', '' using 1:5 with linespoints pt 9 ps 0.6 "
                                             "title 'error bound'\nunset logscale y\nset format y '%g'\nset xtics autofreq\n"
                                             "set title 'Validation loss over alpha (grid) and the learned alpha'\n"
                                             "set key top left\nset logscale x\nset xlabel 'alpha'\nset format x '10^{%L}'\n"
                                             "plot 'validation.csv' using 1:2 with lines lw 2 title 'grid (closed form)', "
                                             "'-' using 1:2 with points pt 7 ps 1.5 lc rgb 'red' title 'learned'\n") +
                                     learned + "\ne\nunset multiplot\n");
  }

  // The claims: the learned alpha is the closed form's optimum to 1e-6 (and so within the grid spacing of the
  // grid's best), the hypergradient there is below 1e-8, and the implicit hypergradient matches the closed form.
  const bool ok = bracketed && alpha_rel < 1e-6 && gap <= spacing && std::abs(final_implicit) < 1e-8 &&
                  std::abs(exact) < 1e-8 && err_implicit < 1e-8 && run.outer_status == "converged";
  std::printf("%s\n", ok ? "OK: the learned alpha is the closed-form optimum to 1e-6, the hypergradient there below "
                           "1e-8; the implicit hypergradient is exact"
                         : "FAILED: see above");
  return ok ? 0 : 1;
}
