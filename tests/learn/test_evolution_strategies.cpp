#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <xtensor/xnorm.hpp>

#include <xgrad/learn/learn.hpp>

#include "optim/common.hpp"

using namespace xgrad;

namespace {

// A two-parameter learned optimizer (heavy ball with a learned rate and momentum) and a deterministic task: small
// enough that thousands of PES trajectories take a second, and nonlinear enough in phi that truncation matters.
struct Phi {
  Tensor log_lr;
  Tensor logit_beta;
};
auto make_opt = [](const Phi& p) {
  return optim::make_transform([](const Tensor& x) { return Tensor(Array(xt::zeros<double>(x.value().shape()))); },
                               [p](const Tensor& g, const Tensor& v, const Tensor&) {
                                 const Tensor v1 = sigmoid(p.logit_beta) * v + g;
                                 return optim::Updated<Tensor, Tensor>{-exp(p.log_lr) * v1, v1};
                               });
};
const Phi kPhi{Tensor(std::log(0.01)), Tensor(0.0)};
const auto kTask = learn::Quadratics{.dim = 4, .batch = 2}.sample(random::key(3));
constexpr int kHorizon = 20, kUnroll = 5;
const learn::MetaOptions kExact{.second_order = true};

Array raveled(const Phi& p) { return tree::ravel(p).first; }

// Mean and standard error of the rows of samples (N, d).
std::pair<Array, Array> mean_and_se(const std::vector<Array>& samples) {
  const auto d = samples[0].size();
  Array mean = xt::zeros<double>({d}), var = xt::zeros<double>({d});
  for (const auto& s : samples) mean += s / double(samples.size());
  for (const auto& s : samples) var += (s - mean) * (s - mean) / double(samples.size() - 1);
  return {mean, xt::sqrt(var / double(samples.size()))};
}

}  // namespace

TEST_CASE("evolution strategies: ES over one unroll estimates that unroll's meta-gradient") {
  const Tensor x0 = kTask.init();
  const auto s0 = make_opt(kPhi).init(x0);
  const Array exact = raveled(learn::meta_value_and_grad(kPhi, make_opt, kTask, x0, s0, 0, kUnroll, kExact).grad);
  std::vector<Array> samples;
  for (std::uint32_t i = 0; i < 400; ++i)
    samples.push_back(raveled(learn::es_meta_gradient(kPhi, make_opt, kTask, x0, s0, 0, kUnroll, random::key(i),
                                                   {.pairs = 1, .sigma = 1e-3})
                               .grad));
  const auto [mean, se] = mean_and_se(samples);
  for (std::size_t j = 0; j < exact.size(); ++j) {
    CAPTURE(j);
    CHECK(std::abs(mean(j) - exact(j)) <= 4.0 * se(j));
  }
  CHECK(xt::norm_l2(se)() < 0.1 * xt::norm_l2(exact)());  // the check above has teeth
  // 400 pairs in one call: as close as the mean of 400 single-pair estimates.
  const auto many = learn::es_meta_gradient(kPhi, make_opt, kTask, x0, s0, 0, kUnroll, random::key(9),
                                            {.pairs = 400, .sigma = 1e-3});
  const Array many_error = xt::abs(raveled(many.grad) - exact);
  for (std::size_t j = 0; j < exact.size(); ++j) CHECK(many_error(j) <= 4.0 * se(j));
  CHECK(many.meta_loss == doctest::Approx(
                              learn::unroll_optimizer(make_opt(kPhi), kTask, x0, s0, 0, kUnroll).meta_loss.item())
                              .epsilon(1e-5));
  CHECK_THROWS_AS(learn::es_meta_gradient(kPhi, make_opt, kTask, x0, s0, 0, kUnroll, random::key(0), {.pairs = 0}),
                  ValueError);
  CHECK_THROWS_AS(learn::es_meta_gradient(kPhi, make_opt, kTask, x0, s0, 0, kUnroll, random::key(0), {.sigma = 0.0}),
                  ValueError);
}

