// 07_mnist_learned_optimizer: the MNIST experiment of "Learning to learn by gradient descent by gradient descent"
// (Andrychowicz et al. 2016, section 3.2). A coordinatewise 2-layer LSTM (20 units) is meta-trained to train an MLP
// (784-20-10, sigmoid, cross-entropy, a fresh minibatch of 128 digits per step, 100 steps, fresh weights per task) by
// truncated backpropagation through unrolls of 20 steps, then compared on held-out tasks with SGD, NAG, RMSprop and
// Adam, each with its learning rate tuned on a separate pool of digits; then on the paper's variants (40 hidden
// units, 2 hidden layers, ReLU), never seen in meta-training, against baselines re-tuned on each.
//
// Data: the 10 000 MNIST digits that scripts/fetch-mnist.sh installs (make test / make demo run it), split into a
// meta-training pool (6000), a tuning pool (2000), a held-out pool (1500: the evaluation tasks' minibatches) and a
// test pool (500: the accuracy of the trained networks).
//
// Run: ./example_07_mnist_learned_optimizer              evaluates examples/data/lstm_mnist.npz against the tuned
//                                                         baselines on every network (~10 min on 2 cores); writes
//                                                         summary.csv, one CSV per network, mnist_learned_optimizer.png
//      ./example_07_mnist_learned_optimizer --meta-train [--meta-steps N] [--meta-lr LR] [--meta-lr-final LR]
//          [--from F0] [--seed S] [--networks B] [--log-loss] [--unroll T] [--checkpoint-every L] [--threads T]
//          [--params F]
//          meta-trains (from scratch, or on from the weights in F0) with a progress line, checkpointing every 25
//          steps (to F, default the shipped file) and writing meta_training.csv in the working folder
//      ./example_07_mnist_learned_optimizer --time [--unroll T] [--checkpoint-every L]
//                                                         times one meta-gradient (of --unroll steps, default 20) and
//                                                         one run
//      ./example_07_mnist_learned_optimizer --smoke       the ctest: the full run's claims on 8 held-out tasks, and a
//                                                         short meta-training run that lowers a held-out meta-loss
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <iostream>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "../compare.hpp"
#include "../data.hpp"
#include "../plot.hpp"

using namespace xgrad;  // Array, Tensor, random::, tree::
namespace opt = xgrad::optim;

