#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>
#include <xgrad/core/archive.hpp>
#include <xgrad/learn/learn.hpp>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
struct Model {
  Tensor w;  // (2, 2)
  Tensor b;  // (3)
  int tag = 5;  // static
};
Model model_grads() { return {Tensor(Array{{0.5, -2.0}, {1e-7, 3.0}}), Tensor(Array{-0.25, 0.0, 4.0}), 5}; }
std::vector<Tensor> as_vector(const Model& m) { return {m.w, m.b}; }
bool same_values(const Array& a, const Array& b, double tol = 0.0) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::abs(a.data()[i] - b.data()[i]) > tol) return false;
  return true;
}
}  // namespace

TEST_CASE("learned: log_sign preprocessing follows the paper's formula") {
  const learn::LearnedOptions o{.preprocess = learn::Preprocess::log_sign, .k = 10.0};
  const Tensor g = reshape(Tensor(Array{1.0, -std::exp(-5.0), 1e-6, -2e-5, 0.0}), {5, 1});
  const Array f = learn::detail::preprocess(g, o).value();
  REQUIRE(f.shape() == std::vector<std::size_t>{5, 2});
  CHECK(f(0, 0) == doctest::Approx(0.0));
  CHECK(f(0, 1) == 1.0);
  CHECK(f(1, 0) == doctest::Approx(-0.5));
  CHECK(f(1, 1) == -1.0);
  CHECK(f(2, 0) == doctest::Approx(-1.0));  // below e^-10 = 4.54e-5: (-1, e^k g)
  CHECK(f(2, 1) == doctest::Approx(std::exp(10.0) * 1e-6));
  CHECK(f(3, 1) == doctest::Approx(-std::exp(10.0) * 2e-5));
  CHECK(f(4, 0) == doctest::Approx(-1.0));
  CHECK(f(4, 1) == 0.0);
  // Differentiable in g, with finite derivatives also at 0.
  const Tensor d = grad([&](const Tensor& x) { return sum(learn::detail::preprocess(x, o)); })(g);
  for (double v : d.value()) CHECK(std::isfinite(v));
  CHECK(at(d, 0) == doctest::Approx(0.1));                 // d(log|g|/k)/dg = 1/(k g), the sign is constant
  CHECK(at(d, 2) == doctest::Approx(std::exp(10.0)));      // d(e^k g)/dg
  const learn::LearnedOptions none{.preprocess = learn::Preprocess::none};
  CHECK(same_values(learn::detail::preprocess(g, none).value(), g.value()));
}

TEST_CASE("learned: lstm_optimizer is a transform over any pytree, coordinatewise") {
  const learn::LearnedOptions o{};
  const auto phi = learn::init_lstm_optimizer(random::key(3), o, {.hidden = 6, .layers = 2});
  CHECK(tree::repr(phi) ==
        "LstmOptimizerParams(layers=[LstmLayer(w=f64[8,24], b=f64[24]), LstmLayer(w=f64[12,24], b=f64[24])], "
        "w_out=f64[6,1], b_out=f64[1])");
  const auto lstm = learn::lstm_optimizer(phi, o);
  static_assert(opt::is_transform_v<std::remove_cvref_t<decltype(lstm)>>);

  const Model g = model_grads();
  auto s = lstm.init(g);
  REQUIRE(s.carry.size() == 2);
  CHECK(s.carry[1].hc.shape() == Shape{7, 12});  // [h | c]
  auto [u, s1] = lstm.update(g, s, g);
  static_assert(std::is_same_v<decltype(u), Model>);
  static_assert(std::is_same_v<decltype(s1), learn::LstmOptimizerState>);
  CHECK(u.w.shape() == Shape{2, 2});
  CHECK(u.b.shape() == Shape{3});
  CHECK(u.tag == 5);

  // The same coordinates as a std::vector<Tensor>: the same numbers, two steps in a row.
  const auto gv = as_vector(g);
  auto sv = lstm.init(gv);
  auto [uv, sv1] = lstm.update(gv, sv, gv);
  static_assert(std::is_same_v<decltype(uv), std::vector<Tensor>>);
  CHECK(same_values(uv[0].value(), u.w.value()));
  CHECK(same_values(uv[1].value(), u.b.value()));
  auto [u2, s2] = lstm.update(g, s1, g);
  auto [uv2, sv2] = lstm.update(gv, sv1, gv);
  CHECK(same_values(uv2[1].value(), u2.b.value()));
  CHECK(same_values(sv2.carry[0].hc.value(), s2.carry[0].hc.value()));

  // Coordinatewise: a single Tensor holding coordinate j alone gets coordinate j's update.
  const Tensor one(Array{-0.25});
  auto [u_one, s_one] = lstm.update(one, lstm.init(one), one);
  CHECK(at(u_one, 0) == doctest::Approx(at(u.b, 0)).epsilon(1e-14));
  // The state carries memory: the same gradient a second time gives another update.
  CHECK(!same_values(u2.w.value(), u.w.value()));

  // Misuse: a state for another number of coordinates.
  CHECK_THROWS_AS(lstm.update(one, s, one), ShapeError);
  CHECK_THROWS_AS(learn::lstm_optimizer(phi, {.preprocess = learn::Preprocess::none}), ShapeError);
}

