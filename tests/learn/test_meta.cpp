#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <xgrad/learn/learn.hpp>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {
using Phi = learn::LstmOptimizerParams;
const learn::LearnedOptions kOpts{.output_scale = 0.3};
auto make_lstm = [](const Phi& p) { return learn::lstm_optimizer(p, kOpts); };

// phi + e * v, leaf by leaf.
Phi axpy(const Phi& phi, double e, const Phi& v) {
  return tree::map([e](const auto& a, const auto& b) { return Tensor(a) + e * Tensor(b); }, phi, v);
}
// A random direction in phi's space (standard normal leaves).
Phi direction(const Phi& phi, std::uint32_t seed) {
  std::uint32_t i = 0;
  return tree::map(
      [&](const auto& leaf) {
        return Tensor(random::normal(random::fold_in(random::key(seed), i++), Tensor(leaf).shape()));
      },
      phi);
}
double central(const auto& f, const Phi& phi, const Phi& v, double h) {
  return (f(axpy(phi, h, v)) - f(axpy(phi, -h, v))) / (2 * h);
}

// A tiny setting: 2 problems of dimension 3, a 2-layer LSTM with 3 units, 4 steps from step 2 of the trajectory.
struct Tiny {
  learn::QuadraticTask task = learn::Quadratics{.dim = 3, .batch = 2, .init_stddev = 0.5}.sample(random::key(11));
  Phi phi = learn::init_lstm_optimizer(random::key(12), kOpts, {.hidden = 3, .layers = 2});
  Tensor x = task.init();
  learn::LstmOptimizerState state = make_lstm(phi).init(x);
  Tiny() {  // start mid-trajectory, with a nonzero optimizer state
    auto r = learn::unroll_optimizer(make_lstm(phi), task, x, state, 0, 2);
    x = r.params;
    state = r.state;
  }
};
}  // namespace

TEST_CASE("meta: exact meta-gradient (second_order) matches finite differences of the meta-loss") {
  Tiny s;
  const learn::MetaOptions o{.second_order = true, .weight = [](int t) { return 0.5 + 0.25 * t; }};
  auto meta_loss = [&](const Phi& p) {
    return learn::unroll_optimizer(make_lstm(p), s.task, s.x, s.state, 2, 4, o).meta_loss.item();
  };
  const auto r = learn::meta_value_and_grad(s.phi, make_lstm, s.task, s.x, s.state, 2, 4, o);
  CHECK(r.meta_loss.item() == doctest::Approx(meta_loss(s.phi)).epsilon(1e-13));
  for (std::uint32_t seed = 0; seed < 4; ++seed) {
    const Phi v = direction(s.phi, seed);
    const double fd = central(meta_loss, s.phi, v, 1e-6);
    CHECK(vdot(r.grad, v).item() == doctest::Approx(fd).epsilon(1e-6));
  }
  // The trajectory's new point is the unroll's, as constants.
  const auto plain = learn::unroll_optimizer(make_lstm(s.phi), s.task, s.x, s.state, 2, 4, o);
  CHECK(sum(square(r.params - plain.params)).item() == doctest::Approx(0.0));
  CHECK(!r.params.is_traced());
}

TEST_CASE("meta: first-order meta-gradient matches its definition (inner gradients replayed as constants)") {
  Tiny s;
  const learn::MetaOptions first{.second_order = false}, exact{.second_order = true};
  const int T = 4;
  // Record the inner gradients of the run at phi.
  std::vector<Tensor> recorded;
  {
    auto lstm = make_lstm(s.phi);
    Tensor x = s.x;
    auto st = s.state;
    for (int t = 0; t < T; ++t) {
      recorded.push_back(grad([&](const Tensor& y) { return learn::total_loss(s.task, y); })(x));
      auto [u, n] = lstm.update(recorded.back(), st, x);
      x = x + u;
      st = n;
    }
  }
  // The meta-loss in which the inner gradients are those constants.
  auto replayed = [&](const Phi& p) {
    auto lstm = make_lstm(p);
    Tensor x = s.x, total(0.0);
    auto st = s.state;
    for (int t = 0; t < T; ++t) {
      auto [u, n] = lstm.update(recorded[std::size_t(t)], st, x);
      x = x + u;
      st = n;
      total = total + mean(s.task.losses(x));
    }
    return total.item();
  };
  const auto r = learn::meta_value_and_grad(s.phi, make_lstm, s.task, s.x, s.state, 0, T, first);
  const auto re = learn::meta_value_and_grad(s.phi, make_lstm, s.task, s.x, s.state, 0, T, exact);
  CHECK(r.meta_loss.item() == doctest::Approx(replayed(s.phi)).epsilon(1e-13));
  CHECK(re.meta_loss.item() == doctest::Approx(r.meta_loss.item()).epsilon(1e-13));  // same forward
  for (std::uint32_t seed = 0; seed < 4; ++seed) {
    const Phi v = direction(s.phi, 100 + seed);
    CHECK(vdot(r.grad, v).item() == doctest::Approx(central(replayed, s.phi, v, 1e-6)).epsilon(1e-6));
  }
  // The two modes differ: the dropped terms are not zero here.
  const Phi v = direction(s.phi, 7);
  CHECK(std::abs(vdot(r.grad, v).item() - vdot(re.grad, v).item()) > 1e-6 * std::abs(vdot(re.grad, v).item()));
}