namespace {

constexpr int kSteps = 100;   // inner steps of every run (the horizon)
constexpr int kUnroll = 20;   // truncation of the meta-gradient
constexpr std::size_t kBatch = 128;
const std::vector<int> kAt = {20, 50, kSteps};  // the steps the tables report
const learn::LearnedOptions kLearnedOptions{.preprocess = learn::Preprocess::log_sign, .k = 10.0, .output_scale = 0.1};
const learn::LstmShape kLstmShape{.hidden = 20, .layers = 2};
const char* kParamsFile = "lstm_mnist.npz";
const random::Key kMetaKey = random::key(2016), kSweepKey = random::key(7), kTestKey = random::key(12345);

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The paper's base task, and its variants, on one pool of digits.
learn::MlpClassification mnist_task(const example::Mnist& pool, std::size_t hidden = 20, std::size_t layers = 1,
                                    learn::Activation act = learn::Activation::sigmoid) {
  return {.X = pool.images, .labels = pool.labels, .classes = 10, .hidden = hidden, .samples = 0, .layers = layers,
          .activation = act, .batch = kBatch};
}

auto make_lstm = [](const learn::LstmOptimizerParams& p) { return learn::lstm_optimizer(p, kLearnedOptions); };

// One network of the paper's table: the base MLP or a variant.
struct Variant {
  std::string name, title;
  std::size_t hidden, layers;
  learn::Activation activation;
};
const std::vector<Variant> kVariants = {
    {"base", "MLP 784-20-10, sigmoid (meta-training task)", 20, 1, learn::Activation::sigmoid},
    {"wide", "40 hidden units", 40, 1, learn::Activation::sigmoid},
    {"deep", "2 hidden layers of 20", 20, 2, learn::Activation::sigmoid},
    {"relu", "ReLU instead of sigmoid", 20, 1, learn::Activation::relu},
};

// `n` tasks of a variant on one pool, task i from fold_in(key, i).
std::vector<learn::MlpTask> tasks_of(const Variant& v, const example::Mnist& pool, random::Key key, std::size_t n) {
  const auto dist = mnist_task(pool, v.hidden, v.layers, v.activation);
  std::vector<learn::MlpTask> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(dist.sample(random::fold_in(key, static_cast<std::uint32_t>(i))));
  return out;
}

// The accuracy on the test pool of the network a run ends with.
auto test_accuracy(const example::Mnist& test, learn::Activation activation) {
  return [X = Tensor(test.images), labels = test.labels, activation](const learn::MlpWeights& w) {
    return example::accuracy(learn::mlp_logits(w, X, activation).value(), labels);
  };
}

// The tuned baselines and the LSTM on one variant: baselines' rates swept on `sweep` tasks of the tuning pool, all
// runs on `test` tasks of the held-out pool, scored by their networks' accuracy on the test pool.
std::vector<example::Run> compare(const Variant& v, const example::MnistPools& pools,
                                  const learn::LstmOptimizerParams& phi, std::size_t sweep, std::size_t test,
                                  const std::vector<double>& lrs) {
  const auto sweep_tasks = tasks_of(v, pools.tuning, kSweepKey, sweep);
  const auto test_tasks = tasks_of(v, pools.held_out, kTestKey, test);
  const auto score = test_accuracy(pools.test, v.activation);
  auto runs = example::tuned_baselines(sweep_tasks, test_tasks, lrs, kSteps, score);
  auto c = example::curves_on(make_lstm(phi), test_tasks, kSteps, score);
  runs.push_back({"LSTM", NAN, std::move(c.curves), std::move(c.scores)});
  return runs;
}

// One row of a summary.csv (example::write_summary): family, optimizer, tuned lr, mean / sd / median at the steps of
// kAt, score mean and sd.
struct SummaryRow {
  std::string family, optimizer;
  std::vector<double> values;  // lr, mean20, sd20, median20, mean50, ..., score_mean, score_sd
  double mean_at(std::size_t i) const { return values.at(1 + 3 * i); }  // at step kAt[i]
  double mean_at_last() const { return mean_at(kAt.size() - 1); }
};
std::vector<SummaryRow> read_summary(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("read_summary: cannot open " + file);
  std::vector<SummaryRow> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    SummaryRow r;
    std::string cell;
    std::getline(cells, r.family, ',');
    std::getline(cells, r.optimizer, ',');
    while (std::getline(cells, cell, ',')) r.values.push_back(cell == "nan" ? NAN : std::stod(cell));
    rows.push_back(std::move(r));
  }
  return rows;
}

// The baselines at the learning rates the full run tuned (its summary.csv) and the LSTM, on `test` held-out tasks of
// the base network.
std::vector<example::Run> compare_at_tuned(const std::vector<SummaryRow>& summary, const example::MnistPools& pools,
                                           const learn::LstmOptimizerParams& phi, std::size_t test) {
  const auto test_tasks = tasks_of(kVariants[0], pools.held_out, kTestKey, test);
  std::vector<example::Run> runs;
  for (const auto& row : summary) {
    if (row.family != kVariants[0].name) continue;
    const double lr = row.values.at(0);
    auto run = [&](auto o) { return example::Run{row.optimizer, lr, example::curves_on(o, test_tasks, kSteps).curves}; };
    if (row.optimizer == "SGD") runs.push_back(run(opt::sgd(lr)));
    if (row.optimizer == "NAG") runs.push_back(run(opt::sgd(lr, {.momentum = 0.9, .nesterov = true})));
    if (row.optimizer == "RMSprop") runs.push_back(run(opt::rmsprop(lr)));
    if (row.optimizer == "Adam") runs.push_back(run(opt::adam(lr)));
    if (row.optimizer == "LSTM") runs.push_back({"LSTM", NAN, example::curves_on(make_lstm(phi), test_tasks, kSteps).curves});
  }
  if (runs.size() != 5) throw std::runtime_error("compare_at_tuned: the summary lacks rows of the base network");
  return runs;
}

}  // namespace

