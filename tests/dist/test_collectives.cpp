#include <doctest/doctest.h>

#include <cstring>
#include <xgrad/dist/dist.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {
struct Model {
  Tensor w, b;
};
bool same_bits(const Array& x, const Array& y) {
  return x.shape() == y.shape() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}
}  // namespace

TEST_CASE("dist: rank and size, and one allreduce for a whole pytree") {
  const auto world = dist::Communicator::world();
  const int r = world.rank(), n = world.size();
  REQUIRE(n >= 2);
  const Model m{Tensor(Array{1.0 * r, 2.0}), Tensor(10.0 * (r + 1))};
  const Model s = dist::allreduce_sum(m, world);
  CHECK(s.w.value()(0) == doctest::Approx(n * (n - 1) / 2.0));
  CHECK(s.w.value()(1) == 2.0 * n);
  CHECK(s.b.item() == doctest::Approx(10.0 * n * (n + 1) / 2.0));
  const Model mean = dist::allreduce_mean(m, world);
  CHECK(mean.b.item() == doctest::Approx(5.0 * (n + 1)));
  // broadcast from rank 0 and from the last rank
  CHECK(dist::broadcast(m, 0, world).b.item() == 10.0);
  CHECK(dist::broadcast(m, n - 1, world).w.value()(0) == n - 1.0);
  CHECK_THROWS_AS(dist::broadcast(m, n, world), ValueError);
  // a sub-group: the even ranks
  const auto even = world.split(r % 2);
  CHECK(even.size() == (n + 1 - r % 2) / 2);
  CHECK(even.rank() == r / 2);
}

TEST_CASE("dist: data-parallel sgd on shards equals the single-process run on the global batch") {
  const auto world = dist::Communicator::world();
  const std::size_t n = static_cast<std::size_t>(world.size()), shard = 16;
  const Tensor X(random::normal(random::key(1), {n * shard, 4})), y(random::normal(random::key(2), {n * shard}));
  auto loss = [](const Model& p, const Tensor& x, const Tensor& t) { return mean(square(tanh(matmul(x, p.w) + p.b) - t)); };
  // Different initial parameters on each rank: broadcast makes them rank 0's.
  const Model init = dist::broadcast(Model{Tensor(random::normal(random::key(3 + world.rank()), {4})), Tensor(0.1)});
  auto opt = optim::adam(0.05);
  auto step = [&](auto vg, Model m, int steps, const Tensor& xs, const Tensor& ys) {
    auto state = opt.init(m);
    for (int k = 0; k < steps; ++k) {
      auto [value, g] = vg(m, xs, ys);
      auto [u, next] = opt.update(g, state, m);
      m = optim::apply_updates(m, u);
      state = next;
    }
    return m;
  };
  const std::size_t r = static_cast<std::size_t>(world.rank());
  const Tensor xs = slice(X, 0, r * shard, (r + 1) * shard), ys = slice(y, 0, r * shard, (r + 1) * shard);
  const Model parallel = step(dist::mean_over_ranks(value_and_grad(loss), world), init, 10, xs, ys);
  const Model single = step(value_and_grad(loss), init, 10, X, y);  // the global batch in this process
  CHECK(xt::allclose(parallel.w.value(), single.w.value(), 0.0, 1e-12));
  CHECK(parallel.b.item() == doctest::Approx(single.b.item()).epsilon(1e-12));
  // ... and every rank holds the same parameters, bit for bit.
  const Model zero = dist::broadcast(parallel, 0, world);
  CHECK(same_bits(zero.w.value(), parallel.w.value()));
}

TEST_CASE("dist: data-parallel meta-training keeps phi equal on every rank and averages the meta-gradients") {
  const auto world = dist::Communicator::world();
  using Phi = learn::LstmOptimizerParams;
  const learn::LearnedOptions o{.output_scale = 0.1};
  auto make = [o](const Phi& p) { return learn::lstm_optimizer(p, o); };
  const Phi phi0 = learn::init_lstm_optimizer(random::key(5), o, {.hidden = 4, .layers = 1});
  const learn::Quadratics tasks{.dim = 3, .batch = 2};
  auto key_of = [](int rank) { return random::fold_in(random::key(8), static_cast<std::uint32_t>(rank)); };
  const learn::MetaOptions mo{.unroll = 3, .horizon = 6, .steps = 3, .learning_rate = 0.01,
                              .sum_over_processes = dist::sum_over_ranks(world)};
  const auto result = learn::meta_train(phi0, make, tasks, key_of(world.rank()), mo);
  const Phi zero = dist::broadcast(result.params, 0, world);
  const auto a = tree::leaves(zero), b = tree::leaves(result.params);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(same_bits(a[i], b[i]));
  // The first meta-loss is the mean over ranks of each rank's first unroll (computed here for every rank).
  double expected = 0.0;
  for (int rank = 0; rank < world.size(); ++rank) {
    const auto task = tasks.sample(random::fold_in(key_of(rank), 0));
    const Tensor x = task.init();
    expected += learn::meta_value_and_grad(phi0, make, task, x, make(phi0).init(x), 0, 3, mo).meta_loss.item() /
                world.size();
  }
  CHECK(result.meta_losses.front() == doctest::Approx(expected).epsilon(1e-13));
}