TEST_CASE("meta: the weights select the losses of the meta-loss") {
  Tiny s;
  const learn::MetaOptions last_only{.weight = [](int t) { return t == 5 ? 1.0 : 0.0; }};
  const auto r = learn::unroll_optimizer(make_lstm(s.phi), s.task, s.x, s.state, 2, 3, last_only);
  CHECK(r.meta_loss.item() == doctest::Approx(mean(s.task.losses(r.params)).item()).epsilon(1e-14));
  const auto all = learn::unroll_optimizer(make_lstm(s.phi), s.task, s.x, s.state, 2, 3);
  CHECK(all.meta_loss.item() > r.meta_loss.item());
}

TEST_CASE("meta: log_loss sums the logs of the step losses, and its exact meta-gradient matches finite differences") {
  Tiny s;
  const learn::MetaOptions o{.second_order = true, .weight = [](int t) { return 0.5 + 0.25 * t; }, .log_loss = true};
  // By hand: one step at a time, w_t log(mean_i f_i(x_t)).
  double by_hand = 0.0;
  {
    auto x = s.x;
    auto st = s.state;
    for (int k = 2; k < 6; ++k) {
      const auto r = learn::unroll_optimizer(make_lstm(s.phi), s.task, x, st, k, 1);
      by_hand += (0.5 + 0.25 * (k + 1)) * std::log(r.meta_loss.item());
      x = r.params;
      st = r.state;
    }
  }
  auto meta_loss = [&](const Phi& p) {
    return learn::unroll_optimizer(make_lstm(p), s.task, s.x, s.state, 2, 4, o).meta_loss.item();
  };
  CHECK(meta_loss(s.phi) == doctest::Approx(by_hand).epsilon(1e-13));
  const auto plain = learn::unroll_optimizer(make_lstm(s.phi), s.task, s.x, s.state, 2, 4,
                                             {.weight = [](int t) { return 0.5 + 0.25 * t; }});
  CHECK(std::abs(plain.meta_loss.item() - by_hand) > 1e-3);  // the option changes the objective
  const auto r = learn::meta_value_and_grad(s.phi, make_lstm, s.task, s.x, s.state, 2, 4, o);
  CHECK(r.meta_loss.item() == doctest::Approx(by_hand).epsilon(1e-13));
  for (std::uint32_t seed = 0; seed < 4; ++seed) {
    const Phi v = direction(s.phi, 20 + seed);
    CHECK(vdot(r.grad, v).item() == doctest::Approx(central(meta_loss, s.phi, v, 1e-6)).epsilon(1e-6));
  }
}

TEST_CASE("meta: a task with a minibatch per step: step k's gradient and loss use minibatch k") {
  Array X = random::normal(random::key(1), {40, 3});
  Array labels = xt::zeros<double>({40});
  for (std::size_t i = 0; i < 40; ++i) labels(i) = double(i % 2);
  const auto task = learn::MlpClassification{.X = X, .labels = labels, .classes = 2, .hidden = 3, .samples = 0,
                                             .batch = 5}
                        .sample(random::key(3));
  const auto phi = learn::init_lstm_optimizer(random::key(4), {}, {.hidden = 4, .layers = 1});
  const auto lstm = make_lstm(phi);
  const auto w0 = task.init();
  const auto r = learn::unroll_optimizer(lstm, task, w0, lstm.init(w0), 2, 3);
  // By hand: from step 2, x_{k+1} = x_k + update(grad f^k(x_k)), meta-loss = f^3(x_3) + f^4(x_4) + f^5(x_5).
  auto w = w0;
  auto st = lstm.init(w0);
  double total = 0.0;
  for (int k = 2; k < 5; ++k) {
    const auto g = grad([&](const learn::MlpWeights& p) { return sum(task.losses(p, k)); })(w);
    auto [u, n] = lstm.update(g, st, w);
    w = optim::apply_updates(w, u);
    st = n;
    total += task.losses(w, k + 1).item();
  }
  CHECK(r.meta_loss.item() == doctest::Approx(total).epsilon(1e-14));
  CHECK(tree::ravel(r.params).first == tree::ravel(w).first);
}

