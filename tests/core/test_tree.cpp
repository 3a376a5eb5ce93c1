#include <doctest/doctest.h>

#include <xgrad/core/tree.hpp>

#include <iomanip>
#include <xtensor/xio.hpp>

using namespace xgrad;

namespace demo {
struct Linear {
  Array weight;
};
struct Ridge {
  Array alpha;
  Linear model;
};
struct WithStatic {
  Array w;
  int width = 3;
  std::string name = "net";
  std::function<double(double)> act = [](double x) { return x; };
};
struct Containers {
  std::vector<Array> layers;
  std::array<Array, 2> pair;
  std::tuple<Array, int, Array> tup;
  std::optional<Array> maybe;
  std::map<std::string, Array> named;
};
// A non-aggregate opts in with one line.
class Layer {
 public:
  Layer(Array w, Array b) : w_(std::move(w)), b_(std::move(b)) {}
  const Array& w() const { return w_; }
  XGRAD_TREE_FIELDS(w_, b_)
 private:
  Array w_, b_;
};
}  // namespace demo

static Array arange(std::size_t n, double start = 0.0) {
  Array a = Array::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) a(i) = start + static_cast<double>(i);
  return a;
}

TEST_CASE("aggregates flatten with field names, nested") {
  demo::Ridge r{Array(2.0), {xt::zeros<double>({1, 10})}};
  CHECK(tree::num_leaves(r) == 2);
  CHECK(tree::field_names<demo::Ridge>() == std::vector<std::string>{"alpha", "model"});
  CHECK(tree::type_name<demo::Ridge>() == "Ridge");
  CHECK(tree::repr(r) == "Ridge(alpha=f64[], model=Linear(weight=f64[1,10]))");
  CHECK(tree::paths(r) == std::vector<std::string>{"alpha", "model.weight"});
  auto [leaves, def] = tree::flatten(r);
  REQUIRE(leaves.size() == 2);
  CHECK(leaves[0]() == 2.0);
  leaves[0] = Array(5.0);
  demo::Ridge back = tree::unflatten(def, leaves);
  CHECK(back.alpha() == 5.0);
  CHECK(back.model.weight.shape()[1] == 10);
}

TEST_CASE("static fields are carried, never visited") {
  demo::WithStatic s{arange(3), 7, "mlp"};
  CHECK(tree::num_leaves(s) == 1);
  auto d = tree::map([](const Array& a) { return Array(a * 2.0); }, s);
  CHECK(d.width == 7);
  CHECK(d.name == "mlp");
  CHECK(d.w(2) == 4.0);
  CHECK(d.act(3.0) == 3.0);
  CHECK(tree::repr(s) == "WithStatic(w=f64[3], width=7, name='mlp', act=<static>)");
}

TEST_CASE("containers are nodes, in order, with key paths") {
  demo::Containers c{{arange(2), arange(3)}, {Array(1.0), Array(2.0)}, {arange(1), 9, arange(4)}, std::nullopt,
                     {{"b", arange(2)}, {"a", arange(5)}}};
  CHECK(tree::num_leaves(c) == 8);
  auto p = tree::paths(c);
  CHECK(p == std::vector<std::string>{"layers[0]", "layers[1]", "pair[0]", "pair[1]", "tup[0]", "tup[2]",
                                      "named['a']", "named['b']"});
  CHECK(tree::repr(c) == "Containers(layers=[f64[2], f64[3]], pair=[f64[], f64[]], tup=(f64[1], 9, f64[4]), "
                         "maybe=None, named={'a': f64[5], 'b': f64[2]})");
  c.maybe = arange(6);
  CHECK(tree::num_leaves(c) == 9);
  CHECK(tree::paths(c)[6] == "maybe");
}

TEST_CASE("a std::vector at the root and opted-in classes") {
  std::vector<demo::Layer> net{{arange(2), arange(1)}, {arange(3), arange(1, 5.0)}};
  CHECK(tree::paths(net) == std::vector<std::string>{"[0].w_", "[0].b_", "[1].w_", "[1].b_"});
  CHECK(tree::repr(net) == "[Layer(w_=f64[2], b_=f64[1]), Layer(w_=f64[3], b_=f64[1])]");
  auto sq = tree::map([](const Array& a) { return Array(a * a); }, net);
  CHECK(sq[1].w()(2) == 4.0);
}

namespace {
struct P {  // at namespace scope: a local type's field names are not visible to the reflection
  Array w, b;
};
}  // namespace

