#include "check.hpp"

#include <sstream>

using namespace xgrad;

TEST_CASE("construction, value, item, shape") {
  Tensor s(2.5);
  CHECK(s.ndim() == 0);
  CHECK(s.item() == 2.5);
  Tensor v(Array{1.0, 2.0, 3.0});
  CHECK(v.shape() == Shape{3});
  CHECK(v.size() == 3);
  CHECK(v.value()(1) == 2.0);
  Tensor d;  // default: a 0-d zero
  CHECK(d.item() == 0.0);
  CHECK(Tensor(Array{{1.0, 2.0}, {3.0, 4.0}}).shape() == Shape{2, 2});
  CHECK(Tensor(Array{7.0}).item() == 7.0);  // any size-1 tensor
  CHECK_THROWS_WITH_AS(v.item(), doctest::Contains("shape (3)"), MisuseError);
  CHECK_THROWS_AS(Tensor(std::shared_ptr<const Array>()), MisuseError);
}

TEST_CASE("copies share the value; values are never modified") {
  Tensor a(Array{1.0, 2.0});
  Tensor b = a;
  CHECK(&a.value() == &b.value());
  Tensor c = a * 2.0;
  CHECK(a.value()(1) == 2.0);
  CHECK(c.value()(1) == 4.0);
}

TEST_CASE("is_traced and printing") {
  Tensor x(1.0);
  CHECK_FALSE(x.is_traced());
  bool inside = false;
  grad([&](const Tensor& t) {
    inside = t.is_traced() && (t * 2.0).is_traced() && !stop_gradient(t).is_traced();
    return t;
  })(x);
  CHECK(inside);
  std::ostringstream os;
  os << Tensor(Array{1.0, 2.0});
  CHECK(os.str().find("Tensor(") == 0);
  CHECK(os.str().find("traced") == std::string::npos);
}

TEST_CASE("Tensor is a pytree leaf; Array leaves become constants") {
  std::vector<Tensor> v{Tensor(1.0), Tensor(Array{2.0, 3.0})};
  CHECK(tree::repr(v) == "[f64[], f64[2]]");
  auto leaves = tree::leaves<Tensor>(std::make_tuple(Array{1.0}, Tensor(2.0)));
  REQUIRE(leaves.size() == 2);
  CHECK(leaves[0].item() == 1.0);
  CHECK_FALSE(leaves[0].is_traced());
}
