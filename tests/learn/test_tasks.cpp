#include <doctest/doctest.h>

#include <cmath>
#include <utility>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>

#include <xgrad/learn/learn.hpp>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

static_assert(learn::TaskDistribution<learn::Quadratics>);
static_assert(learn::TaskDistribution<learn::RidgeRegressions>);
static_assert(learn::TaskDistribution<learn::LogisticRegressions>);
static_assert(learn::Task<learn::QuadraticTask>);

// Slice b of a tensor along axis 0.
static Tensor part(const Tensor& t, std::ptrdiff_t b) { return squeeze(take(t, {b}, 0), 0); }

TEST_CASE("tasks: random quadratics ||W x - y||^2, one per row, independent of the batch size") {
  const auto task = learn::Quadratics{.dim = 4, .batch = 3}.sample(random::key(5));
  CHECK(task.W.shape() == Shape{3, 4, 4});
  CHECK(task.init().shape() == Shape{3, 4});
  const Tensor x(random::normal(random::key(6), {3, 4}));
  const Array f = task.losses(x).value();
  REQUIRE(f.shape() == std::vector<std::size_t>{3});
  for (std::size_t b = 0; b < 3; ++b) {
    double want = 0.0;
    for (std::size_t i = 0; i < 4; ++i) {
      double r = -task.y.value()(b, i);
      for (std::size_t j = 0; j < 4; ++j) r += task.W.value()(b, i, j) * x.value()(b, j);
      want += r * r;
    }
    CHECK(f(b) == doctest::Approx(want));
  }
  const auto one = learn::Quadratics{.dim = 4, .batch = 1}.sample(random::key(5));
  CHECK(one.W.value()(0, 2, 3) == task.W.value()(0, 2, 3));
  CHECK(one.x0.value()(0, 1) == task.x0.value()(0, 1));
  // The gradient of the total is each problem's own: 2 W^T (W x - y), row by row.
  const Tensor g = grad([&](const Tensor& z) { return learn::total_loss(task, z); })(x);
  const Tensor W1 = part(task.W, 1);
  const Tensor x1 = part(x, 1), y1 = part(task.y, 1);
  const Tensor g1 = 2.0 * matmul(transpose(W1), matmul(W1, x1) - y1);
  for (std::size_t j = 0; j < 4; ++j) CHECK(g.value()(1, j) == doctest::Approx(g1.value()(j)));
}

TEST_CASE("tasks: ridge regression's gradient vanishes at the closed-form solution") {
  const learn::RidgeRegressions dist{.dim = 3, .samples = 20, .batch = 2, .l2 = 0.3};
  const auto task = dist.sample(random::key(7));
  CHECK(task.init().shape() == Shape{2, 3});
  Array w = Array::from_shape({2, 3});
  for (std::size_t b = 0; b < 2; ++b) {
    const Tensor X = part(task.X, std::ptrdiff_t(b)), t = part(task.t, std::ptrdiff_t(b));
    // (X^T X / n + l2 I) w = X^T t / n
    Array I = xt::eye<double>(3);
    const Tensor A = matmul(transpose(X), X) / 20.0 + 0.3 * Tensor(I);
    const Tensor wb = solve(A, matmul(transpose(X), t) / 20.0);
    for (std::size_t j = 0; j < 3; ++j) w(b, j) = wb.value()(j);
  }
  const Tensor g = grad([&](const Tensor& z) { return learn::total_loss(task, z); })(Tensor(w));
  for (double v : g.value()) CHECK(std::abs(v) < 1e-12);
  const double at_zero = task.losses(task.init()).value()(0);
  CHECK(at_zero > task.losses(Tensor(w)).value()(0));
}

TEST_CASE("tasks: logistic regression starts at log 2 and has labels +-1") {
  const auto task = learn::LogisticRegressions{.dim = 3, .samples = 30, .batch = 2}.sample(random::key(8));
  for (double s : task.s.value()) CHECK(std::abs(s) == 1.0);
  const Array f = task.losses(task.init()).value();
  CHECK(f(0) == doctest::Approx(std::log(2.0)));
  CHECK(f(1) == doctest::Approx(std::log(2.0)));
}