int main(int argc, char** argv) {
  bool meta = false, time_only = false, smoke = false;
  std::size_t sweep_tasks = 10, test_tasks = 100;
  int meta_steps = 2000;
  std::size_t threads = 1, meta_batch = 1;
  double meta_lr = 1e-3, meta_lr_final = -1.0;  // final < 0: a constant rate
  std::string from_file;                         // --from: meta-train on from these weights
  std::uint32_t seed = 0;                        // --seed: another stream of meta-training tasks
  std::size_t networks = 1;                      // --networks: MLPs per meta-training task
  bool log_loss = false;                         // --log-loss: the meta-loss sums the logs of the step losses
  int unroll = kUnroll;                          // --unroll: the truncation (kSteps: the whole horizon, no bias)
  int checkpoint_every = 0;                      // --checkpoint-every: recompute segments of this many steps
  std::string params_file = example::data_path(kParamsFile);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--meta-train") == 0) meta = true;
    else if (std::strcmp(argv[i], "--time") == 0) time_only = true;
    else if (std::strcmp(argv[i], "--smoke") == 0) smoke = true;
    else if (std::strcmp(argv[i], "--tasks") == 0 && i + 1 < argc) test_tasks = std::size_t(std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--sweep-tasks") == 0 && i + 1 < argc) sweep_tasks = std::size_t(std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--meta-steps") == 0 && i + 1 < argc) meta_steps = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::size_t(std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--meta-batch") == 0 && i + 1 < argc) meta_batch = std::size_t(std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--meta-lr") == 0 && i + 1 < argc) meta_lr = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--meta-lr-final") == 0 && i + 1 < argc) meta_lr_final = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--from") == 0 && i + 1 < argc) from_file = argv[++i];
    else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = std::uint32_t(std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--networks") == 0 && i + 1 < argc) networks = std::size_t(std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--log-loss") == 0) log_loss = true;
    else if (std::strcmp(argv[i], "--unroll") == 0 && i + 1 < argc) unroll = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--checkpoint-every") == 0 && i + 1 < argc) checkpoint_every = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--params") == 0 && i + 1 < argc) params_file = argv[++i];
    else {
      std::printf("usage: %s [--smoke] [--tasks N] [--sweep-tasks N] [--time] [--params FILE.npz]\n"
                  "       %s --meta-train [--meta-steps N] [--threads T] [--meta-batch B] [--meta-lr LR] [--meta-lr-final LR]\n"
                  "          [--from FILE.npz] [--seed S] [--networks B] [--log-loss] [--unroll T] [--checkpoint-every L]\n"
                  "          [--params FILE.npz]\n",
                  argv[0], argv[0]);
      return 2;
    }
  }
  if (unroll < 1 || kSteps % unroll != 0 || checkpoint_every < 0) {
    std::printf("--unroll must divide %d (got %d) and --checkpoint-every be >= 0 (got %d)\n", kSteps, unroll,
                checkpoint_every);
    return 2;
  }
  const auto pools = example::mnist_pools(example::load_mnist());
  const learn::LstmOptimizerParams phi0 = learn::init_lstm_optimizer(random::key(0), kLearnedOptions, kLstmShape);
  auto base = mnist_task(pools.meta);

  if (time_only) {
    const auto task = base.sample(random::key(1));
    const auto x = task.init();
    std::printf("coordinates: %zu\n", tree::ravel(x).first.size());
    auto lstm = make_lstm(phi0);
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = learn::meta_value_and_grad(phi0, make_lstm, task, x, lstm.init(x), 0, unroll,
                                          {.checkpoint_every = checkpoint_every});
      std::printf("meta-gradient over %d steps (checkpoints every %d): %.3f s (meta-loss %.4f)\n", unroll,
                  checkpoint_every, seconds_since(t0), r.meta_loss.item());
    }
    const auto t1 = std::chrono::steady_clock::now();
    learn::loss_curves(opt::adam(1e-2), task, kSteps);
    std::printf("adam, %d steps: %.3f s\n", kSteps, seconds_since(t1));
    const auto t2 = std::chrono::steady_clock::now();
    learn::loss_curves(lstm, task, kSteps);
    std::printf("lstm, %d steps (no tape): %.3f s\n", kSteps, seconds_since(t2));
    return 0;
  }

  if (meta) {
    const std::string& file = params_file;
    // --from goes on from saved weights (with a fresh outer adam); --meta-lr-final decays the outer rate along a
    // cosine; --seed draws another stream of tasks (seed 0 is the shipped run's); --networks B trains B networks per
    // task (one LSTM run over all their coordinates, the meta-loss their mean).
    base.networks = networks;
    const auto start_phi = from_file.empty() ? phi0 : tree::load(from_file, phi0);
    const random::Key key = seed == 0 ? kMetaKey : random::fold_in(kMetaKey, seed);
    const optim::LearningRate lr = meta_lr_final < 0.0 ? optim::LearningRate(meta_lr)
                                                       : optim::LearningRate(optim::cosine_decay(
                                                             meta_lr, meta_steps, meta_lr_final / meta_lr));
    std::printf("meta-training the LSTM optimizer on the MNIST MLP: %d steps, unrolls of %d within %d, meta-batch %zu, "
                "%zu threads, outer adam %.3g", meta_steps, unroll, kSteps, meta_batch, threads, meta_lr);
    if (checkpoint_every > 0) std::printf(", checkpointed every %d inner steps", checkpoint_every);
    if (meta_lr_final >= 0.0) std::printf(" decaying to %.3g (cosine)", meta_lr_final);
    if (!from_file.empty()) std::printf(", from %s", from_file.c_str());
    std::printf(", task seed %u, %zu network(s) per task, meta-loss %s; checkpoints to %s\n", seed, networks,
                log_loss ? "sum of log losses" : "sum of losses", file.c_str());
    std::vector<double> steps, losses;
    const auto r = learn::meta_train(
        start_phi, make_lstm, base, key,
        {.unroll = unroll, .horizon = kSteps, .steps = meta_steps, .learning_rate = lr, .log_loss = log_loss,
         .print_every = 5, .progress = &std::cout, .meta_batch = static_cast<int>(meta_batch), .threads = threads,
         .checkpoint_every = checkpoint_every},
        [&](int step, const learn::LstmOptimizerParams& phi, double loss) {
          steps.push_back(step);
          losses.push_back(loss);
          if (step % 25 == 0 || step == meta_steps) {
            tree::save(file, phi);
            example::write_csv("meta_training.csv", {"step", "meta_loss"}, {steps, losses});
          }
        });
    std::printf("meta-training took %.1f s (%d non-finite unrolls skipped, %d tasks); saved %s\n", r.seconds,
                r.skipped, r.tasks, file.c_str());
    return 0;
  }
  // The comparison. --smoke: the shipped optimizer against the baselines at the full run's tuned rates on a few
  // held-out tasks, and a short meta-training run on MNIST that must lower the meta-loss and round-trip its file.
  const std::string& shipped = params_file;
  if (!std::filesystem::exists(shipped)) {
    std::printf("FAILED: %s is missing (run with --meta-train to make it)\n", shipped.c_str());
    return 1;
  }
  const auto phi = tree::load(shipped, phi0);
  std::printf("loaded the meta-trained LSTM optimizer from %s\n", shipped.c_str());
  const auto start = std::chrono::steady_clock::now();
  if (smoke) {
    // The full run's claim about the base network: whether the LSTM had the lowest mean loss at step 100, and its
    // mean there. On 8 tasks the smoke test checks the same ordering where the full run's lead was clear (over 10 %),
    // otherwise that the LSTM's mean is the full run's within a factor of 2.
    const auto summary = read_summary(std::string(XGRAD_EXAMPLE_DIR) + "/summary.csv");
    const SummaryRow* lstm = nullptr;
    for (const auto& row : summary)
      if (row.family == kVariants[0].name && row.optimizer == "LSTM") lstm = &row;
    if (!lstm) throw std::runtime_error("smoke: summary.csv has no LSTM row for the base network");
    const auto claimed_leads = [&](std::size_t i) {  // the full run's LSTM below every baseline at step kAt[i]
      bool leads = true;
      for (const auto& row : summary)
        if (row.family == lstm->family && row.optimizer != "LSTM") leads = leads && lstm->mean_at(i) < row.mean_at(i);
      return leads;
    };
    const auto runs = compare_at_tuned(summary, pools, phi, 8);  // the LSTM's run last
    const auto leads = [&](int step) {
      bool below = true;
      for (const auto& r : runs)
        if (r.name != "LSTM")
          below = below && example::stats_at(runs.back().curves, step).mean < example::stats_at(r.curves, step).mean;
      return below;
    };
    example::report("smoke: base MLP at the full run's tuned rates", runs, kAt);
    const bool claimed_best = claimed_leads(kAt.size() - 1);
    const double claimed_mean = lstm->mean_at_last(), mean = example::stats_at(runs.back().curves, kSteps).mean;
    // A lead of less than 10 % over 100 tasks is within what 8 tasks can resolve (the tasks' sd is about 40 % of
    // the mean): then only the LSTM's mean is checked, as when it was not best.
    double runner_up = INFINITY;
    for (const auto& row : summary)
      if (row.family == lstm->family && row.optimizer != "LSTM") runner_up = std::min(runner_up, row.mean_at_last());
    const bool clear_lead = claimed_best && claimed_mean < runner_up / 1.1;
    bool ok = clear_lead ? leads(kSteps) : (mean > 0.5 * claimed_mean && mean < 2.0 * claimed_mean);
    std::printf("the full run found the LSTM %s on the base network (mean %.4g at step %d, the best baseline %.4g); "
                "here %.4g: %s\n",
                claimed_best ? (clear_lead ? "best by over 10 %" : "best by less than 10 %") : "not best", claimed_mean,
                kSteps, runner_up, mean, ok ? "consistent" : "NOT consistent");
    // And where it led at step 20, it leads here too.
    const bool claimed_early = claimed_leads(0), early = leads(kAt[0]);
    std::printf("at step %d the full run found the LSTM %s; here %s\n", kAt[0], claimed_early ? "best" : "not best",
                early ? "best" : "not best");
    ok = ok && (!claimed_early || early);
    // A short meta-training run from scratch must lower the meta-loss of 10 steps on a task it never saw.
    const auto probe = mnist_task(pools.held_out).sample(random::key(99));
    auto meta_loss = [&](const learn::LstmOptimizerParams& p) {
      const auto lstm = make_lstm(p);
      const auto w = probe.init();
      return learn::unroll_optimizer(lstm, probe, w, lstm.init(w), 0, 10).meta_loss.item();
    };
    const auto r = learn::meta_train(phi0, make_lstm, base, kMetaKey,
                                     {.unroll = 5, .horizon = 10, .steps = 10, .learning_rate = 3e-3,
                                      .print_every = 5, .progress = &std::cout});
    tree::save("smoke_lstm_mnist.npz", r.params);
    const auto back = tree::load("smoke_lstm_mnist.npz", phi0);
    const bool round_trip = tree::ravel(back).first == tree::ravel(r.params).first;
    const double before = meta_loss(phi0), after = meta_loss(r.params);
    const bool lowered = r.skipped == 0 && after < before;
    std::printf("smoke meta-training: held-out meta-loss (10 steps) %.4g -> %.4g; round trip %s\n", before, after,
                round_trip ? "exact" : "DIFFERS");
    ok = ok && round_trip && lowered;
    std::printf("smoke: %s (%.1f s)\n", ok ? "passed" : "FAILED", seconds_since(start));
    return ok ? 0 : 1;
  }
  const auto lrs = example::log_space(-4.0, 1.0, 11);  // two rates per decade
  std::vector<std::pair<std::string, std::vector<example::Run>>> families;
  int lstm_best = 0;
  for (const auto& v : kVariants) {
    families.push_back({v.name, compare(v, pools, phi, sweep_tasks, test_tasks, lrs)});
    lstm_best += example::report(v.title, families.back().second, kAt);
    example::write_curves(v.name + ".csv", families.back().second);
    std::printf("  (%.0f s so far)\n", seconds_since(start));
  }
  example::write_summary("summary.csv", families, kAt);
  std::string plots = "set terminal pngcairo size 1400,1000; set output 'mnist_learned_optimizer.png'\n"
                      "set datafile separator ','; set grid; set logscale y; set xlabel 'step'\n"
                      "set termoption noenhanced; set key opaque box\n"
                      "set multiplot layout 2,2\n";
  for (const auto& v : kVariants) {
    plots += "set ylabel 'mean training loss (minibatch) over held-out tasks'; set title '" + v.title + "'\n";
    plots += "plot for [i=2:5] '" + v.name + ".csv' using 1:i with lines lw 2 title columnheader(i), '' using 1:6 "
             "with lines lw 3 lc rgb 'black' title 'LSTM (learned)'\n";
  }
  plots += "unset multiplot\n";
  example::gnuplot("mnist_learned_optimizer.gp", plots);
  std::printf("\nthe LSTM has the lowest mean loss at step %d on %d of %zu networks (%.0f s)\n", kSteps, lstm_best,
              kVariants.size(), seconds_since(start));
  return 0;
}