TEST_CASE("learned: the update is differentiable with respect to phi") {
  const learn::LearnedOptions o{.output_scale = 0.5};
  const auto phi = learn::init_lstm_optimizer(random::key(4), o, {.hidden = 3, .layers = 2});
  const Tensor g(Array{0.3, -1.2, 2e-6});
  auto f = [&](const learn::LstmOptimizerParams& p) {
    auto t = learn::lstm_optimizer(p, o);
    auto s = t.init(g);
    auto r1 = t.update(g, s, g);
    auto r2 = t.update(g * 0.5, r1.state, g);
    return sum(square(r2.updates)) + sum(r1.updates);
  };
  const auto d = grad(f)(phi);
  // Central differences on a few weights of every leaf.
  const double h = 1e-6;
  auto perturbed = [&](std::size_t leaf, std::size_t i, double e) {
    auto [leaves, def] = tree::flatten<Array>(phi);
    leaves[leaf].data()[i] += e;
    return tree::unflatten(def, leaves);
  };
  const auto dl = tree::leaves<Array>(d);
  for (std::size_t leaf = 0; leaf < dl.size(); ++leaf)
    for (std::size_t i = 0; i < dl[leaf].size(); i += 5) {
      const double fd = (f(perturbed(leaf, i, h)).item() - f(perturbed(leaf, i, -h)).item()) / (2 * h);
      CHECK(dl[leaf].data()[i] == doctest::Approx(fd).epsilon(1e-6).scale(1e-3));
    }
}

TEST_CASE("learned: mlp_optimizer keeps momentum averages and is a transform") {
  for (auto pre : {learn::Preprocess::none, learn::Preprocess::log_sign}) {
    const learn::LearnedOptions o{.preprocess = pre};
    const auto phi = learn::init_mlp_optimizer(random::key(5), o, {.hidden = 4, .decays = {0.5, 0.9}});
    CHECK(phi.w1.shape() == Shape{pre == learn::Preprocess::none ? 3u : 6u, 4});
    const auto mlp = learn::mlp_optimizer(phi, o);
    const Model g = model_grads();
    auto s = mlp.init(g);
    CHECK(s.m.shape() == Shape{7, 2});
    auto [u, s1] = mlp.update(g, s, g);
    static_assert(std::is_same_v<decltype(u), Model>);
    CHECK(u.w.shape() == Shape{2, 2});
    // m = d m + (1 - d) g from zero: coordinate 6 (b[2] = 4) has m = (2, 0.4).
    CHECK(s1.m.value()(6, 0) == doctest::Approx(2.0));
    CHECK(s1.m.value()(6, 1) == doctest::Approx(0.4));
    const auto gv = as_vector(g);
    auto [uv, sv] = mlp.update(gv, mlp.init(gv), gv);
    CHECK(same_values(uv[1].value(), u.b.value()));
  }
}

TEST_CASE("learned: trained weights survive tree::save / tree::load") {
  const learn::LearnedOptions o{};
  const auto phi = learn::init_lstm_optimizer(random::key(6), o, {.hidden = 5});
  const std::string file = "test_learned_lstm.npz";
  tree::save(file, phi);
  const auto back = tree::load(file, learn::init_lstm_optimizer(random::key(7), o, {.hidden = 5}));
  const auto a = tree::leaves<Array>(phi), b = tree::leaves<Array>(back);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(same_values(a[i], b[i]));
  CHECK(tree::paths(phi)[0] == "layers[0].w");
  const Tensor g(Array{0.1, -3.0});
  auto t1 = learn::lstm_optimizer(phi, o), t2 = learn::lstm_optimizer(back, o);
  CHECK(same_values(t1.update(g, t1.init(g), g).updates.value(), t2.update(g, t2.init(g), g).updates.value()));
  // A file for another shape is refused, naming the mismatch.
  CHECK_THROWS_AS(tree::load(file, learn::init_lstm_optimizer(random::key(7), o, {.hidden = 4})), ValueError);
  const auto mphi = learn::init_mlp_optimizer(random::key(8));
  tree::save(file, mphi);
  const auto mback = tree::load(file, learn::init_mlp_optimizer(random::key(9)));
  CHECK(same_values(mback.w1.value(), mphi.w1.value()));
  std::remove(file.c_str());
}