TEST_CASE("tasks: loss_curves runs an optimizer on every problem") {
  const auto task = learn::RidgeRegressions{.dim = 4, .samples = 30, .batch = 3}.sample(random::key(9));
  const Array c = learn::loss_curves(opt::sgd(0.05), task, 30);
  REQUIRE(c.shape() == std::vector<std::size_t>{31, 3});
  for (std::size_t b = 0; b < 3; ++b) CHECK(c(30, b) < 0.5 * c(0, b));
  // Row 0 is the starting loss; the same run on the first problem alone gives the same first column.
  const auto alone = learn::RidgeRegressions{.dim = 4, .samples = 30, .batch = 1}.sample(random::key(9));
  const Array c1 = learn::loss_curves(opt::sgd(0.05), alone, 30);
  CHECK(c1(30, 0) == doctest::Approx(c(30, 0)).epsilon(1e-12));
}

TEST_CASE("tasks: a learning-rate sweep of loss_curves over held-out tasks is the same bit for bit on 1, 2, 4 threads") {
  std::vector<learn::QuadraticTask> tasks;
  for (std::uint32_t k = 0; k < 3; ++k)
    tasks.push_back(learn::Quadratics{.dim = 5, .batch = 4}.sample(random::fold_in(random::key(4), k)));
  const std::vector<double> lrs{1e-3, 1e-2, 3e-2, 1e-1};
  auto sweep = [&](std::size_t threads) {  // (rate, task) pairs as independent pieces
    return parallel::map(
        lrs.size() * tasks.size(),
        [&](std::size_t i) {
          return learn::loss_curves(opt::adam(lrs[i / tasks.size()]), tasks[i % tasks.size()], 40);
        },
        threads);
  };
  const auto one = sweep(1);
  for (std::size_t threads : {2, 4}) {
    const auto many = sweep(threads);
    REQUIRE(many.size() == one.size());
    for (std::size_t i = 0; i < one.size(); ++i) CHECK(xt::all(xt::equal(many[i], one[i])));
  }
  CHECK(one[4](40, 0) < one[4](0, 0));  // adam(1e-2) lowers the loss of the first task's first problem
}

TEST_CASE("tasks: MLP classification on a data set, weights as a struct") {
  static_assert(learn::TaskDistribution<learn::MlpClassification>);
  // Two separable blobs in 3-D.
  Array X = random::normal(random::key(1), {40, 3});
  Array labels = xt::zeros<double>({40});
  for (std::size_t i = 0; i < 40; ++i) {
    labels(i) = double(i % 2);
    X(i, 0) += i % 2 ? 2.0 : -2.0;
  }
  const learn::MlpClassification dist{.X = X, .labels = labels, .classes = 2, .hidden = 4, .samples = 30};
  const auto task = dist.sample(random::key(2));
  CHECK(task.X.shape() == Shape{30, 3});
  REQUIRE(task.init().layers.size() == 2);
  CHECK(task.init().layers[0].w.shape() == Shape{3, 4});
  CHECK(task.init().layers[1].w.shape() == Shape{4, 2});
  CHECK(task.losses(task.init()).shape() == Shape{1});
  const Array c = learn::loss_curves(opt::adam(0.05), task, 50);
  CHECK(c(50, 0) < 0.3 * c(0, 0));
  // The learned optimizer runs on the struct of weights too.
  const auto lstm = learn::lstm_optimizer(learn::init_lstm_optimizer(random::key(3), {}, {.hidden = 4}));
  CHECK(std::isfinite(learn::loss_curves(lstm, task, 5)(5, 0)));
  labels(3) = 2.0;
  CHECK_THROWS_AS((learn::MlpClassification{.X = X, .labels = labels, .classes = 2}.sample(random::key(0))), ValueError);
}

