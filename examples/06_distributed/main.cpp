// 06_distributed: data parallelism across processes with MPI (the optional xgrad::dist module).
//
// Part 1 trains the digits MLP of example 05 (64 -> 32 tanh -> 10, adam) with a global batch of 240 split evenly
// over the ranks: each rank computes the gradient of its shard, one allreduce averages value and gradient, and every
// rank applies the same update, so the parameters stay equal everywhere (checked bit for bit at the end). Part 2
// meta-trains the LSTM optimizer of example 04 with each rank on its own tasks: the meta-gradients are averaged by
// one allreduce per outer step, so P ranks see P times the tasks per step. Part 3 is part 1 at a size where data
// parallelism pays: an MLP 784 -> 128 tanh -> 10 on the 10 000 MNIST digits, global batch 1000.
//
// Run: mpirun -np 2 ./example_06_distributed          (as root add --allow-run-as-root; --oversubscribe for more
//                                                       ranks than cores)
//      mpirun -np 64 --hostfile hosts ./example_06_distributed    (a cluster; or `srun ./example_06_distributed`)
//      bash ../../examples/06_distributed/scaling.sh   (1, 2 and 4 ranks on this machine: scaling.csv, scaling.png)
//      ./example_06_distributed --smoke                 (the ctest, on 2 ranks: a short run that checks its claims)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>
#include <xgrad/dist/dist.hpp>
#include <xgrad/xgrad.hpp>

#include "../data.hpp"

using namespace xgrad;
namespace opt = xgrad::optim;

namespace {

struct Layer {
  Tensor w, b;
};
struct MLP {
  Layer hidden, out;
};
Layer init_layer(random::Key key, std::size_t inputs, std::size_t outputs) {
  return {Tensor(random::normal(key, {inputs, outputs}, 0.0, 1.0 / std::sqrt(double(inputs)))),
          Tensor(Array(xt::zeros<double>({outputs})))};
}
Tensor logits(const MLP& m, const Tensor& X) { return linear(tanh(linear(X, m.hidden.w, m.hidden.b)), m.out.w, m.out.b); }
// Mean cross-entropy over this rank's shard; with equal shards the mean over ranks is the global batch's.
Tensor loss(const MLP& m, const Tensor& X, const Tensor& Y) { return mean(softmax_cross_entropy(logits(m, X), Y)); }

double accuracy(const MLP& m, const Tensor& X, const Array& labels) {
  return example::accuracy(logits(m, X).value(), labels);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

bool same_everywhere(const auto& tree, const dist::Communicator& world) {
  const auto mine = tree::leaves(tree), zero = tree::leaves(dist::broadcast(tree, 0, world));
  double differ = 0.0;
  for (std::size_t i = 0; i < mine.size(); ++i)
    differ += std::memcmp(mine[i].data(), zero[i].data(), mine[i].size() * sizeof(double)) != 0;
  world.allreduce_sum(&differ, 1);
  return differ == 0.0;
}

// Trains `model` with adam for `epochs` epochs over the first n_train rows of X_all / Y_all in batches of
// global_batch, each rank on its shard of every batch; returns the seconds per epoch. Prints the loss and the test
// accuracy every `report` epochs.
double train_data_parallel(MLP& model, const Tensor& X_all, const Tensor& Y_all, const std::vector<std::size_t>& order,
                           std::size_t n_train, std::size_t global_batch, int epochs, int report, double rate,
                           const Tensor& X_test, const Array& labels_test, const dist::Communicator& world) {
  const std::size_t shard = global_batch / std::size_t(world.size());
  auto adam = opt::adam(rate);
  auto state = adam.init(model);
  auto vg = dist::mean_over_ranks(value_and_grad(loss), world);  // one allreduce per step
  world.barrier();
  const auto start = std::chrono::steady_clock::now();
  double last_loss = 0.0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    for (std::size_t b = 0; b < n_train / global_batch; ++b) {
      const std::size_t first = b * global_batch + std::size_t(world.rank()) * shard;  // this rank's shard
      const std::vector<std::ptrdiff_t> mine(order.begin() + long(first), order.begin() + long(first + shard));
      auto [value, g] = vg(model, take(X_all, mine, 0), take(Y_all, mine, 0));
      auto [u, next] = adam.update(g, state, model);
      model = opt::apply_updates(model, u);
      state = std::move(next);
      last_loss = value.item();
    }
    if (world.rank() == 0 && (epoch % report == 0 || epoch == epochs))
      std::printf("  epoch %2d  batch loss %.4f  test accuracy %.3f\n", epoch, last_loss,
                  accuracy(model, X_test, labels_test));
  }
  return seconds_since(start) / epochs;
}

}  // namespace

