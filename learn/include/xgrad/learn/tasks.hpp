#pragma once
// Task distributions for meta-training and evaluating optimizers (learned.hpp, meta.hpp).
//
//   learn::Quadratics dist{.dim = 10, .batch = 32};
//   auto task = dist.sample(random::key(1));     // 32 independent problems f_i(x_i) = ||W_i x_i - y_i||^2
//   Tensor x = task.init();                      // (32, 10): the starting points, one row per problem
//   Tensor f = task.losses(x);                   // (32,): each problem's loss
//
// A *task* has `init()` (the starting parameters, any pytree) and `losses(params)` (a 1-D Tensor: the loss of each of
// its independent problems). A *distribution* has `sample(random::Key) -> task`. Problems of one task are
// independent (problem i depends only on row i of the parameters), so the gradient of sum(losses) is every problem's
// own gradient: a coordinatewise optimizer run on the whole task runs on each problem separately, and one task of
// `batch` problems is `batch` runs for the cost of one. Problem i of a sample is drawn from fold_in(key, i): the
// first problems of a key are the same whatever the batch size. MlpClassification (a small MLP on a data set the caller
// loads, e.g. the digits of examples/data) gives one problem per task, with a struct of weights as parameters.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/linalg.hpp"
#include "xgrad/ad/losses.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::learn {

/// A task: starting parameters and per-problem losses (a 1-D Tensor). A task whose objective changes from step to
/// step (a fresh minibatch per inner step) has `losses(params, step)` instead: the losses the optimizer sees at
/// step k (k = 0 at init()). Call either kind through losses_at.
template <class T>
concept Task = requires(const T& t) { t.init(); } &&
               (requires(const T& t) {
                 { t.losses(t.init()) } -> std::convertible_to<Tensor>;
               } || requires(const T& t, int step) {
                 { t.losses(t.init(), step) } -> std::convertible_to<Tensor>;
               });

/// A distribution of tasks, sampled from a PRNG key.
template <class D>
concept TaskDistribution = requires(const D& d, random::Key k) {
  { d.sample(k) } -> Task;
};

/// A task's losses at inner step `step`: losses(params, step) where the task has it, else losses(params).
template <Task T, class P>
Tensor losses_at(const T& task, const P& params, int step) {
  if constexpr (requires { task.losses(params, step); })
    return task.losses(params, step);
  else
    return task.losses(params);
}

/// The sum of a task's losses at step `step`: the objective whose gradient a (coordinatewise) optimizer follows.
template <Task T, class P>
Tensor total_loss(const T& task, const P& params, int step = 0) {
  return sum(losses_at(task, params, step));
}

namespace detail {
/// Stack `batch` draws of f(key_i) (each of shape `shape`) along a new leading axis, key_i = fold_in(key, i).
template <class F>
Array stack_draws(random::Key key, std::size_t batch, const Shape& shape, F f) {
  Shape full{batch};
  full.insert(full.end(), shape.begin(), shape.end());
  Array out = Array::from_shape(full);
  std::size_t per = 1;
  for (auto s : shape) per *= s;
  for (std::size_t i = 0; i < batch; ++i) {
    const Array a = f(random::fold_in(key, static_cast<std::uint32_t>(i)));
    std::copy(a.begin(), a.end(), out.begin() + static_cast<std::ptrdiff_t>(i * per));
  }
  return out;
}
/// X (b, n, d) times w (b, d) row by row: (b, n).
inline Tensor batched_matvec(const Tensor& X, const Tensor& w) {
  const auto b = static_cast<std::ptrdiff_t>(w.shape()[0]), d = static_cast<std::ptrdiff_t>(w.shape()[1]);
  return sum(X * reshape(w, {b, 1, d}), {2});
}
inline void check_positive(std::size_t v, const char* what) {
  if (v == 0) throw ValueError(std::string("xgrad::learn::tasks: ") + what + " must be positive");
}
/// Linear-model data for `batch` problems of `samples` rows: problem i (key k_i = fold_in(key, i)) has features X_i
/// (samples, dim) standard normal from fold_in(k_i, 0), a true w_i standard normal from fold_in(k_i, 1), noise e_i
/// with standard deviation `noise` from fold_in(k_i, 2), and targets label(X_i w_i + e_i) row by row. Returns
/// X (batch, samples, dim) and the targets (batch, samples).
template <class Label>
std::pair<Array, Array> linear_model_data(random::Key key, std::size_t batch, std::size_t samples, std::size_t dim,
                                          double noise, Label label) {
  Array X = stack_draws(key, batch, {samples, dim},
                        [&](random::Key k) { return random::normal(random::fold_in(k, 0), {samples, dim}); });
  Array t = stack_draws(key, batch, {samples}, [&](random::Key k) {
    const Array Xi = random::normal(random::fold_in(k, 0), {samples, dim});
    const Array w = random::normal(random::fold_in(k, 1), {dim});
    const Array e = random::normal(random::fold_in(k, 2), {samples}, 0.0, noise);
    Array out = Array::from_shape({samples});
    for (std::size_t r = 0; r < samples; ++r) {
      double z = e(r);
      for (std::size_t j = 0; j < dim; ++j) z += Xi(r, j) * w(j);
      out(r) = label(z);
    }
    return out;
  });
  return {std::move(X), std::move(t)};
}
}  // namespace detail

