// 04_learned_optimizer: "learning to learn by gradient descent by gradient descent" (Andrychowicz et al. 2016).
// A coordinatewise two-layer LSTM, meta-trained on random 10-D quadratics f(x) = ||W x - y||^2 over 100-step
// trajectories (truncated backpropagation through unrolls of 20 steps), against SGD, Nesterov momentum, RMSprop and
// Adam, each with its learning rate tuned by a log-spaced sweep on training tasks. Evaluated on held-out tasks (another
// key), and on 20-D quadratics, ridge regressions and a small MLP on the digits, which it never saw.
//
// Run: ./example_04_learned_optimizer            (loads examples/data/lstm_quadratic10.npz, ~1 min; writes the CSVs
//                                                 and, with gnuplot, learned_optimizer.png)
//      ./example_04_learned_optimizer --retrain  (meta-trains first and overwrites that file; --meta-steps N)
//      ./example_04_learned_optimizer --smoke    (the ctest: a tiny meta-training run, then the shipped optimizer
//                                                 against the tuned baselines on 100 held-out tasks; fails unless it
//                                                 has the lowest mean loss at step 100)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "../compare.hpp"
#include "../data.hpp"
#include "../plot.hpp"

using namespace xgrad;  // Array, Tensor, random::, tree::
namespace opt = xgrad::optim;
using example::Run;