namespace {
// Two separable blobs in 3-D, labels 0 and 1 alternating.
std::pair<Array, Array> blobs(std::size_t n) {
  Array X = random::normal(random::key(1), {n, 3});
  Array labels = xt::zeros<double>({n});
  for (std::size_t i = 0; i < n; ++i) {
    labels(i) = double(i % 2);
    X(i, 0) += i % 2 ? 2.0 : -2.0;
  }
  return {X, labels};
}
// The mean cross-entropy of a one-hidden-layer sigmoid network on rows `rows` of (X, labels), in plain loops.
double reference_loss(const learn::MlpWeights& w, const Array& X, const Array& labels, const std::vector<std::size_t>& rows) {
  const Array &W1 = w.layers[0].w.value(), &b1 = w.layers[0].b.value(), &W2 = w.layers[1].w.value(),
              &b2 = w.layers[1].b.value();
  double total = 0;
  for (std::size_t r : rows) {
    std::vector<double> h(W1.shape()[1]), z(W2.shape()[1]);
    for (std::size_t j = 0; j < h.size(); ++j) {
      double a = b1(j);
      for (std::size_t i = 0; i < 3; ++i) a += X(r, i) * W1(i, j);
      h[j] = 1.0 / (1.0 + std::exp(-a));
    }
    double m = -1e300;
    for (std::size_t k = 0; k < z.size(); ++k) {
      z[k] = b2(k);
      for (std::size_t j = 0; j < h.size(); ++j) z[k] += h[j] * W2(j, k);
      m = std::max(m, z[k]);
    }
    double lse = 0;
    for (double v : z) lse += std::exp(v - m);
    total += m + std::log(lse) - z[std::size_t(labels(r))];
  }
  return total / double(rows.size());
}
}  // namespace

TEST_CASE("tasks: MLP classification with a fresh minibatch per step, deeper networks, other activations") {
  const auto [X, labels] = blobs(50);
  const learn::MlpClassification dist{.X = X, .labels = labels, .classes = 2, .hidden = 4, .samples = 0,
                                      .activation = learn::Activation::sigmoid, .batch = 8};
  const auto task = dist.sample(random::key(2));
  static_assert(learn::Task<learn::MlpTask>);
  CHECK(task.X.shape() == Shape{50, 3});  // samples = 0: all rows, in order
  CHECK(xt::all(xt::equal(task.X.value(), X)));
  const auto w = task.init();
  // Step k's loss is the loss on the first `batch` rows of permutation(fold_in(minibatch_keys[0], k)).
  for (int k : {0, 1, 7}) {
    const auto order = random::permutation(random::fold_in(task.minibatch_keys.at(0), std::uint32_t(k)), 50);
    const std::vector<std::size_t> rows(order.begin(), order.begin() + 8);
    CHECK(task.losses(w, k).item() == doctest::Approx(reference_loss(w, X, labels, rows)).epsilon(1e-13));
    CHECK(learn::losses_at(task, w, k).item() == task.losses(w, k).item());  // regenerated, not stored
  }
  CHECK(task.losses(w, 0).item() != task.losses(w, 1).item());
  std::vector<std::size_t> all(50);
  for (std::size_t i = 0; i < 50; ++i) all[i] = i;
  CHECK(task.losses(w).item() == doctest::Approx(reference_loss(w, X, labels, all)).epsilon(1e-13));
  // A batch of 0 (or at least the rows) sees every row at every step.
  auto full = dist;
  full.batch = 0;
  CHECK(full.sample(random::key(2)).losses(w, 3).item() == doctest::Approx(task.losses(w).item()).epsilon(1e-15));
  // Tasks without steps ignore the step.
  const auto q = learn::Quadratics{.dim = 3, .batch = 2}.sample(random::key(0));
  CHECK(xt::all(xt::equal(learn::losses_at(q, q.init(), 5).value(), q.losses(q.init()).value())));

  // Layers: the first layers' weights do not depend on the depth (same keys), every layer has its shape.
  auto deep = dist;
  deep.layers = 2;
  deep.activation = learn::Activation::relu;
  const auto d = deep.sample(random::key(2));
  REQUIRE(d.init().layers.size() == 3);
  CHECK(d.init().layers[1].w.shape() == Shape{4, 4});
  CHECK(d.init().layers[2].w.shape() == Shape{4, 2});
  CHECK(xt::all(xt::equal(d.init().layers[0].w.value(), w.layers[0].w.value())));
  const Tensor x0 = Tensor(Array(xt::view(X, xt::range(0, 1), xt::all())));
  const Array h1 = xt::maximum(xt::linalg::dot(x0.value(), d.init().layers[0].w.value()), 0.0);
  const Array h2 = xt::maximum(xt::linalg::dot(h1, d.init().layers[1].w.value()), 0.0);
  const Array logits = xt::linalg::dot(h2, d.init().layers[2].w.value());
  CHECK(xt::allclose(learn::mlp_logits(d.init(), x0, learn::Activation::relu).value(), logits, 1e-14, 1e-14));

  // optimize: the loss curves of loss_curves and the final weights, which have the loss of its last row.
  const auto r = learn::optimize(opt::adam(0.05), task, 30);
  CHECK(xt::all(xt::equal(r.losses, learn::loss_curves(opt::adam(0.05), task, 30))));
  CHECK(r.losses(30, 0) == task.losses(r.params, 30).item());
  CHECK(task.losses(r.params).item() < 0.5 * task.losses(w).item());
  CHECK_THROWS_AS((learn::MlpClassification{.X = X, .labels = labels, .classes = 2, .layers = 0}.sample(random::key(0))),
                  ValueError);
}