/// `batch` random quadratics f_i(x_i) = ||W_i x_i - y_i||^2 (the paper's section 3.1): W_i (dim, dim) and y_i (dim)
/// standard normal, x_i starting at normal(0, init_stddev).
struct QuadraticTask {
  Tensor W;   ///< (batch, dim, dim)
  Tensor y;   ///< (batch, dim)
  Tensor x0;  ///< (batch, dim)
  Tensor init() const { return x0; }
  /// (batch,): ||W_i x_i - y_i||^2 for each row x_i of x (batch, dim).
  Tensor losses(const Tensor& x) const { return sum(square(detail::batched_matvec(W, x) - y), {1}); }
};

/// The distribution of QuadraticTask.
struct Quadratics {
  std::size_t dim = 10;       ///< dimension of each problem
  std::size_t batch = 1;      ///< independent problems per task
  double init_stddev = 0.01;  ///< starting points x_i ~ normal(0, init_stddev) (as in the paper's code)
  QuadraticTask sample(random::Key key) const {
    detail::check_positive(dim, "dim");
    detail::check_positive(batch, "batch");
    auto draw = [&](std::uint32_t part, const Shape& shape, double sd) {
      return detail::stack_draws(key, batch, shape, [&](random::Key k) {
        return random::normal(random::fold_in(k, part), shape, 0.0, sd);
      });
    };
    return {Tensor(draw(0, {dim, dim}, 1.0)), Tensor(draw(1, {dim}, 1.0)), Tensor(draw(2, {dim}, init_stddev))};
  }
};

/// `batch` ridge regressions f_i(w_i) = mean_n (X_i w_i - t_i)^2 + l2 ||w_i||^2 on random data: X_i (samples, dim)
/// standard normal, t_i = X_i w_true + noise * normal, w_true standard normal; w starts at 0.
struct RidgeTask {
  Tensor X;    ///< (batch, samples, dim)
  Tensor t;    ///< (batch, samples)
  Tensor w0;   ///< (batch, dim)
  double l2 = 0.1;
  Tensor init() const { return w0; }
  Tensor losses(const Tensor& w) const {
    return mean(square(detail::batched_matvec(X, w) - t), {1}) + l2 * sum(square(w), {1});
  }
};

/// The distribution of RidgeTask.
struct RidgeRegressions {
  std::size_t dim = 10;      ///< features
  std::size_t samples = 50;  ///< rows of each data set
  std::size_t batch = 1;     ///< independent problems per task
  double noise = 0.1;        ///< standard deviation of the targets' noise
  double l2 = 0.1;           ///< ridge penalty
  RidgeTask sample(random::Key key) const {
    detail::check_positive(dim, "dim");
    detail::check_positive(samples, "samples");
    detail::check_positive(batch, "batch");
    auto [X, t] = detail::linear_model_data(key, batch, samples, dim, noise, [](double z) { return z; });
    return {Tensor(std::move(X)), Tensor(std::move(t)), Tensor(Array(xt::zeros<double>({batch, dim}))), l2};
  }
};

