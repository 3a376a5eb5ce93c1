// 08_curve_fitting: Levenberg-Marquardt fits the Mauna Loa CO2 record (741 monthly means, 1958-2020) with a model
// whose parameters are a plain struct and whose signs the physics fixes (box bounds), then implicit
// differentiation gives the derivative of the fitted parameters with respect to every measurement, checked against
// finite differences of refits.
//
//   CO2(t) = baseline + excess * exp((t - 1958) / timescale) + annual and semi-annual harmonics
//
// Run: ./example_08_curve_fitting           fits, checks, writes fit.csv, influence.csv and curve_fitting.png
//      ./example_08_curve_fitting --smoke   the ctest: the same checks, no picture
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numbers>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "../data.hpp"
#include "../plot.hpp"

using xgrad::Array;
using xgrad::Tensor;
namespace opt = xgrad::optim;
namespace im = xgrad::implicit;

namespace {
constexpr double kStart = 1958.0;  // the exponential's origin: the first year of the record

// The model's parameters: a struct of Tensors, so a pytree (the solver, the bounds and the derivatives follow it).
struct Co2Model {
  Tensor baseline;   // ppm: the level the trend tends to far in the past
  Tensor excess;     // ppm: the exponential part of the trend in 1958
  Tensor timescale;  // years: its e-folding time
  Tensor seasonal;   // ppm, (4,): amplitudes of sin and cos of 2 pi t and of 4 pi t
};

// The harmonics at the months t: a (months, 4) matrix, so the seasonal cycle is one matmul.
Array harmonics(const Array& t) {
  Array S = Array::from_shape({t.size(), 4});
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double w = 2.0 * std::numbers::pi * t(i);
    S(i, 0) = std::sin(w);
    S(i, 1) = std::cos(w);
    S(i, 2) = std::sin(2.0 * w);
    S(i, 3) = std::cos(2.0 * w);
  }
  return S;
}

Tensor trend(const Co2Model& m, const Tensor& t) { return m.baseline + m.excess * exp((t - kStart) / m.timescale); }
Tensor predict(const Co2Model& m, const Tensor& t, const Tensor& S) { return trend(m, t) + matmul(S, m.seasonal); }
// The residuals LevenbergMarquardt minimises (1/2 the sum of their squares): model minus measurement, in ppm.
Tensor residuals(const Co2Model& m, const Tensor& t, const Tensor& S, const Tensor& ppm) {
  return predict(m, t, S) - ppm;
}
// The trend's growth rate at the end of the record (ppm per year): what the fit says about the present.
Tensor growth_rate(const Co2Model& m, double year) {
  return m.excess / m.timescale * exp((year - kStart) / m.timescale);
}

