#include <doctest/doctest.h>

#include <string>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
struct Net {
  Tensor weight;
  Tensor bias;
};
Tensor net_loss(const Net& n) { return sum(square(n.weight - 1.0)) + sum(square(n.bias + 2.0)); }
}  // namespace

TEST_CASE("chain equals the manual composition of its parts") {
  auto a = opt::clip_by_global_norm(1.5);
  auto b = opt::scale_by_adam({.b1 = 0.5});
  auto c = opt::scale_by_learning_rate(opt::exponential_decay(0.1, 2, 0.5));
  auto ch = opt::chain(a, b, c);
  Net p{Tensor(Array{0.0, 3.0}), Tensor(Array{1.0})}, q = p;
  auto s = ch.init(p);
  auto sa = a.init(q);
  auto sb = b.init(q);
  auto sc = c.init(q);
  for (int k = 0; k < 4; ++k) {
    auto [u, s2] = ch.update(grad(net_loss)(p), s, p);
    p = opt::apply_updates(p, u);
    s = s2;
    auto ra = a.update(grad(net_loss)(q), sa, q);
    auto rb = b.update(ra.updates, sb, q);
    auto rc = c.update(rb.updates, sc, q);
    q = opt::apply_updates(q, rc.updates);
    sa = ra.state;
    sb = rb.state;
    sc = rc.state;
    CHECK(at(p.weight, 0) == at(q.weight, 0));
    CHECK(at(p.weight, 1) == at(q.weight, 1));
    CHECK(at(p.bias, 0) == at(q.bias, 0));
  }
  CHECK(std::get<1>(s).count.item() == 4.0);
  CHECK(at(std::get<1>(s).nu.weight, 1) == at(sb.nu.weight, 1));
}

TEST_CASE("maybe: the inner transform or the identity, with an optional state") {
  Tensor p(Array{1.0});
  auto on = opt::maybe(true, opt::trace(0.5));
  auto off = opt::maybe(false, opt::trace(0.5));
  CHECK(on.init(p).has_value());
  CHECK_FALSE(off.init(p).has_value());
  auto s = on.update(p, on.init(p), p).state;
  CHECK(on.update(p, s, p).updates.item() == doctest::Approx(1.5));
  CHECK(off.update(p, off.init(p), p).updates.item() == 1.0);
}

TEST_CASE("masked: unselected leaves pass through unchanged, by key path or by a mask tree") {
  Net p{Tensor(Array{1.0, 2.0}), Tensor(Array{3.0})};
  Net g{Tensor(Array{0.5, 0.5}), Tensor(Array{0.5})};
  auto by_path = opt::masked(opt::add_decayed_weights(0.1), [](const std::string& path) { return path == "weight"; });
  auto u = by_path.update(g, by_path.init(p), p).updates;
  CHECK(at(u.weight, 0) == doctest::Approx(0.6));
  CHECK(at(u.weight, 1) == doctest::Approx(0.7));
  CHECK(at(u.bias, 0) == 0.5);

  Net mask{Tensor(0.0), Tensor(1.0)};
  auto by_tree = opt::masked(opt::scale(-3.0), mask);
  auto v = by_tree.update(g, by_tree.init(p), p).updates;
  CHECK(at(v.weight, 0) == 0.5);
  CHECK(at(v.bias, 0) == -1.5);

  // a full optimizer on the weight only: the bias's update is its raw gradient, passed through (as in optax)
  auto o = opt::masked(opt::adam(0.1), [](const std::string& path) { return path != "bias"; });
  auto ro = o.update(grad(net_loss)(p), o.init(p), p);
  CHECK(at(ro.updates.weight, 1) == doctest::Approx(-0.1));  // Adam's first step: -lr * sign(g)
  CHECK(at(ro.updates.bias, 0) == doctest::Approx(10.0));     // d/db (b + 2)^2 at b = 3
  CHECK(tree::repr(o.init(p)).find("MaskedState") != std::string::npos);
  // masked-out leaves do not count in a global norm
  std::vector<Tensor> gs{Tensor(Array{3.0, 4.0}), Tensor(Array{100.0})};
  auto clipper = opt::masked(opt::clip_by_global_norm(1.0), [](const std::string& path) { return path == "[0]"; });
  auto w = clipper.update(gs, clipper.init(gs), gs).updates;
  CHECK(at(w[0], 0) == doctest::Approx(0.6));
  CHECK(at(w[1], 0) == 100.0);
  CHECK_THROWS_AS(opt::masked(opt::scale(1.0), std::vector<Tensor>{Tensor(Array{1.0, 1.0})}), ShapeError);
}