/// `batch` L2-regularised logistic regressions f_i(w_i) = mean_n softplus(-s_n x_n.w_i) + l2/2 ||w_i||^2, labels
/// s_n = +-1 drawn as sign(x_n.w_true + noise * normal) on standard normal features; w starts at 0.
struct LogisticTask {
  Tensor X;   ///< (batch, samples, dim)
  Tensor s;   ///< (batch, samples): labels +-1
  Tensor w0;  ///< (batch, dim)
  double l2 = 0.01;
  Tensor init() const { return w0; }
  Tensor losses(const Tensor& w) const {
    return mean(softplus(-(s * detail::batched_matvec(X, w))), {1}) + 0.5 * l2 * sum(square(w), {1});
  }
};

/// The distribution of LogisticTask.
struct LogisticRegressions {
  std::size_t dim = 10;       ///< features
  std::size_t samples = 100;  ///< rows of each data set
  std::size_t batch = 1;      ///< independent problems per task
  double noise = 1.0;         ///< label noise (standard deviation added to the score before the sign)
  double l2 = 0.01;           ///< ridge penalty
  LogisticTask sample(random::Key key) const {
    detail::check_positive(dim, "dim");
    detail::check_positive(samples, "samples");
    detail::check_positive(batch, "batch");
    auto [X, s] = detail::linear_model_data(key, batch, samples, dim, noise,
                                            [](double z) { return z >= 0.0 ? 1.0 : -1.0; });
    return {Tensor(std::move(X)), Tensor(std::move(s)), Tensor(Array(xt::zeros<double>({batch, dim}))), l2};
  }
};

/// The hidden units' nonlinearity of an MLP task.
enum class Activation { tanh, sigmoid, relu };

/// One dense layer y = x w + b.
struct DenseLayer {
  Tensor w;  ///< (inputs, outputs), or (networks, inputs, outputs) for a task of several networks
  Tensor b;  ///< (outputs), or (networks, 1, outputs)
};

/// Weights of the classifier of MlpTask: hidden layers, then the linear read-out to the logits.
struct MlpWeights {
  std::vector<DenseLayer> layers;  ///< the hidden layers in order, the read-out last
};

/// The logits of an MLP on the rows of X: act(... act(X w_1 + b_1) ...) w_L + b_L. With 3-D weights (B networks
/// stacked) X is (rows, features) shared by all, or (B, rows, features), and the logits are (B, rows, classes).
inline Tensor mlp_logits(const MlpWeights& w, const Tensor& X, Activation activation) {
  if (w.layers.empty()) throw ValueError("xgrad::learn::mlp_logits: the weights have no layers");
  const auto layer = [](const Tensor& h, const DenseLayer& d) {
    return d.w.ndim() == 3 ? matmul(h, d.w) + d.b : linear(h, d.w, d.b);
  };
  Tensor h = X;
  for (std::size_t l = 0; l + 1 < w.layers.size(); ++l) {
    const Tensor z = layer(h, w.layers[l]);
    h = activation == Activation::tanh ? tanh(z) : activation == Activation::sigmoid ? sigmoid(z) : relu(z);
  }
  return layer(h, w.layers.back());
}

