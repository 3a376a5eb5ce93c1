#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <string>
#include <xgrad/core/archive.hpp>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
struct Layer {
  Tensor weight;
  Tensor bias;
  int width = 3;  // static
};
Tensor layer_loss(const Layer& p) {
  return 0.5 * sum(Tensor(Array{1.0, 3.0}) * square(p.weight)) + 0.5 * sum(0.5 * square(p.bias));
}
using Dict = std::map<std::string, Tensor>;
Tensor dict_loss(const Dict& p) {
  return 0.5 * sum(Tensor(Array{1.0, 3.0}) * square(p.at("w"))) + 0.5 * sum(0.5 * square(p.at("b")));
}
}  // namespace

TEST_CASE("apply_updates adds leaf by leaf and keeps the type and static fields") {
  Layer p{Tensor(Array{1.0, 2.0}), Tensor(Array{0.5}), 7};
  Layer u{Tensor(Array{0.1, -0.2}), Tensor(Array{1.0}), 0};
  Layer q = opt::apply_updates(p, u);
  CHECK(at(q.weight, 0) == doctest::Approx(1.1));
  CHECK(at(q.weight, 1) == doctest::Approx(1.8));
  CHECK(at(q.bias, 0) == doctest::Approx(1.5));
  CHECK(q.width == 7);
  std::vector<Array> pa{Array{1.0}, Array{2.0, 3.0}};  // Array leaves work too
  auto qa = opt::apply_updates(pa, std::vector<Array>{Array{1.0}, Array{1.0, 1.0}});
  CHECK(qa[1](1) == 4.0);
}

TEST_CASE("identity and stateless transforms") {
  Tensor x(Array{1.0, -2.0});
  auto id = opt::identity();
  auto r = id.update(x, id.init(x), x);
  CHECK(at(r.updates, 1) == -2.0);
  auto twice_plus_param = opt::stateless([](const Tensor& g, const Tensor& p) { return 2.0 * g + p; });
  auto r2 = twice_plus_param.update(Tensor(Array{1.0, 1.0}), twice_plus_param.init(x), x);
  CHECK(at(r2.updates, 0) == 3.0);
  CHECK(at(r2.updates, 1) == 0.0);
  static_assert(opt::is_transform_v<decltype(id)>);
  static_assert(std::is_same_v<opt::state_t<decltype(id), Tensor>, opt::EmptyState>);
}

TEST_CASE("a struct and a std::map as params give the same iterates as one flat Tensor") {
  auto o = opt::adam(0.1, {.nesterov = true});
  Tensor flat(Array{1.0, -2.0, 0.5});
  auto flat_loss = [](const Tensor& x) {
    return 0.5 * sum(Tensor(Array{1.0, 3.0, 0.5}) * square(x));
  };
  Tensor xf = run(o, flat, flat_loss, 4);
  Layer ls = run(o, Layer{Tensor(Array{1.0, -2.0}), Tensor(Array{0.5}), 3}, layer_loss, 4);
  Dict ds = run(o, Dict{{"w", Tensor(Array{1.0, -2.0})}, {"b", Tensor(Array{0.5})}}, dict_loss, 4);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(at(ls.weight, i) == doctest::Approx(at(xf, i)).epsilon(1e-14));
    CHECK(at(ds.at("w"), i) == doctest::Approx(at(xf, i)).epsilon(1e-14));
  }
  CHECK(at(ls.bias, 0) == doctest::Approx(at(xf, 2)).epsilon(1e-14));
  CHECK(at(ds.at("b"), 0) == doctest::Approx(at(xf, 2)).epsilon(1e-14));
  CHECK(ls.width == 3);
}

TEST_CASE("states are pytrees: printed by tree::repr, saved and loaded by tree::save/load") {
  Layer p{Tensor(Array{1.0, 2.0}), Tensor(Array{0.5}), 3};
  auto o = opt::chain(opt::clip_by_global_norm(1.0), opt::adam(1e-2));
  auto state = o.init(p);
  const std::string r = tree::repr(state);
  INFO(r);
  CHECK(r.find("EmptyState()") != std::string::npos);
  CHECK(r.find("ScaleByAdamState") != std::string::npos);
  CHECK(r.find("count=f64[]") != std::string::npos);
  CHECK(r.find("mu=Layer(weight=f64[2], bias=f64[1], width=3)") != std::string::npos);
  CHECK(r.find("ScaleByScheduleState(count=f64[])") != std::string::npos);
  CHECK(tree::num_leaves(state) == 1 + 2 + 2 + 1);
  CHECK(tree::repr(opt::sgd(0.1).init(p)).find("None") != std::string::npos);  // no momentum buffer

  for (int k = 0; k < 3; ++k) {
    auto [u, s] = o.update(grad(layer_loss)(p), state, p);
    p = opt::apply_updates(p, u);
    state = s;
  }
  const std::string file = "test_optim_state.npz";
  tree::save(file, state);
  auto loaded = tree::load(file, o.init(p));
  std::remove(file.c_str());
  const auto& adam_loaded = std::get<0>(std::get<1>(loaded));  // adam is itself a chain
  CHECK(adam_loaded.count.item() == 3.0);
  CHECK(at(adam_loaded.mu.weight, 1) == at(std::get<0>(std::get<1>(state)).mu.weight, 1));
  CHECK(std::get<1>(std::get<1>(loaded)).count.item() == 3.0);
}
