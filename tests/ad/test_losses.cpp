#include <cmath>

#include "check.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::column;
using xgrad::testing::sample;

namespace {
struct Layer {
  Tensor weight;
  Tensor bias;
};
struct Head {
  Layer inner;
  Tensor scale;
};
struct Net {
  Layer first;
  Head head;
  std::vector<Tensor> extra;
  Array fixed;    // an Array leaf: counted in the value, a constant for derivatives
  int width = 3;  // static
};

// Row-wise cross-entropy -sum_j labels_ij log softmax(logits)_ij of 2-D arrays, by loops.
Array ref_xent_rows(const Array& logits, const Array& labels) {
  const std::size_t m = logits.shape()[0], n = logits.shape()[1];
  Array out = Array::from_shape({m});
  for (std::size_t i = 0; i < m; ++i) {
    double z = 0.0;
    for (std::size_t j = 0; j < n; ++j) z += std::exp(logits(i, j));
    double loss = 0.0;
    for (std::size_t j = 0; j < n; ++j) loss -= labels(i, j) * (logits(i, j) - std::log(z));
    out(i) = loss;
  }
  return out;
}
// softmax(logits) - labels by loops: the gradient of the summed loss when each row of labels sums to 1.
Array ref_xent_grad(const Array& logits, const Array& labels) {
  const std::size_t m = logits.shape()[0], n = logits.shape()[1];
  Array g = Array::from_shape({m, n});
  for (std::size_t i = 0; i < m; ++i) {
    double z = 0.0;
    for (std::size_t j = 0; j < n; ++j) z += std::exp(logits(i, j));
    for (std::size_t j = 0; j < n; ++j) g(i, j) = std::exp(logits(i, j)) / z - labels(i, j);
  }
  return g;
}
}  // namespace

TEST_CASE("mse: mean of squared differences, broadcasting, derivatives") {
  const Tensor p(Array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}), t(Array{{1.0, 0.0, 3.0}, {0.0, 5.0, 9.0}});
  CHECK(mse(p, t).shape() == Shape{});
  CHECK(mse(p, t).item() == doctest::Approx((4.0 + 16.0 + 9.0) / 6.0));
  // The target broadcasts against every row: ((1-1)^2 + (2-1)^2 + (3-1)^2 + (4-1)^2 + (5-1)^2 + (6-1)^2) / 6.
  CHECK(mse(p, Tensor(Array{1.0, 1.0, 1.0})).item() == doctest::Approx((0.0 + 1 + 4 + 9 + 16 + 25) / 6.0));
  CHECK(mse(p, Tensor(1.0)).item() == doctest::Approx(55.0 / 6.0));
  CHECK(mse(Tensor(3.0), Tensor(1.0)).item() == 4.0);
  // d/dpred = 2 (pred - target) / n.
  const Tensor g = grad([&](const Tensor& x) { return mse(x, t); })(p);
  check_close(g.value(), Array{{0.0, 4.0 / 6, 0.0}, {8.0 / 6, 0.0, -6.0 / 6}});
  XGRAD_CHECK_GRADS([](const Tensor& a, const Tensor& b) { return mse(a, b); },
                    std::make_tuple(Tensor(sample({2, 3})), Tensor(sample({3}, -1, 1, 4))));
  CHECK_THROWS_WITH_AS(mse(p, Tensor(Array{1.0, 2.0})), doctest::Contains("xgrad::mse"), ShapeError);
}