/// MLPs from fresh LeCun-normal weights (biases 0) on rows of a data set, loss the mean softmax cross-entropy: one
/// network (`networks` = 1, weights of shapes (in, out) and (out)) or B independent networks stacked along a leading
/// axis (weights (B, in, out) and (B, 1, out)), one loss per network. With `batch` = 0 every step sees all the task's
/// rows; otherwise network j's step k sees `batch` distinct rows drawn from fold_in(minibatch_keys[j], k) (the
/// paper's fresh minibatch per step, regenerated from the key, not stored).
struct MlpTask {
  Tensor X;                 ///< (samples, features): the task's rows
  Tensor Y;                 ///< (samples, classes): one-hot labels
  MlpWeights w0;            ///< the starting weights
  Activation activation = Activation::tanh;  ///< the hidden units' nonlinearity
  std::size_t batch = 0;    ///< rows per step (0: all)
  std::vector<random::Key> minibatch_keys{};  ///< each network's minibatch key
  MlpWeights init() const { return w0; }
  /// Networks in the task.
  std::size_t networks() const { return std::max<std::size_t>(minibatch_keys.size(), 1); }
  /// The losses on all the task's rows: (networks,).
  Tensor losses(const MlpWeights& w) const { return batch_losses(w, X, Y); }
  /// The losses on step `step`'s minibatches: (networks,).
  Tensor losses(const MlpWeights& w, int step) const {
    const std::size_t rows = X.shape()[0], B = networks();
    if (batch == 0 || batch >= rows) return losses(w);
    const Array& x = X.value();
    const Array& y = Y.value();
    const std::size_t features = x.shape()[1], classes = y.shape()[1];
    Shape xs{batch, features}, ys{batch, classes};
    if (stacked()) {
      xs.insert(xs.begin(), B);
      ys.insert(ys.begin(), B);
    }
    Array xb = Array::from_shape(xs), yb = Array::from_shape(ys);
    for (std::size_t j = 0; j < B; ++j) {
      const auto order = random::permutation(random::fold_in(minibatch_keys.at(j), static_cast<std::uint32_t>(step)), rows);
      for (std::size_t i = 0; i < batch; ++i) {
        std::copy_n(x.data() + order[i] * features, features, xb.data() + (j * batch + i) * features);
        std::copy_n(y.data() + order[i] * classes, classes, yb.data() + (j * batch + i) * classes);
      }
    }
    return batch_losses(w, Tensor(std::move(xb)), Tensor(std::move(yb)));
  }

 private:
  bool stacked() const { return !w0.layers.empty() && w0.layers[0].w.ndim() == 3; }
  Tensor batch_losses(const MlpWeights& w, const Tensor& x, const Tensor& y) const {
    const Tensor logits = mlp_logits(w, x, activation);
    if (!stacked()) return reshape(mean(softmax_cross_entropy(logits, y)), {1});
    const Tensor labels = y.ndim() == 3 ? y : broadcast_to(y, logits.shape());
    return mean(softmax_cross_entropy(logits, labels), {1});
  }
};