namespace {

constexpr int kSteps = 100;  // inner steps of every run (the horizon)
const std::vector<int> kAt = {20, 50, kSteps};  // the steps the tables report
const learn::LearnedOptions kLearnedOptions{.preprocess = learn::Preprocess::log_sign, .k = 10.0, .output_scale = 0.1};
const learn::LstmShape kLstmShape{.hidden = 20, .layers = 2};
const char* kParamsFile = "lstm_quadratic10.npz";
// The second learned optimizer: a coordinatewise MLP (32 tanh units) over the gradient and three momentum averages.
const learn::MlpShape kMlpShape{.hidden = 32, .decays = {0.5, 0.9, 0.99}};
const char* kMlpParamsFile = "mlp_quadratic10.npz";

// Keys: meta-training tasks, baseline sweeps, held-out evaluation. Never shared.
const random::Key kMetaKey = random::key(2016), kSweepKey = random::key(7), kTestKey = random::key(12345);

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The four tuned baselines and the learned optimizer on lists of sweep and held-out tasks.
template <class T>
std::vector<Run> compare_on(const std::vector<T>& sweep_tasks, const std::vector<T>& test_tasks, int lrs_per_decade,
                            const learn::LstmOptimizerParams& phi, const learn::MlpOptimizerParams* mlp) {
  std::vector<Run> runs =
      example::tuned_baselines(sweep_tasks, test_tasks, example::log_space(-4.0, 1.0, 5 * lrs_per_decade + 1), kSteps);
  runs.push_back({"LSTM", NAN, example::curves_on(learn::lstm_optimizer(phi, kLearnedOptions), test_tasks, kSteps).curves});
  if (mlp)
    runs.push_back({"MLP", NAN, example::curves_on(learn::mlp_optimizer(*mlp, kLearnedOptions), test_tasks, kSteps).curves});
  return runs;
}

// A family whose tasks are batches of independent problems: one sweep task and one test task of many problems each.
template <class D>
std::vector<Run> compare(const D& family, std::size_t sweep_tasks, std::size_t test_tasks, int lrs_per_decade,
                         const learn::LstmOptimizerParams& phi, const learn::MlpOptimizerParams* mlp) {
  D sweep_dist = family, test_dist = family;
  sweep_dist.batch = sweep_tasks;
  test_dist.batch = test_tasks;
  return compare_on(std::vector{sweep_dist.sample(kSweepKey)}, std::vector{test_dist.sample(kTestKey)},
                    lrs_per_decade, phi, mlp);
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false, retrain = false;
  int meta_steps = 1500;
  double late_weight = 0.0;  // w_t = 1 + late_weight * t / 100 (0: the paper's plain sum of losses)
  std::string shipped = example::data_path(kParamsFile);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) smoke = true;
    else if (std::strcmp(argv[i], "--retrain") == 0) retrain = true;
    else if (std::strcmp(argv[i], "--meta-steps") == 0 && i + 1 < argc) meta_steps = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--late-weight") == 0 && i + 1 < argc) late_weight = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--params") == 0 && i + 1 < argc) shipped = argv[++i];
    else {
      std::printf("usage: %s [--smoke] [--retrain] [--meta-steps N] [--late-weight W] [--params FILE.npz]\n", argv[0]);
      return 2;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto make_lstm = [](const learn::LstmOptimizerParams& p) { return learn::lstm_optimizer(p, kLearnedOptions); };
  const learn::Quadratics quadratics10{.dim = 10, .batch = 32};
  const learn::LstmOptimizerParams phi0 = learn::init_lstm_optimizer(random::key(0), kLearnedOptions, kLstmShape);

  // 1. Meta-training. The smoke test trains a few steps to check that the meta-loss goes down (and never writes the
  //    shipped file); the full run loads the shipped weights unless asked to retrain.
  learn::LstmOptimizerParams phi = phi0;
  if (smoke) {
    const learn::Quadratics small{.dim = 10, .batch = 8};
    const auto held_out = small.sample(random::key(99));
    auto meta_loss = [&](const learn::LstmOptimizerParams& p) {
      auto lstm = make_lstm(p);
      const auto x0 = held_out.init();
      return learn::unroll_optimizer(lstm, held_out, x0, lstm.init(x0), 0, kSteps).meta_loss.item();
    };
    const auto r = learn::meta_train(phi0, make_lstm, small, kMetaKey,
                                     {.unroll = 20, .horizon = kSteps, .steps = 30, .learning_rate = 3e-3,
                                      .print_every = 10, .progress = &std::cout});
    const double before = meta_loss(phi0), after = meta_loss(r.params);
    std::printf("smoke meta-training: held-out meta-loss (sum of 100 losses) %.4g -> %.4g\n", before, after);
    if (!(after < before)) {
      std::printf("FAILED: 30 meta-steps did not reduce the held-out meta-loss\n");
      return 1;
    }
    tree::save("smoke_lstm.npz", r.params);  // round trip through the archive, in the build folder
    const auto back = tree::load("smoke_lstm.npz", phi0);
    if (meta_loss(back) != after) {
      std::printf("FAILED: the saved and loaded optimizer differs\n");
      return 1;
    }
  }
  if (!retrain && std::filesystem::exists(shipped)) {
    phi = tree::load(shipped, phi0);
    std::printf("loaded the meta-trained LSTM optimizer from %s\n", shipped.c_str());
  } else if (smoke) {
    std::printf("FAILED: %s is missing (run without --smoke and with --retrain to make it)\n", shipped.c_str());
    return 1;
  } else {
    std::printf("meta-training a 2-layer LSTM (20 units) on 10-D quadratics: %d steps, unrolls of 20 within 100\n",
                meta_steps);
    const auto r = learn::meta_train(phi0, make_lstm, quadratics10, kMetaKey,
                                     {.unroll = 20, .horizon = kSteps, .steps = meta_steps, .learning_rate = 1e-3,
                                      .weight = [late_weight](int t) { return 1.0 + late_weight * t / kSteps; },
                                      .print_every = 50, .progress = &std::cout});
    phi = r.params;
    tree::save(shipped, phi);
    std::printf("meta-training took %.1f s (%d non-finite steps skipped); saved %s\n", r.seconds, r.skipped,
                shipped.c_str());
    example::write_csv("meta_training.csv", {"step", "meta_loss"},
                       {[&] {
                          std::vector<double> s;
                          for (std::size_t i = 0; i < r.meta_losses.size(); ++i) s.push_back(double(i + 1));
                          return s;
                        }(),
                        r.meta_losses});
  }

  // The MLP optimizer (full runs only): loaded, or meta-trained the same way.
  std::optional<learn::MlpOptimizerParams> mlp;
  if (!smoke) {
    auto make_mlp = [](const learn::MlpOptimizerParams& p) { return learn::mlp_optimizer(p, kLearnedOptions); };
    const auto mlp0 = learn::init_mlp_optimizer(random::key(1), kLearnedOptions, kMlpShape);
    const std::string mlp_file = example::data_path(kMlpParamsFile);
    if (!retrain && std::filesystem::exists(mlp_file)) {
      mlp = tree::load(mlp_file, mlp0);
      std::printf("loaded the meta-trained MLP optimizer from %s\n", mlp_file.c_str());
    } else {
      std::printf("meta-training the MLP optimizer (32 units; g, 3 momentum averages) on 10-D quadratics: %d steps\n",
                  meta_steps);
      const auto r = learn::meta_train(mlp0, make_mlp, quadratics10, kMetaKey,
                                       {.unroll = 20, .horizon = kSteps, .steps = meta_steps, .learning_rate = 1e-3,
                                        .weight = [late_weight](int t) { return 1.0 + late_weight * t / kSteps; },
                                        .print_every = 100, .progress = &std::cout});
      mlp = r.params;
      tree::save(mlp_file, *mlp);
      std::printf("meta-training took %.1f s (%d non-finite steps skipped); saved %s\n", r.seconds, r.skipped,
                  mlp_file.c_str());
    }
  }
  const learn::MlpOptimizerParams* mlp_ptr = mlp ? &*mlp : nullptr;

  // 2. The comparison: baselines tuned on sweep tasks, everything evaluated on held-out tasks.
  const std::size_t sweep_tasks = smoke ? 50 : 100, test_tasks = smoke ? 100 : 200;
  const int per_decade = smoke ? 2 : 4;
  std::vector<std::pair<std::string, std::vector<Run>>> families;
  families.push_back(
      {"quadratic10", compare(learn::Quadratics{.dim = 10}, sweep_tasks, test_tasks, per_decade, phi, mlp_ptr)});
  bool ok = example::report("10-D quadratics ||W x - y||^2, 100 steps", families.back().second, kAt);
  if (!smoke) {
    families.push_back(
        {"quadratic20", compare(learn::Quadratics{.dim = 20}, sweep_tasks, test_tasks, per_decade, phi, mlp_ptr)});
    example::report("generalisation: 20-D quadratics", families.back().second, kAt);
    families.push_back({"ridge", compare(learn::RidgeRegressions{.dim = 10, .samples = 50}, sweep_tasks, test_tasks,
                                         per_decade, phi, mlp_ptr)});
    example::report("generalisation: ridge regression (10 features, 50 samples, l2 = 0.1)", families.back().second, kAt);
    // An MLP 64-20-10 (tanh) from fresh weights on 128 random digits each: one problem per task, so fewer tasks.
    auto [pixels, labels] = example::split_xy(example::load_csv(example::data_path("digits.csv")));
    const learn::MlpClassification digits{.X = pixels / 16.0, .labels = labels, .classes = 10, .hidden = 20,
                                          .samples = 128};
    std::vector<learn::MlpTask> sweep_mlp, test_mlp;
    for (std::uint32_t i = 0; i < 10; ++i) sweep_mlp.push_back(digits.sample(random::fold_in(kSweepKey, i)));
    for (std::uint32_t i = 0; i < 40; ++i) test_mlp.push_back(digits.sample(random::fold_in(kTestKey, i)));
    families.push_back({"mlp_digits", compare_on(sweep_mlp, test_mlp, 2, phi, mlp_ptr)});
    example::report("generalisation: MLP 64-20-10 on 128 digits (cross-entropy)", families.back().second, kAt);

    // 3. CSV and the picture.
    example::write_summary("summary.csv", families, kAt);
    std::string plots = "set terminal pngcairo size 1400,1000; set output 'learned_optimizer.png'\n"
                        "set datafile separator ','; set grid; set logscale y; set xlabel 'step'\n"
                        "set termoption noenhanced; set key opaque box\n"
                        "set multiplot layout 2,2\n";
    for (const auto& [family, runs] : families) {
      example::write_curves(family + ".csv", runs);
      plots += "set ylabel 'mean loss over held-out tasks'; set title '";
      plots += family;
      plots += "'\nplot for [i=2:5] '";
      plots += family;
      plots += ".csv' using 1:i with lines lw 2 title columnheader(i), '' using 1:6 with lines lw 3 lc rgb 'black' "
               "title 'LSTM (learned)', '' using 1:7 with lines lw 2 dt 2 lc rgb 'black' title 'MLP (learned)'\n";
    }
    plots += "unset multiplot\n";
    example::gnuplot("learned_optimizer.gp", plots);
  }
  std::printf("\ntotal %.1f s\n", seconds_since(start));
  if (!ok) {
    std::printf("%s: the learned optimizer does not beat every tuned baseline on 10-D quadratics at step %d\n",
                smoke ? "FAILED" : "NOTE", kSteps);
    return smoke ? 1 : 0;
  }
  return 0;
}