TEST_CASE("meta: the checkpointed meta-gradient equals the full-tape one") {
  Tiny s;
  for (bool second : {false, true})
    for (int every : {1, 4, 5, 7}) {  // 23 steps: segments of 1, 4, 5 and 7 steps, the last one shorter
      CAPTURE(second);
      CAPTURE(every);
      const learn::MetaOptions full{.second_order = second}, cp{.second_order = second, .checkpoint_every = every};
      const auto a = learn::meta_value_and_grad(s.phi, make_lstm, s.task, s.x, s.state, 1, 23, full);
      const auto b = learn::meta_value_and_grad(s.phi, make_lstm, s.task, s.x, s.state, 1, 23, cp);
      CHECK(b.meta_loss.item() == doctest::Approx(a.meta_loss.item()).epsilon(1e-13));
      const Array ga = tree::ravel(a.grad).first, gb = tree::ravel(b.grad).first;
      CHECK(double(xt::amax(xt::abs(ga - gb))()) <= 1e-10 * double(xt::amax(xt::abs(ga))()));
      CHECK(tree::ravel(a.params).first == tree::ravel(b.params).first);
      CHECK(tree::ravel(a.state).first == tree::ravel(b.state).first);
    }
  CHECK_THROWS_AS(learn::meta_value_and_grad(s.phi, make_lstm, s.task, s.x, s.state, 0, 3, {.checkpoint_every = -1}),
                  ValueError);
}