Co2Model model(double baseline, double excess, double timescale) {
  return {Tensor(baseline), Tensor(excess), Tensor(timescale), Tensor(Array(xt::zeros<double>({4})))};
}
}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  const auto co2 = example::load_co2();
  const std::size_t n = co2.t.size();
  const Tensor t(co2.t), S(harmonics(co2.t)), ppm(co2.ppm);
  const double last = co2.t(n - 1);
  std::printf("Mauna Loa CO2: %zu monthly means, %.2f to %.2f, %.2f to %.2f ppm\n", n, co2.t(0), last, co2.ppm(0),
              co2.ppm(n - 1));

  // The physics: a concentration and its anthropogenic excess are not negative, and the trend grows (a timescale
  // of at least a year). The start is a rough guess: no baseline, everything in the exponential.
  const double inf = std::numeric_limits<double>::infinity();
  const Array any = xt::full_like(Array(xt::zeros<double>({4})), inf);
  const opt::Bounds physical = opt::Bounds::of(Co2Model{Tensor(0.0), Tensor(0.0), Tensor(1.0), Tensor(Array(-any))},
                                               Co2Model{Tensor(inf), Tensor(inf), Tensor(1000.0), Tensor(any)});
  // A rough start: 1958's level, a guess of the excess, a slow exponential.
  const Co2Model start = model(300.0, 100.0, 300.0);
  const opt::LevenbergMarquardt lm{.ftol = 1e-12, .xtol = 1e-12, .gtol = 1e-8, .bounds = physical};
  const opt::LevenbergMarquardt unbounded{.ftol = 1e-12, .xtol = 1e-12, .gtol = 1e-8};
  auto rms_of = [&](double value) { return std::sqrt(2.0 * value / double(n)); };
  auto [fit, state] = lm.run(residuals, start, t, S, ppm);
  const double rms = rms_of(state.value);
  std::printf("\n1. the fit, with bounds: %s after %d residual and %d Jacobian evaluations, rms %.3f ppm\n",
              opt::to_string(state.status).c_str(), state.num_fun_eval, state.num_jac_eval, rms);
  std::printf("   CO2 = %.2f ppm + %.2f ppm x exp((t - 1958) / %.2f years) + a seasonal cycle of %.2f ppm (rms)\n",
              fit.baseline.item(), fit.excess.item(), fit.timescale.item(),
              std::sqrt(xt::mean(xt::square(matmul(S, fit.seasonal).value()))()));
  const double growth = growth_rate(fit, last).item();
  std::printf("   the trend's growth rate in %.0f: %.3f ppm/year\n", std::floor(last), growth);
  auto [free_fit, free_state] = unbounded.run(residuals, start, t, S, ppm);
  // With |timescale| far beyond the record, excess exp(dt / timescale) is excess + (excess / timescale) dt: a line.
  std::printf("   without the bounds, from the same start: %s after %d evaluations, rms %.3f ppm, with baseline "
              "%.3g, excess %.3g and timescale %.3g years: the exponential flattened into a straight line of "
              "%.3f ppm/year\n",
              opt::to_string(free_state.status).c_str(), free_state.num_fun_eval, rms_of(free_state.value),
              free_fit.baseline.item(), free_fit.excess.item(), free_fit.timescale.item(),
              free_fit.excess.item() / free_fit.timescale.item());
  std::printf("   bounds active at the fit: %d (they act on the way there)\n", state.active);
  bool ok = state.status == opt::Status::converged && state.active == 0 && rms < 1.0 && fit.timescale.item() > 10.0 &&
            fit.excess.item() > 0.0 && rms_of(free_state.value) > 2.0 * rms;

  // From a grid of starts: how often each finds the physical fit.
  int bounded_found = 0, free_found = 0, starts = 0;
  for (double b0 : {0.0, 300.0, 400.0})
    for (double e0 : {1.0, 10.0, 100.0, 300.0})
      for (double tau0 : {10.0, 30.0, 100.0, 300.0}) {
        ++starts;
        const Co2Model m0 = model(b0, e0, tau0);
        bounded_found += rms_of(lm.run(residuals, m0, t, S, ppm).state.value) < rms + 1e-6;
        free_found += rms_of(unbounded.run(residuals, m0, t, S, ppm).state.value) < rms + 1e-6;
      }
  std::printf("   from %d starts (baseline 0, 300, 400 x excess 1, 10, 100, 300 x timescale 10, 30, 100, 300): "
              "the fit found %d times with bounds, %d without\n", starts, bounded_found, free_found);
  ok = ok && bounded_found > free_found;

  // 2. The derivative of the fitted parameters with respect to every measurement, by implicit differentiation: the
  // fit is a function of the data through the optimality condition (the projected gradient map; no bound is active
  // at this fit, so it is the normal equations J^T r = 0), with the Jacobian of the residuals from the AD core.
  // Seven parameters: the adjoint systems (7 x 7) are solved by a dense LU, exactly (cg would do; its default
  // tolerance leaves 1e-3 here, the columns' scales being far apart).
  const im::ImplicitOptions dense{.solver = {.method = im::Method::lu}};
  auto fitted = [&](const Tensor& data) { return im::least_squares(dense, lm, residuals, fit, t, S, data).params; };
  const Array J = xgrad::jacobian([&](const Tensor& data) { return xgrad::ravel_tensors(fitted(data)); })(ppm);
  const Array d_growth = xgrad::grad([&](const Tensor& data) { return growth_rate(fitted(data), last); })(ppm).value();
  std::printf("\n2. d(fit)/d(data) by implicit differentiation: a %zu x %zu Jacobian\n", J.shape(0), J.shape(1));
  // Checked against central differences of refits, at five months.
  // Refits tighter than the fit. The baseline, excess and timescale are strongly correlated (the cost is flat along
  // one combination of them), so a refit pins them down only to about 1e-7: the step is 1 ppm (the fit is nearly
  // linear in the data; h^2 terms stay below that noise), and each difference is measured against the parameter's
  // largest sensitivity to any month.
  auto refit = lm;
  refit.ftol = refit.xtol = 1e-15;
  refit.gtol = 1e-14;
  const double h = 1.0;
  double worst = 0.0;
  for (std::size_t k : {std::size_t{0}, n / 4, n / 2, 3 * n / 4, n - 1}) {
    Array up = co2.ppm, down = co2.ppm;
    up(k) += h;
    down(k) -= h;
    const Array fd = (xgrad::tree::ravel(refit.run(residuals, fit, t, S, Tensor(up)).params).first -
                      xgrad::tree::ravel(refit.run(residuals, fit, t, S, Tensor(down)).params).first) / (2.0 * h);
    for (std::size_t i = 0; i < fd.size(); ++i)
      worst = std::max(worst, std::abs(J(i, k) - fd(i)) / xt::amax(xt::abs(xt::row(J, i)))());
  }
  std::printf("   against central differences of refits (step %.2g ppm) at 5 months: largest difference %.2e "
              "(relative to each parameter's largest sensitivity)\n", h, worst);
  ok = ok && worst < 1e-4;
  // Raising every month by 1 ppm raises the baseline by 1 ppm and moves nothing else (the model has an additive
  // constant): the Jacobian's row sums are (1, 0, ..., 0).
  const Array row_sums = xt::sum(J, {1});
  const double others = xt::amax(xt::abs(xt::view(row_sums, xt::range(1, row_sums.size()))))();
  std::printf("   every month +1 ppm: baseline %+.12f ppm, the 6 other parameters by at most %.1e, the growth rate "
              "by %+.1e\n", row_sums(0), others, xt::sum(d_growth)());
  ok = ok && std::abs(row_sums(0) - 1.0) < 1e-8 && others < 1e-8 && std::abs(xt::sum(d_growth)()) < 1e-10;
  std::size_t most = 0;
  for (std::size_t k = 1; k < n; ++k)
    if (std::abs(d_growth(k)) > std::abs(d_growth(most))) most = k;
  std::printf("   the month that moves the %.0f growth rate most: %.2f (%+.4f ppm/year per ppm)\n", std::floor(last),
              co2.t(most), d_growth(most));

  if (!smoke) {
    const Array trend_values = trend(fit, t).value(), fit_values = predict(fit, t, S).value();
    auto column = [](const Array& a) { return std::vector<double>(a.begin(), a.end()); };
    example::write_csv("fit.csv", {"year", "ppm", "fit", "trend"},
                       {column(co2.t), column(co2.ppm), column(fit_values), column(trend_values)});
    example::write_csv("influence.csv", {"year", "d_growth_rate", "d_timescale", "d_excess"},
                       {column(co2.t), column(d_growth), column(xt::row(J, 2)), column(xt::row(J, 1))});
    example::gnuplot("curve_fitting.gp",
                     "set terminal pngcairo size 1400,560; set output 'curve_fitting.png'\n"
                     "set datafile separator ','; set grid; set key top left Left reverse opaque box; set xlabel 'year'\n"
                     "set xrange [1955:2023]\n"
                     "set multiplot layout 1,2\n"
                     "set title 'Mauna Loa CO2: Levenberg-Marquardt fit with physical bounds'; set ylabel 'ppm'\n"
                     "plot 'fit.csv' using 1:2 with points pt 7 ps 0.3 lc rgb '#888888' title 'monthly mean', "
                     "'' using 1:3 with lines lw 1 lc rgb '#1f77b4' title 'fit', "
                     "'' using 1:4 with lines lw 3 lc rgb '#d62728' title 'trend: baseline + excess exp((t-1958)/timescale)'\n"
                     "set title 'influence of each month on the fitted growth rate in 2020, by implicit differentiation'\n"
                     "set ylabel 'd(growth rate) / d(ppm of the month)  [1/year]'\n"
                     "plot 'influence.csv' using 1:2 with lines lw 2 lc rgb '#2ca02c' notitle\n"
                     "unset multiplot\n");
  }
  std::printf("\n08_curve_fitting: %s\n", ok ? "all checks passed" : "FAILED");
  return ok ? 0 : 1;
}