TEST_CASE("tasks: several MLPs per task, each the single-network task of its keys") {
  const auto [X, labels] = blobs(50);
  const learn::MlpClassification one{.X = X, .labels = labels, .classes = 2, .hidden = 4, .samples = 0,
                                     .activation = learn::Activation::sigmoid, .batch = 8};
  auto three = one;
  three.networks = 3;
  const auto t1 = one.sample(random::key(2));
  const auto t3 = three.sample(random::key(2));
  REQUIRE(t3.networks() == 3);
  const auto w = t3.init();
  CHECK(w.layers[0].w.shape() == Shape{3, 3, 4});
  CHECK(w.layers[0].b.shape() == Shape{3, 1, 4});
  CHECK(w.layers[1].w.shape() == Shape{3, 4, 2});
  // Network 0 is the single-network task (same weights, same minibatches).
  CHECK(xt::all(xt::equal(xt::view(w.layers[0].w.value(), 0), t1.init().layers[0].w.value())));
  for (int k : {0, 5}) {
    const Array l3 = t3.losses(w, k).value();
    REQUIRE(l3.shape()[0] == 3);
    CHECK(l3(0) == doctest::Approx(t1.losses(t1.init(), k).item()).epsilon(1e-13));
    // Network j: its own weights on its own minibatch (plain loops).
    for (std::size_t j = 1; j < 3; ++j) {
      learn::MlpWeights wj;
      for (const auto& d : w.layers)
        wj.layers.push_back({Tensor(Array(xt::view(d.w.value(), j))), Tensor(Array(xt::view(d.b.value(), j, 0)))});
      const auto order = random::permutation(random::fold_in(t3.minibatch_keys[j], std::uint32_t(k)), 50);
      CHECK(l3(j) == doctest::Approx(reference_loss(wj, X, labels, {order.begin(), order.begin() + 8})).epsilon(1e-13));
    }
  }
  CHECK(t3.losses(w).shape() == Shape{3});  // all rows
  CHECK(t3.losses(w).value()(0) == doctest::Approx(t1.losses(t1.init()).item()).epsilon(1e-13));
  // Independent problems: the gradient of the summed losses in network 1's weights does not involve network 0's.
  auto moved = w;
  Array w0 = moved.layers[0].w.value();
  xt::view(w0, 0) += 1.0;
  moved.layers[0].w = Tensor(w0);
  const auto total = [&](const learn::MlpWeights& p) { return learn::total_loss(t3, p, 2); };
  const auto g = grad(total)(w), gm = grad(total)(moved);
  CHECK(xt::all(xt::equal(xt::view(g.layers[0].w.value(), 1), xt::view(gm.layers[0].w.value(), 1))));
  CHECK(!xt::all(xt::equal(xt::view(g.layers[0].w.value(), 0), xt::view(gm.layers[0].w.value(), 0))));
  // Optimizers and the LSTM optimizer run on them as one pytree; every network learns.
  const Array c = learn::loss_curves(opt::adam(0.05), t3, 40);
  for (std::size_t j = 0; j < 3; ++j) CHECK(c(40, j) < 0.5 * c(0, j));
  const auto phi = learn::init_lstm_optimizer(random::key(3), {}, {.hidden = 4});
  const auto make = [](const learn::LstmOptimizerParams& p) { return learn::lstm_optimizer(p); };
  const auto lstm = make(phi);
  const auto r = learn::meta_value_and_grad(phi, make, t3, w, lstm.init(w), 0, 3);
  CHECK(std::isfinite(r.meta_loss.item()));
  CHECK(tree::ravel(r.grad).first.size() == tree::ravel(phi).first.size());
  CHECK_THROWS_AS((learn::MlpClassification{.X = X, .labels = labels, .networks = 0}.sample(random::key(0))), ValueError);
}