TEST_CASE("meta: meta_train calls on_step after every outer step with the updated weights") {
  const learn::Quadratics dist{.dim = 3, .batch = 2};
  Tiny s;
  std::vector<int> steps;
  std::vector<double> losses;
  Phi last = s.phi;
  const auto r = learn::meta_train(s.phi, make_lstm, dist, random::key(5), {.unroll = 2, .horizon = 4, .steps = 5},
                                   [&](int step, const Phi& p, double loss) {
                                     steps.push_back(step);
                                     losses.push_back(loss);
                                     last = p;
                                   });
  CHECK(steps == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(losses == r.meta_losses);
  CHECK(tree::ravel(last).first == tree::ravel(r.params).first);
  CHECK(tree::ravel(last).first != tree::ravel(s.phi).first);
}

TEST_CASE("meta: a run goes on from its result; the outer learning rate may be a schedule") {
  const learn::Quadratics dist{.dim = 3, .batch = 2};
  Tiny s;
  std::vector<double> rates;  // the schedule is asked for the outer step numbers 0, 1, 2, ...
  const learn::MetaOptions o{.unroll = 2, .horizon = 4, .steps = 3,
                             .learning_rate = [&rates](int step) {
                               rates.push_back(step);
                               return Tensor(1e-3 / (1.0 + step));
                             }};
  const auto first = learn::meta_train(s.phi, make_lstm, dist, random::key(5), o);
  std::vector<int> steps;
  const auto more = learn::meta_train(first, make_lstm, dist, random::key(5), o,
                                      [&](int step, const Phi&, double) { steps.push_back(step); });
  CHECK(steps == std::vector<int>{4, 5, 6});
  CHECK(more.meta_losses.size() == 6);
  CHECK(more.tasks == 4);  // tasks 1, 2 in the first run (horizon 4 = two unrolls each), 3, 4 in the resumed one
  CHECK(more.seconds >= first.seconds);
  CHECK(rates == std::vector<double>{0, 1, 2, 3, 4, 5});
  // The resumed run starts from the first run's weights and adam's moments: its first step equals the fourth step
  // of one uninterrupted run fed the same meta-gradients, which the weights after 3 + 3 steps differ from.
  CHECK(tree::ravel(more.params).first != tree::ravel(first.params).first);
  const auto again = learn::meta_train(first, make_lstm, dist, random::key(5), o);
  CHECK(tree::ravel(again.params).first == tree::ravel(more.params).first);  // deterministic from the result
}

TEST_CASE("meta: a short meta-training run reduces the meta-loss; the tape is released") {
  const learn::Quadratics dist{.dim = 5, .batch = 8};
  const learn::LearnedOptions o{.output_scale = 0.1};
  auto make = [o](const Phi& p) { return learn::lstm_optimizer(p, o); };
  const Phi phi0 = learn::init_lstm_optimizer(random::key(1), o, {.hidden = 8, .layers = 2});
  const auto held_out = dist.sample(random::key(99));
  auto evaluate = [&](const Phi& p) {
    auto lstm = make(p);
    return learn::unroll_optimizer(lstm, held_out, held_out.init(), lstm.init(held_out.init()), 0, 20)
        .meta_loss.item();
  };
  std::ostringstream log;
  const std::size_t tape_before = ad::tape_size();
  const auto result = learn::meta_train(phi0, make, dist, random::key(2),
                                        {.unroll = 5, .horizon = 20, .steps = 40, .learning_rate = 0.01,
                                         .print_every = 20, .progress = &log});
  CHECK(ad::tape_size() == tape_before);
  CHECK(result.meta_losses.size() == 40);
  CHECK(result.skipped == 0);
  CHECK(result.tasks == 10);
  const double before = evaluate(phi0), after = evaluate(result.params);
  MESSAGE("held-out meta-loss over 20 steps: " << before << " -> " << after);
  CHECK(after < 0.7 * before);
  // Two progress lines: step, meta-loss, elapsed, rate.
  const std::string text = log.str();
  CHECK(text.find("meta-step    20/40  meta-loss ") == 0);
  CHECK(text.find("meta-step    40/40") != std::string::npos);
  CHECK(text.find(" s  ") != std::string::npos);
  CHECK(text.find("steps/s") != std::string::npos);
}

TEST_CASE("meta: a meta-batch on 1, 2 and 4 threads gives the same weights bit for bit") {
  const learn::Quadratics dist{.dim = 4, .batch = 3};
  const learn::LearnedOptions o{.output_scale = 0.1};
  auto make = [o](const Phi& p) { return learn::lstm_optimizer(p, o); };
  const Phi phi0 = learn::init_lstm_optimizer(random::key(5), o, {.hidden = 4, .layers = 2});
  auto train = [&](std::size_t threads) {
    return learn::meta_train(phi0, make, dist, random::key(6),
                             {.unroll = 3, .horizon = 6, .steps = 4, .learning_rate = 0.01, .meta_batch = 4,
                              .threads = threads});
  };
  const auto one = train(1);
  CHECK(one.tasks == 4 + 4);  // every trajectory restarts once after 6 inner steps
  const auto w1 = tree::leaves(one.params);
  for (std::size_t threads : {2, 4}) {
    const auto many = train(threads);
    const auto w = tree::leaves(many.params);
    REQUIRE(w.size() == w1.size());
    for (std::size_t i = 0; i < w.size(); ++i) CHECK(xt::all(xt::equal(w[i], w1[i])));
    CHECK(many.meta_losses == one.meta_losses);
  }
  // The first outer step uses the mean of the four trajectories' meta-gradients.
  auto single = [&](std::uint32_t n) {
    const auto task = dist.sample(random::fold_in(random::key(6), n));
    const auto x = task.init();
    return learn::meta_value_and_grad(phi0, make, task, x, make(phi0).init(x), 0, 3, {.unroll = 3, .horizon = 6});
  };
  double mean_loss = 0.0;
  for (std::uint32_t n = 0; n < 4; ++n) mean_loss += single(n).meta_loss.item() / 4;
  CHECK(one.meta_losses.front() == doctest::Approx(mean_loss).epsilon(1e-14));
}

TEST_CASE("meta: the MLP optimizer meta-trains through the same code") {
  const learn::LearnedOptions o{.output_scale = 0.1};
  using MPhi = learn::MlpOptimizerParams;
  auto make = [o](const MPhi& p) { return learn::mlp_optimizer(p, o); };
  const auto task = learn::Quadratics{.dim = 3, .batch = 2, .init_stddev = 0.5}.sample(random::key(3));
  const MPhi phi = learn::init_mlp_optimizer(random::key(4), o, {.hidden = 4});
  const learn::MetaOptions exact{.second_order = true};
  const auto s0 = make(phi).init(task.init());
  const auto r = learn::meta_value_and_grad(phi, make, task, task.init(), s0, 0, 3, exact);
  auto meta_loss = [&](const MPhi& p) {
    return learn::unroll_optimizer(make(p), task, task.init(), s0, 0, 3, exact).meta_loss.item();
  };
  const double h = 1e-6;
  const Tensor v = reshape(Tensor(Array{1.0, -1.0, 0.5, 2.0}), {4, 1});
  MPhi plus = phi, minus = phi;
  plus.w2 = phi.w2 + h * v;
  minus.w2 = phi.w2 - h * v;
  const double fd = (meta_loss(plus) - meta_loss(minus)) / (2 * h);
  CHECK(sum(r.grad.w2 * v).item() == doctest::Approx(fd).epsilon(1e-6));
}

TEST_CASE("meta: misuse is reported") {
  const Phi phi = learn::init_lstm_optimizer(random::key(1), {}, {.hidden = 2, .layers = 1});
  auto make = [](const Phi& p) { return learn::lstm_optimizer(p); };
  CHECK_THROWS_AS(learn::meta_train(phi, make, learn::Quadratics{}, random::key(0), {.unroll = 0}), ValueError);
  CHECK_THROWS_AS(learn::meta_train(phi, make, learn::Quadratics{}, random::key(0), {.meta_batch = 0}), ValueError);
  CHECK_THROWS_AS(learn::Quadratics{.dim = 0}.sample(random::key(0)), ValueError);
}