int main(int argc, char** argv) {
  dist::Environment mpi(argc, argv);
  const auto world = dist::Communicator::world();
  const int rank = world.rank(), ranks = world.size();
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  const bool root = rank == 0;
  // --- Part 1: data-parallel training of the digits MLP --------------------------------------------------------
  constexpr std::size_t global_batch = 240;  // divisible by 1, 2, 3, 4, 5, 6, 8, ...
  if (global_batch % std::size_t(ranks) != 0) dist::abort("the global batch of 240 does not split over this many ranks");
  auto [pixels, labels] = example::split_xy(example::load_csv(example::data_path("digits.csv")));
  const std::size_t n_train = 1440;  // 6 batches of 240; the rest (357 images) is the test set
  const auto order = random::permutation(random::key(0), labels.size());
  auto pick = [&](std::size_t a, std::size_t b) { return std::vector<std::ptrdiff_t>(order.begin() + long(a), order.begin() + long(b)); };
  const Tensor X_all(Array(pixels / 16.0)), Y_all(one_hot(labels, 10));
  const Tensor X_test = take(X_all, pick(n_train, labels.size()), 0);
  const Array labels_test = take(Tensor(labels), pick(n_train, labels.size())).value();

  const int epochs = smoke ? 3 : 30;
  auto keys = random::split(random::key(1), 2);
  MLP model = dist::broadcast(MLP{init_layer(keys[0], 64, 32), init_layer(keys[1], 32, 10)}, 0, world);
  if (root)
    std::printf("part 1: digits MLP on %d rank(s), global batch %zu = %d x %zu, %d epochs\n", ranks, global_batch,
                ranks, global_batch / std::size_t(ranks), epochs);
  const double epoch_seconds = train_data_parallel(model, X_all, Y_all, order, n_train, global_batch, epochs, 10, 3e-3,
                                                   X_test, labels_test, world);
  const double acc = accuracy(model, X_test, labels_test);
  const bool equal = same_everywhere(model, world);
  if (root) std::printf("  %.1f ms per epoch; parameters equal on every rank: %s\n", 1e3 * epoch_seconds, equal ? "yes" : "NO");

  // --- Part 2: data-parallel meta-training of the LSTM optimizer ----------------------------------------------
  using Phi = learn::LstmOptimizerParams;
  const learn::LearnedOptions lo{.preprocess = learn::Preprocess::log_sign, .k = 10.0, .output_scale = 0.1};
  auto make = [lo](const Phi& p) { return learn::lstm_optimizer(p, lo); };
  const Phi phi0 = learn::init_lstm_optimizer(random::key(2016), lo, {.hidden = 20, .layers = 2});
  const int meta_steps = smoke ? 4 : 40;
  learn::MetaOptions mo{.unroll = 20, .horizon = 100, .steps = meta_steps, .learning_rate = 3e-3,
                        .threads = 1,  // one thread per rank: the ranks are the parallelism here
                        .sum_over_processes = dist::sum_over_ranks(world)};
  if (root)
    std::printf("part 2: meta-training on %d rank(s), each on its own tasks (32 quadratics of dim 10 per task), %d "
                "outer steps\n", ranks, meta_steps);
  world.barrier();
  const auto t2 = std::chrono::steady_clock::now();
  const auto result = learn::meta_train(phi0, make, learn::Quadratics{.dim = 10, .batch = 32},
                                        random::fold_in(random::key(7), std::uint32_t(rank)), mo);
  const double meta_seconds = seconds_since(t2) / meta_steps;
  const bool phi_equal = same_everywhere(result.params, world);
  if (root)
    std::printf("  meta-loss %.3e -> %.3e; %.1f ms per outer step (%d tasks' unrolls); phi equal on every rank: %s\n",
                result.meta_losses.front(), result.meta_losses.back(), 1e3 * meta_seconds, ranks,
                phi_equal ? "yes" : "NO");

  // --- Part 3: the same on MNIST, where each rank's shard is milliseconds of work ----------------------------
  const auto mnist = example::load_mnist();
  constexpr std::size_t mnist_batch = 1000, mnist_train = 9000;  // 9 steps per epoch; the last 1000 digits test
  if (mnist_batch % std::size_t(ranks) != 0) dist::abort("the global batch of 1000 does not split over this many ranks");
  const auto mnist_order = random::permutation(random::key(3), mnist.labels.size());
  const std::vector<std::ptrdiff_t> mnist_test(mnist_order.begin() + long(mnist_train), mnist_order.end());
  const Tensor M_all(mnist.images), MY_all(one_hot(mnist.labels, 10));
  const Tensor M_test = take(M_all, mnist_test, 0);
  const Array mlabels_test = take(Tensor(mnist.labels), mnist_test).value();
  const int mnist_epochs = smoke ? 1 : 5;
  auto mkeys = random::split(random::key(4), 2);
  MLP wide = dist::broadcast(MLP{init_layer(mkeys[0], 784, 128), init_layer(mkeys[1], 128, 10)}, 0, world);
  if (root)
    std::printf("part 3: MNIST MLP 784-128-10 on %d rank(s), global batch %zu = %d x %zu, %d epochs\n", ranks,
                mnist_batch, ranks, mnist_batch / std::size_t(ranks), mnist_epochs);
  const double mnist_seconds = train_data_parallel(wide, M_all, MY_all, mnist_order, mnist_train, mnist_batch,
                                                   mnist_epochs, 1, 3e-3, M_test, mlabels_test, world);
  const double mnist_acc = accuracy(wide, M_test, mlabels_test);
  const bool wide_equal = same_everywhere(wide, world);
  if (root)
    std::printf("  %.1f ms per epoch; parameters equal on every rank: %s\n", 1e3 * mnist_seconds,
                wide_equal ? "yes" : "NO");

  if (root && !smoke) {  // one line per run, for scaling.sh
    std::ofstream("scaling_run.csv", std::ios::app) << ranks << "," << epoch_seconds << "," << meta_seconds << ","
                                                    << mnist_seconds << "\n";
  }
  // The claims: equal parameters everywhere, and the MLPs learn.
  const bool ok = equal && phi_equal && wide_equal && acc > (smoke ? 0.5 : 0.9) && mnist_acc > (smoke ? 0.7 : 0.9);
  if (root && !ok)
    std::printf("FAILED: equal %d, phi equal %d, MNIST equal %d, accuracy %.3f, MNIST accuracy %.3f\n", equal,
                phi_equal, wide_equal, acc, mnist_acc);
  return ok ? 0 : 1;
}
