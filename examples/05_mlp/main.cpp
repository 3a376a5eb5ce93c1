// 05_mlp: a small multilayer perceptron (64 -> 32 tanh -> 10) learns the 8x8 hand-written digits, trained with
// adam through the pytree API: the model is a plain struct, and value_and_grad returns a struct of the same type.
//
// Run: ./example_05_mlp           (30 epochs; writes training.csv and, with gnuplot, training.png)
//      ./example_05_mlp --smoke   (the ctest: 5 epochs, fails unless the test accuracy beats kSmokeAccuracy)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "../data.hpp"
#include "../plot.hpp"

using xgrad::Array;
using xgrad::Tensor;

// The model: ordinary structs of Tensors, so pytrees. grad, the optimizer state and apply_updates follow them.
struct Layer {
  Tensor w, b;  // y = x w + b, w of shape (inputs, outputs)
};
struct MLP {
  Layer hidden, out;
};

// LeCun-normal weights (stddev 1/sqrt(fan_in)) and zero biases, from a PRNG key.
static Layer init_layer(xgrad::random::Key key, std::size_t inputs, std::size_t outputs) {
  return {Tensor(xgrad::random::normal(key, {inputs, outputs}, 0.0, 1.0 / std::sqrt(double(inputs)))),
          Tensor(Array(xt::zeros<double>({outputs})))};
}

static Tensor logits(const MLP& m, const Tensor& X) {
  Tensor h = xgrad::tanh(xgrad::matmul(X, m.hidden.w) + m.hidden.b);
  return xgrad::matmul(h, m.out.w) + m.out.b;
}

// Mean softmax cross-entropy of a batch; Y holds one-hot labels.
static Tensor loss(const MLP& m, const Tensor& X, const Tensor& Y) {
  return xgrad::mean(xgrad::softmax_cross_entropy(logits(m, X), Y));
}

// Fraction of test images whose largest logit is the label.
static double accuracy(const MLP& m, const Array& X, const Array& labels) {
  return example::accuracy(logits(m, Tensor(X)).value(), labels);
}

// idx[begin, end) as the signed index list that take() wants.
static std::vector<std::ptrdiff_t> rows(const std::vector<std::size_t>& idx, std::size_t begin, std::size_t end) {
  return {idx.begin() + std::ptrdiff_t(begin), idx.begin() + std::ptrdiff_t(end)};
}

constexpr double kSmokeAccuracy = 0.90;  // --smoke reaches 0.939 (0.929 to 0.966 over keys 0..19): README.md

int main(int argc, char** argv) {
  using namespace xgrad;
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  const int epochs = smoke ? 5 : 30;
  const std::size_t batch = 32, hidden = 32, n_train = 1500;
  const auto start = std::chrono::steady_clock::now();

  // The loader names the path when a file is missing or malformed; check the missing case.
  try {
    example::load_csv(example::data_path("no_such_file.csv"));
    std::printf("load_csv did not throw for a missing file\n");
    return 1;
  } catch (const std::runtime_error& e) {
    std::printf("a missing file: %s\n", e.what());
  }

  // 1. Data: 1797 images of 64 pixels in 0..16 and a label 0..9. Pixels scaled to [0, 1]; a fixed random split.
  auto [pixels, labels] = example::split_xy(example::load_csv(example::data_path("digits.csv")));
  const Array X = pixels / 16.0;
  const Tensor Y = one_hot(labels, 10);  // as jax.nn.one_hot
  const std::size_t n = X.shape()[0];
  auto keys = random::split(random::key(0), 4);  // split, hidden layer, output layer, shuffles
  const std::vector<std::size_t> order = random::permutation(keys[0], n);
  const auto train_rows = rows(order, 0, n_train), test_rows = rows(order, n_train, n);
  const Tensor X_train = take(Tensor(X), train_rows, 0), Y_train = take(Y, train_rows, 0);
  const Array X_test = take(Tensor(X), test_rows, 0).value(), labels_test = take(Tensor(labels), test_rows).value();
  std::printf("digits: %zu train and %zu test images of %zu pixels\n", n_train, n - n_train, X.shape()[1]);

  // 2. Model and optimizer.
  MLP model{init_layer(keys[1], 64, hidden), init_layer(keys[2], hidden, 10)};
  auto opt = optim::adam(3e-3);
  auto state = opt.init(model);
  std::printf("model %s, adam(3e-3), batches of %zu\n", tree::repr(model).c_str(), batch);

  // 3. Training: each epoch visits the training rows in a new order (a key folded with the epoch number).
  std::vector<double> col_epoch, col_loss, col_accuracy;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto shuffled = random::permutation(random::fold_in(keys[3], std::uint32_t(epoch)), n_train);
    double total = 0.0;
    for (std::size_t begin = 0; begin < n_train; begin += batch) {
      const auto idx = rows(shuffled, begin, std::min(begin + batch, n_train));
      const Tensor Xb = take(X_train, idx, 0), Yb = take(Y_train, idx, 0);
      auto [value, g] = value_and_grad(loss)(model, Xb, Yb);  // g is an MLP
      auto [updates, next] = opt.update(g, state, model);
      model = optim::apply_updates(model, updates);
      state = next;
      total += value.item() * double(idx.size());
    }
    const double train_loss = total / double(n_train), test_accuracy = accuracy(model, X_test, labels_test);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %2d  train loss %.4f  test accuracy %.4f  %6.2f s\n", epoch, train_loss, test_accuracy,
                elapsed);
    col_epoch.push_back(epoch);
    col_loss.push_back(train_loss);
    col_accuracy.push_back(test_accuracy);
  }

  // 4. The picture: training loss and test accuracy per epoch.
  example::write_csv("training.csv", {"epoch", "train_loss", "test_accuracy"}, {col_epoch, col_loss, col_accuracy});
  example::gnuplot("training.gp",
                   "set terminal pngcairo size 800,500; set output 'training.png'\n"
                   "set datafile separator ','; set key center right; set grid; set xlabel 'epoch'\n"
                   "set ylabel 'mean cross-entropy (train)'; set y2label 'accuracy (test)'\n"
                   "set logscale y; set ytics nomirror; set y2tics; set y2range [0.75:1]\n"
                   "set title 'MLP 64-32-10 on the digits, adam: training loss and test accuracy'\n"
                   "plot 'training.csv' using 1:2 skip 1 with linespoints lw 2 title 'train loss', "
                   "'' using 1:3 skip 1 axes x1y2 with linespoints lw 2 title 'test accuracy'\n");

  const double final_accuracy = col_accuracy.back();
  std::printf("final test accuracy %.4f\n", final_accuracy);
  if (smoke && !(final_accuracy > kSmokeAccuracy)) {
    std::printf("FAILED: test accuracy %.4f is not above %.2f\n", final_accuracy, kSmokeAccuracy);
    return 1;
  }
  return 0;
}