TEST_CASE("check_like: each leaf has exactly its primal's shape, or the error names the call, the path and both") {
  const P p{xt::zeros<double>({3}), xt::zeros<double>({2, 2})};
  CHECK_NOTHROW(tree::check_like(p, P{xt::ones<double>({3}), xt::ones<double>({2, 2})}, "hvp", "tangent"));
  CHECK_THROWS_WITH_AS(tree::check_like(p, P{xt::ones<double>({1}), xt::ones<double>({2, 2})}, "hvp", "tangent"),
                       "xgrad::hvp: the tangent at 'w' has shape (1), its primal has shape (3) (they must be equal)",
                       ShapeError);
  CHECK_THROWS_WITH_AS(tree::check_like(std::vector<Array>{Array{1.0}}, std::vector<Array>{}, "sgd", "gradient"),
                       doctest::Contains("xgrad::sgd: structure mismatch"), ShapeError);
}

TEST_CASE("map over several trees, and structure mismatches say where") {
  demo::Ridge a{Array(1.0), {arange(3)}}, b{Array(10.0), {arange(3, 1.0)}};
  auto s = tree::map([](const Array& x, const Array& y) { return Array(x + y); }, a, b);
  CHECK(s.alpha() == 11.0);
  CHECK(s.model.weight(2) == 5.0);

  std::vector<Array> u{arange(2), arange(2)}, v{arange(2)};
  try {
    tree::map([](const Array& x, const Array& y) { return Array(x + y); }, u, v);
    FAIL("no exception");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("structure mismatch at '<root>'") != std::string::npos);
  }
  std::map<std::string, Array> m1{{"w", arange(1)}}, m2{{"v", arange(1)}};
  CHECK_THROWS_WITH_AS(tree::for_each([](const Array&, const Array&) {}, m1, m2),
                       doctest::Contains("key 'w' is missing"), ShapeError);
  demo::Containers c1{}, c2{};
  c1.maybe = arange(1);
  CHECK_THROWS_WITH_AS(tree::for_each([](const Array&, const Array&) {}, c1, c2), doctest::Contains("'maybe'"),
                       ShapeError);
}

TEST_CASE("structure equality ignores leaf values and shapes, not layout") {
  demo::Ridge a{Array(1.0), {arange(3)}}, b{Array(2.0), {arange(7)}};
  CHECK(tree::structure(a) == tree::structure(b));
  CHECK(tree::structure(a).repr == "Ridge(alpha=*, model=Linear(weight=*))");
  std::vector<Array> v1{arange(1)}, v2{arange(1), arange(1)};
  CHECK_FALSE(tree::structure(v1) == tree::structure(v2));
}

TEST_CASE("ravel round trip") {
  demo::Containers c{{arange(2), arange(3)}, {Array(1.0), Array(2.0)}, {arange(1), 9, arange(4)}, arange(2), {}};
  c.layers[1] = Array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  auto [flat, unravel] = tree::ravel(c);
  CHECK(flat.size() == 2 + 6 + 2 + 1 + 4 + 2);
  CHECK(flat(2) == 1.0);
  CHECK(flat(7) == 6.0);
  demo::Containers back = unravel(flat * 2.0);
  CHECK(back.layers[1](1, 2) == 12.0);
  CHECK(back.layers[1].shape()[0] == 2);
  CHECK(std::get<1>(back.tup) == 9);
  CHECK((*back.maybe)(1) == 2.0);
  CHECK_THROWS_AS(unravel(arange(3)), ShapeError);
  auto z = tree::zeros_like(c);
  CHECK(xt::sum(z.layers[1])() == 0.0);
  CHECK(z.layers[1].shape() == c.layers[1].shape());
}

TEST_CASE("unflatten checks the leaf count") {
  demo::Ridge a{Array(1.0), {arange(3)}};
  auto [leaves, def] = tree::flatten(a);
  leaves.pop_back();
  CHECK_THROWS_AS(tree::unflatten(def, leaves), ShapeError);
}

TEST_CASE("operator<< via ADL-visible using") {
  using xgrad::operator<<;
  std::ostringstream os;
  os << demo::Ridge{Array(1.0), {arange(2)}};
  CHECK(os.str() == "Ridge(alpha=f64[], model=Linear(weight=f64[2]))");
  // ... and it does not capture other aggregates, such as the stream manipulators of the standard library.
  os << std::setprecision(3) << 1.23456;
  CHECK(os.str().find("1.23") != std::string::npos);
  static_assert(!tree::has_leaves_v<demo::Layer> || tree::has_leaves_v<std::vector<demo::Layer>>);
  static_assert(!tree::has_leaves_v<std::pair<int, double>>);
}
