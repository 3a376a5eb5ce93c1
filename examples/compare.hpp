#pragma once
// Shared by the learned-optimizer examples (04, 07): run optimizers on lists of tasks, tune the baselines' learning
// rates by a sweep, and report mean / sd / median of the losses at given steps. Not part of the library.
//
//   auto runs = example::tuned_baselines(sweep_tasks, test_tasks, example::log_space(-4, 1, 11), 100);
//   runs.push_back({"LSTM", NAN, example::curves_on(learn::lstm_optimizer(phi), test_tasks, 100).curves});
//   example::report("10-D quadratics", runs, 100);
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "plot.hpp"

namespace example {

/// Mean, standard deviation and median of the losses of every task at one step (a row of loss curves).
struct Stats {
  double mean = 0, sd = 0, median = 0;
};
inline Stats stats_of(std::vector<double> v) {
  Stats s;
  const std::size_t m = v.size();
  if (m == 0) return {NAN, NAN, NAN};
  for (double x : v) s.mean += x / double(m);
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean) / double(m > 1 ? m - 1 : 1);
  s.sd = std::sqrt(s.sd);
  std::sort(v.begin(), v.end());
  s.median = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
  return s;
}
inline Stats stats_at(const xgrad::Array& curves, int step) {
  const std::size_t m = curves.shape()[1];
  std::vector<double> v(m);
  for (std::size_t i = 0; i < m; ++i) v[i] = curves(std::size_t(step), i);
  return stats_of(std::move(v));
}
/// The mean over tasks at every step.
inline std::vector<double> mean_curve(const xgrad::Array& curves) {
  std::vector<double> out;
  for (std::size_t k = 0; k < curves.shape()[0]; ++k) out.push_back(stats_at(curves, int(k)).mean);
  return out;
}

/// One optimizer's result on one task family.
struct Run {
  std::string name;
  double lr = std::numeric_limits<double>::quiet_NaN();  ///< the tuned rate; NaN for a learned optimizer
  xgrad::Array curves;                                    ///< (steps + 1, problems of all tasks)
  std::vector<double> scores{};                           ///< one per task (e.g. test accuracy), when measured
};

/// The curves of one optimizer on a list of tasks, and a score of each task's final parameters.
struct Curves {
  xgrad::Array curves;
  std::vector<double> scores;
};

/// The losses of `opt`'s runs of `steps` steps on every task of a list, side by side: (steps + 1, problems of all
/// tasks), and score(final parameters) per task when a score is given. The tasks run on all cores (parallel::map
/// keeps their order, so the figures do not depend on the number of threads).
template <class Opt, class T, class Score = std::nullptr_t>
Curves curves_on(const Opt& o, const std::vector<T>& tasks, int steps, const Score& score = nullptr) {
  struct Part {
    xgrad::Array curves;
    double score;
  };
  const std::vector<Part> parts = xgrad::parallel::map(tasks.size(), [&](std::size_t i) {
    auto r = xgrad::learn::optimize(o, tasks[i], steps);
    double s = std::numeric_limits<double>::quiet_NaN();
    if constexpr (!std::is_null_pointer_v<Score>) s = score(r.params);
    return Part{std::move(r.losses), s};
  });
  std::size_t cols = 0;
  for (const auto& p : parts) cols += p.curves.shape()[1];
  Curves out{xgrad::Array::from_shape({std::size_t(steps) + 1, cols}), {}};
  std::size_t c0 = 0;
  for (const auto& p : parts) {
    for (std::size_t k = 0; k <= std::size_t(steps); ++k)
      for (std::size_t j = 0; j < p.curves.shape()[1]; ++j) out.curves(k, c0 + j) = p.curves(k, j);
    c0 += p.curves.shape()[1];
    if constexpr (!std::is_null_pointer_v<Score>) out.scores.push_back(p.score);
  }
  return out;
}

/// Learning rates 10^(lo + i (hi - lo) / (n - 1)).
inline std::vector<double> log_space(double lo, double hi, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(std::pow(10.0, lo + (hi - lo) * i / (n - 1)));
  return v;
}

/// The learning rate of make(lr) with the lowest mean loss at the last step on the sweep tasks (non-finite runs
/// lose), and the run of that rate on the test tasks (scored when a score is given).
template <class Make, class T, class Score = std::nullptr_t>
Run tuned(const std::string& name, Make make, const std::vector<double>& lrs, const std::vector<T>& sweep_tasks,
          const std::vector<T>& test_tasks, int steps, const Score& score = nullptr) {
  double best = std::numeric_limits<double>::infinity(), best_lr = lrs.front();
  const std::vector<double> means = xgrad::parallel::map(  // the sweep's rates side by side
      lrs.size(), [&](std::size_t i) { return stats_at(curves_on(make(lrs[i]), sweep_tasks, steps).curves, steps).mean; });
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    if (std::isfinite(means[i]) && means[i] < best) {
      best = means[i];
      best_lr = lrs[i];
    }
  }
  if (best_lr == lrs.front() || best_lr == lrs.back())
    std::printf("  note: %s's best learning rate %.3g is at the edge of the sweep\n", name.c_str(), best_lr);
  auto c = curves_on(make(best_lr), test_tasks, steps, score);
  return {name, best_lr, std::move(c.curves), std::move(c.scores)};
}