/// The distribution of MlpTask over a data set given as a (rows, features) matrix and integer labels 0..classes-1
/// (for instance examples/data/digits.csv with the pixels scaled to [0, 1], or MNIST): a task draws `samples`
/// distinct rows (0: all rows, in their order) from fold_in(key, 0), the weights of layer l from fold_in(key, 1 + l),
/// and its minibatches (`batch` > 0) from fold_in(key, 100). With `networks` = B > 1 a task trains B independent
/// networks on its rows (a batch of problems, as Quadratics' `batch`: a coordinatewise optimizer runs them as one
/// parameter pytree, the meta-loss averages them); network j > 0 draws its weights and minibatches from
/// fold_in(k, j) of those keys, so network 0 is the single-network task's.
struct MlpClassification {
  Array X;                  ///< (rows, features)
  Array labels;             ///< (rows): integers 0..classes-1
  std::size_t classes = 10; ///< number of classes
  std::size_t hidden = 20;  ///< units of each hidden layer
  std::size_t samples = 128;  ///< rows per task (0: all)
  std::size_t layers = 1;   ///< hidden layers
  Activation activation = Activation::tanh;  ///< the hidden units' nonlinearity
  std::size_t batch = 0;    ///< rows per inner step (0: all the task's rows at every step)
  std::size_t networks = 1; ///< independent networks per task
  MlpTask sample(random::Key key) const {
    if (X.dimension() != 2 || labels.dimension() != 1 || labels.size() != X.shape()[0])
      throw ShapeError("xgrad::learn::MlpClassification: X must be (rows, features) and labels (rows), got " +
                       shape_str(shape_of(X)) + " and " + shape_str(shape_of(labels)));
    detail::check_positive(hidden, "hidden");
    detail::check_positive(classes, "classes");
    detail::check_positive(layers, "layers");
    detail::check_positive(networks, "networks");
    const std::size_t rows = X.shape()[0], features = X.shape()[1];
    const std::size_t n = samples == 0 ? rows : std::min(samples, rows);
    std::vector<std::size_t> order(rows);
    if (samples == 0)
      for (std::size_t i = 0; i < rows; ++i) order[i] = i;
    else
      order = random::permutation(random::fold_in(key, 0), rows);
    Array Xs = Array::from_shape({n, features}), Y = xt::zeros<double>({n, classes});
    for (std::size_t i = 0; i < n; ++i) {
      std::copy_n(X.data() + order[i] * features, features, Xs.data() + i * features);
      const double c = labels(order[i]);
      if (!(c >= 0.0 && c < double(classes) && c == std::floor(c)))
        throw ValueError("xgrad::learn::MlpClassification: label " + std::to_string(c) + " is not in 0.." +
                         std::to_string(classes - 1));
      Y(i, static_cast<std::size_t>(c)) = 1.0;
    }
    const auto of_network = [](random::Key k, std::size_t j) {
      return j == 0 ? k : random::fold_in(k, static_cast<std::uint32_t>(j));
    };
    MlpWeights w;
    for (std::size_t l = 0; l <= layers; ++l) {
      const std::size_t in = l == 0 ? features : hidden, out = l == layers ? classes : hidden;
      const random::Key layer_key = random::fold_in(key, static_cast<std::uint32_t>(1 + l));
      const double sd = 1.0 / std::sqrt(static_cast<double>(in));
      if (networks == 1) {
        w.layers.push_back({Tensor(random::normal(layer_key, {in, out}, 0.0, sd)), Tensor(Array(xt::zeros<double>({out})))});
        continue;
      }
      Array wl = Array::from_shape({networks, in, out});
      for (std::size_t j = 0; j < networks; ++j) {
        const Array part = random::normal(of_network(layer_key, j), {in, out}, 0.0, sd);
        std::copy(part.begin(), part.end(), wl.data() + j * in * out);
      }
      w.layers.push_back({Tensor(std::move(wl)), Tensor(Array(xt::zeros<double>({networks, std::size_t{1}, out})))});
    }
    std::vector<random::Key> minibatch_keys;
    for (std::size_t j = 0; j < networks; ++j) minibatch_keys.push_back(of_network(random::fold_in(key, 100), j));
    return {Tensor(std::move(Xs)), Tensor(std::move(Y)), std::move(w), activation, batch, std::move(minibatch_keys)};
  }
};

/// What optimize returns: the loss curves and the parameters after the last step.
template <class P>
struct Optimized {
  Array losses;  ///< (steps + 1, problems): row k the losses after k steps
  P params;      ///< the parameters after `steps` steps
};

/// `steps` steps of `opt` on `task` from task.init(), recording the loss of every problem at every step: row k of
/// the losses is losses_at(task, x_k, k) (step k's minibatch). Nothing is recorded beyond each step's gradient.
template <class Opt, Task T>
auto optimize(const Opt& opt, const T& task, int steps) {
  using P = std::remove_cvref_t<decltype(task.init())>;
  P x = task.init();
  auto state = opt.init(x);
  Array first = losses_at(task, x, 0).value();
  const std::size_t m = first.size();
  Array out = Array::from_shape({static_cast<std::size_t>(steps) + 1, m});
  std::copy(first.begin(), first.end(), out.begin());
  for (int k = 1; k <= steps; ++k) {
    auto g = grad([&task, k](const P& p) { return total_loss(task, p, k - 1); })(x);
    auto [u, next] = opt.update(g, state, x);
    x = optim::apply_updates(x, u);
    state = std::move(next);
    const Array f = losses_at(task, x, k).value();
    std::copy(f.begin(), f.end(), out.begin() + static_cast<std::ptrdiff_t>(k * m));
  }
  return Optimized<P>{std::move(out), std::move(x)};
}

/// The loss curves of optimize(opt, task, steps): an Array of shape (steps + 1, problems).
template <class Opt, Task T>
Array loss_curves(const Opt& opt, const T& task, int steps) {
  return optimize(opt, task, steps).losses;
}

}  // namespace xgrad::learn