TEST_CASE("evolution strategies: PES is unbiased over the whole trajectory, truncated backpropagation is not") {
  const Tensor x0 = kTask.init();
  const auto s0 = make_opt(kPhi).init(x0);
  // The exact gradient of the whole trajectory's meta-loss: backpropagation through all 20 steps.
  const Array exact = raveled(learn::meta_value_and_grad(kPhi, make_opt, kTask, x0, s0, 0, kHorizon, kExact).grad);
  // Truncated backpropagation (exact within each unroll of 5), summed over the 4 unrolls of the trajectory.
  Array truncated = xt::zeros<double>({exact.size()});
  {
    Tensor x = x0;
    auto s = s0;
    for (int t = 0; t < kHorizon; t += kUnroll) {
      auto r = learn::meta_value_and_grad(kPhi, make_opt, kTask, x, s, t, kUnroll, kExact);
      truncated += raveled(r.grad);
      x = r.params;
      s = r.state;
    }
  }
  // PES: one antithetic pair per trajectory, the sum of its 4 estimates; many trajectories.
  std::vector<Array> samples;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    auto pes = learn::pes_init(make_opt, kPhi, kTask, 1);
    Array g = xt::zeros<double>({exact.size()});
    for (int t = 0; t < kHorizon; t += kUnroll)
      g += raveled(learn::pes_meta_gradient(kPhi, make_opt, kTask, pes, t, kUnroll, random::key(i),
                                         {.pairs = 1, .sigma = 1e-3})
                    .grad);
    if (pes.unrolls != kHorizon / kUnroll) FAIL("PES counted " << pes.unrolls << " unrolls");
    samples.push_back(g);
  }
  const auto [mean, se] = mean_and_se(samples);
  for (std::size_t j = 0; j < exact.size(); ++j)
    MESSAGE("d/dphi_" << j << ": exact " << exact(j) << ", PES mean " << mean(j) << " (standard error " << se(j)
                      << "), truncated backpropagation " << truncated(j));
  double bias_in_se = 0.0;
  for (std::size_t j = 0; j < exact.size(); ++j) {
    CAPTURE(j);
    CHECK(std::abs(mean(j) - exact(j)) <= 4.0 * se(j));
    bias_in_se = std::max(bias_in_se, std::abs(truncated(j) - exact(j)) / se(j));
  }
  CHECK(bias_in_se > 10.0);  // truncation's bias is many standard errors of PES
  // The pairs of one state must match the options.
  auto pes = learn::pes_init(make_opt, kPhi, kTask, 2);
  CHECK_THROWS_AS(learn::pes_meta_gradient(kPhi, make_opt, kTask, pes, 0, kUnroll, random::key(0), {.pairs = 3}),
                  ValueError);
}

TEST_CASE("evolution strategies: meta_train with ES and PES lowers the meta-loss, the same on 1 and 2 threads") {
  const learn::Quadratics dist{.dim = 4, .batch = 2};
  const auto held_out = dist.sample(random::key(77));
  auto trajectory_loss = [&](const Phi& p) {  // the whole 20-step meta-loss on a held-out task
    const Tensor x0 = held_out.init();
    return learn::unroll_optimizer(make_opt(p), held_out, x0, make_opt(p).init(x0), 0, kHorizon).meta_loss.item();
  };
  for (auto estimator : {learn::MetaEstimator::es, learn::MetaEstimator::pes}) {
    CAPTURE(int(estimator));
    learn::MetaOptions o{.unroll = kUnroll, .horizon = kHorizon, .steps = 40, .learning_rate = 0.05,
                         .meta_batch = 2, .threads = 1, .estimator = estimator, .es_pairs = 4, .es_sigma = 0.01};
    const auto one = learn::meta_train(kPhi, make_opt, dist, random::key(8), o);
    o.threads = 2;
    const auto two = learn::meta_train(kPhi, make_opt, dist, random::key(8), o);
    CHECK(raveled(one.params) == raveled(two.params));
    CHECK(one.meta_losses == two.meta_losses);
    CHECK(one.skipped == 0);
    const double before = trajectory_loss(kPhi), after = trajectory_loss(one.params);
    MESSAGE("held-out 20-step meta-loss " << before << " -> " << after);
    CHECK(after < 0.8 * before);
  }
}