/// The four baselines of the paper (SGD, NAG, RMSprop, Adam), each tuned by a sweep over `lrs`.
template <class T, class Score = std::nullptr_t>
std::vector<Run> tuned_baselines(const std::vector<T>& sweep_tasks, const std::vector<T>& test_tasks,
                                 const std::vector<double>& lrs, int steps, const Score& score = nullptr) {
  namespace opt = xgrad::optim;
  std::vector<Run> runs;
  runs.push_back(tuned("SGD", [](double lr) { return opt::sgd(lr); }, lrs, sweep_tasks, test_tasks, steps, score));
  runs.push_back(tuned("NAG", [](double lr) { return opt::sgd(lr, {.momentum = 0.9, .nesterov = true}); }, lrs,
                       sweep_tasks, test_tasks, steps, score));
  runs.push_back(tuned("RMSprop", [](double lr) { return opt::rmsprop(lr); }, lrs, sweep_tasks, test_tasks, steps,
                       score));
  runs.push_back(tuned("Adam", [](double lr) { return opt::adam(lr); }, lrs, sweep_tasks, test_tasks, steps, score));
  return runs;
}

/// Prints the table of one family (loss mean ± sd [median] at each step of `at`, and the mean score when measured)
/// and returns true when the run called `learned` has the lowest mean loss at the last of `at` among all runs with a
/// tuned learning rate.
inline bool report(const std::string& title, const std::vector<Run>& runs, const std::vector<int>& at,
                   const std::string& learned = "LSTM") {
  std::printf("\n%s (%zu held-out tasks): loss mean ± sd [median]\n", title.c_str(), runs[0].curves.shape()[1]);
  std::printf("  %-8s %9s", "", "lr");
  for (int step : at) std::printf("  %-32s", ("step " + std::to_string(step)).c_str());
  if (!runs[0].scores.empty()) std::printf("  %s", "test accuracy");
  std::printf("\n");
  for (const auto& r : runs) {
    std::printf("  %-8s %9.3g", r.name.c_str(), r.lr);
    for (int step : at) {
      const Stats s = stats_at(r.curves, step);
      char cell[64];
      std::snprintf(cell, sizeof cell, "%.3g ± %.3g [%.3g]", s.mean, s.sd, s.median);
      std::printf("  %-32s", cell);
    }
    if (!r.scores.empty()) {
      const Stats s = stats_of(r.scores);
      std::printf("  %.4f ± %.4f", s.mean, s.sd);
    }
    std::printf("\n");
  }
  const int last = at.back();
  double mine = std::numeric_limits<double>::quiet_NaN();
  for (const auto& r : runs)
    if (r.name == learned) mine = stats_at(r.curves, last).mean;
  bool best = std::isfinite(mine);
  for (const auto& r : runs)  // the tuned baselines are the runs with a learning rate
    if (std::isfinite(r.lr)) best = best && mine < stats_at(r.curves, last).mean;
  std::printf("  the %s's mean loss at step %d is %s every tuned baseline's\n", learned.c_str(), last,
              best ? "below" : "NOT below");
  return best;
}

/// Mean curves of a family as CSV: step, one column per optimizer.
inline void write_curves(const std::string& file, const std::vector<Run>& runs) {
  std::vector<std::string> header{"step"};
  std::vector<std::vector<double>> cols(1);
  for (std::size_t k = 0; k < runs[0].curves.shape()[0]; ++k) cols[0].push_back(double(k));
  for (const auto& r : runs) {
    header.push_back(r.name);
    cols.push_back(mean_curve(r.curves));
  }
  write_csv(file, header, cols);
}

/// One row per (family, optimizer): tuned lr, mean / sd / median at each step of `at`, and the scores' mean and sd
/// when measured.
inline void write_summary(const std::string& file,
                          const std::vector<std::pair<std::string, std::vector<Run>>>& families,
                          const std::vector<int>& at) {
  std::ofstream out(file);
  out << "family,optimizer,lr";
  for (int step : at) out << ",mean" << step << ",sd" << step << ",median" << step;
  const bool scored = !families.empty() && !families[0].second.empty() && !families[0].second[0].scores.empty();
  if (scored) out << ",score_mean,score_sd";
  out << "\n";
  out.precision(6);
  for (const auto& [family, runs] : families)
    for (const auto& r : runs) {
      out << family << "," << r.name << "," << r.lr;
      for (int step : at) {
        const Stats s = stats_at(r.curves, step);
        out << "," << s.mean << "," << s.sd << "," << s.median;
      }
      if (scored) {
        const Stats s = stats_of(r.scores);
        out << "," << s.mean << "," << s.sd;
      }
      out << "\n";
    }
}

}  // namespace example