TEST_CASE("softmax_cross_entropy: one-hot and soft labels against a hand computation") {
  const Array logits{{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}, {-2.0, 0.5, 4.0}};
  const Array onehot{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}};
  const Tensor l = softmax_cross_entropy(Tensor(logits), Tensor(onehot));
  REQUIRE(l.shape() == Shape{3});
  // One-hot: log(sum exp) minus the logit of the true class.
  CHECK(l.value()(0) == doctest::Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0));
  CHECK(l.value()(1) == doctest::Approx(std::log(3.0)));
  check_close(l.value(), ref_xent_rows(logits, onehot));
  const Array soft{{0.2, 0.3, 0.5}, {1.0 / 3, 1.0 / 3, 1.0 / 3}, {0.0, 0.25, 0.75}};
  check_close(softmax_cross_entropy(Tensor(logits), Tensor(soft)).value(), ref_xent_rows(logits, soft));
  // Uniform logits and uniform labels over 3 classes: log 3.
  CHECK(softmax_cross_entropy(Tensor(xt::zeros<double>({3})), Tensor(Array{1.0 / 3, 1.0 / 3, 1.0 / 3})).item() ==
        doctest::Approx(std::log(3.0)));
  // Gradient in the logits: softmax - labels (rows of labels sum to 1).
  for (const Array& labels : {onehot, soft}) {
    const Tensor g =
        grad([&](const Tensor& z) { return sum(softmax_cross_entropy(z, Tensor(labels))); })(Tensor(logits));
    check_close(g.value(), ref_xent_grad(logits, labels), 1e-12);
  }
  XGRAD_CHECK_GRADS([](const Tensor& z, const Tensor& y) { return softmax_cross_entropy(z, y); },
                    std::make_tuple(Tensor(sample({2, 3})), Tensor(Array{{0.2, 0.3, 0.5}, {0.6, 0.4, 0.0}})));
  // Along axis 0: the classes run down the columns.
  const Array lt = Array(xt::transpose(logits)), st = Array(xt::transpose(soft));
  check_close(softmax_cross_entropy(Tensor(lt), Tensor(st), 0).value(), ref_xent_rows(logits, soft));
  XGRAD_CHECK_GRADS(
      [](const Tensor& z) {
        return softmax_cross_entropy(z, Tensor(Array{{1.0, 0.0}, {0.0, 1.0}, {0.0, 0.0}}), 0);
      },
      Tensor(sample({3, 2})));
  // Large logits stay finite.
  const Tensor big = softmax_cross_entropy(Tensor(Array{1000.0, -1000.0}), Tensor(Array{0.0, 1.0}));
  CHECK(big.item() == doctest::Approx(2000.0));
  CHECK_THROWS_AS(softmax_cross_entropy(Tensor(logits), Tensor(Array{0.0, 1.0, 0.0})), ShapeError);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(Tensor(logits), Tensor(onehot), 2),
                       doctest::Contains("xgrad::softmax_cross_entropy"), ShapeError);
}

TEST_CASE("l2 of a struct pytree with nested fields and a vector: value and gradient 2x per leaf") {
  const Net net{{Tensor(Array{{1.0, 2.0}, {3.0, 4.0}}), Tensor(Array{-1.0, 0.5})},
                {{Tensor(column({2.0, -2.0})), Tensor(Array{3.0})}, Tensor(-1.5)},
                {Tensor(Array{1.0, 1.0, 1.0}), Tensor(2.0)},
                Array{3.0, 4.0},
                7};
  // 30 + 1.25 + 8 + 9 + 2.25 + 3 + 4 + 25
  const double want = 30.0 + 1.25 + 8.0 + 9.0 + 2.25 + 3.0 + 4.0 + 25.0;
  CHECK(l2(net).item() == doctest::Approx(want));
  CHECK(l2(std::vector<Tensor>{Tensor(Array{3.0, 4.0}), Tensor(1.0)}).item() == doctest::Approx(26.0));
  CHECK(l2(Tensor(Array{1.0, -2.0})).item() == doctest::Approx(5.0));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return l2(std::vector<Tensor>{x, x * x}); }, Tensor(Array{0.3, -1.2}));
  const auto [v, g] = value_and_grad([](const Net& p) { return l2(p); })(net);
  CHECK(v.item() == doctest::Approx(want));
  check_close(g.first.weight.value(), Array{{2.0, 4.0}, {6.0, 8.0}});
  check_close(g.first.bias.value(), Array{-2.0, 1.0});
  check_close(g.head.inner.weight.value(), column({4.0, -4.0}));
  check_close(g.head.inner.bias.value(), Array{6.0});
  check_close(g.head.scale.value(), Array(-3.0));
  REQUIRE(g.extra.size() == 2);
  check_close(g.extra[0].value(), Array{2.0, 2.0, 2.0});
  check_close(g.extra[1].value(), Array(4.0));
  check_close(g.fixed, xt::zeros<double>({2}));  // a constant
  CHECK(g.width == 7);
  // l2 composes with other losses and is twice differentiable: the Hessian of sum(x^2) is 2 I.
  const Array h = hessian([](const Tensor& x) { return l2(std::vector<Tensor>{x, 2.0 * x}); })(Tensor(Array{1.0, 2.0}));
  check_close(h, Array{{10.0, 0.0}, {0.0, 10.0}});
}
