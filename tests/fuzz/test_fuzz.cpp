// Differential fuzzing of the op library: random graphs (generate.hpp) checked against a long double reference
// and its finite differences (check.hpp).
//
//   test_fuzz                                  the fixed seeds of ctest (fewer in a sanitizer build)
//   XGRAD_FUZZ_SEEDS=20000 test_fuzz           more seeds (`make fuzz`)
//   XGRAD_FUZZ_FIRST=1234 XGRAD_FUZZ_SEEDS=1   one seed, to reproduce a failure; XGRAD_FUZZ_DUMP=1 prints its graph
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "check.hpp"

using namespace xgrad;
using namespace xgrad::fuzz;

namespace {

// About 2.5 s in Release and 3 s in the ASan build, which is about 10x slower per graph.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t default_seeds = 300;
#else
constexpr std::uint64_t default_seeds = 3000;
#endif

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}
// The seeds to run: [first, first + count).
struct Seeds {
  std::uint64_t first = env_or("XGRAD_FUZZ_FIRST", 1), count = env_or("XGRAD_FUZZ_SEEDS", default_seeds);
};

}  // namespace

TEST_CASE("differential fuzzing: values, gradients, jvp and hvp of random graphs over every op") {
  const auto [first, seeds] = Seeds();
  const bool dump_all = env_or("XGRAD_FUZZ_DUMP", 0) != 0;
  std::size_t passed = 0, skipped = 0, failed = 0;
  double value_error = 0, first_error = 0, second_error = 0;
  std::array<std::size_t, op_count> used{};
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    const Graph g = Generator(seed).make();
    for (const Node& n : g.nodes) ++used[static_cast<std::size_t>(n.op)];
    const Verdict v = check(g);
    if (dump_all) std::printf("%s  -> %s\n", dump(g).c_str(), v.why.empty() ? "passed" : v.why.c_str());
    if (v.kind == Verdict::passed) {
      ++passed;
      value_error = std::max(value_error, v.value_error);
      first_error = std::max(first_error, v.first_error);
      second_error = std::max(second_error, v.second_error);
    }
    if (v.kind == Verdict::skipped) ++skipped;
    if (v.kind == Verdict::failed) {
      ++failed;
      FAIL_CHECK("seed " << seed << ": " << v.why << "\n" << dump(g)
                             << "reproduce: XGRAD_FUZZ_FIRST=" << seed << " XGRAD_FUZZ_SEEDS=1 test_fuzz");
    }
  }
  std::printf("fuzz: %zu graphs from seed %llu: %zu passed, %zu skipped (kinks), %zu failed\n",
              passed + skipped + failed, static_cast<unsigned long long>(first), passed, skipped, failed);
  std::printf("fuzz: largest errors of the graphs passed: value %.1e, gradient and jvp %.1e, hvp %.1e\n", value_error,
              first_error, second_error);
  CHECK(failed == 0);
  // The skip rules must not hide the check: most graphs are smooth where they are evaluated.
  CHECK(skipped <= (passed + skipped + failed) / 3);
  if (seeds >= default_seeds) {
    std::string unused;
    for (std::size_t op = 0; op < op_count; ++op)
      if (used[op] == 0) unused += std::string(" ") + op_info[op].name;
    CHECK_MESSAGE(unused.empty(), "ops no graph used:", unused);
  }
}

namespace {

// The graph's output with input 0's first element replaced by NaN, from xgrad and from the reference: numpy
// propagates NaN through every op (and where does not leak it from the branch not taken).
std::string nan_mismatch(const Graph& g) {
  std::vector<Tensor> inputs;
  std::vector<Real> theta;
  for (int id : g.inputs) {
    Array v = g.nodes[static_cast<std::size_t>(id)].value;
    if (inputs.empty()) v.data()[0] = NAN;
    inputs.emplace_back(v);
    theta.insert(theta.end(), v.begin(), v.end());
  }
  const Ref want = evaluate(g, theta, nullptr)[static_cast<std::size_t>(g.output)];
  try {
    const Tensor got = run(g, inputs);
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double a = got.value().data()[i];
      const auto b = static_cast<double>(want.v[i]);
      if (std::isnan(a) != std::isnan(b) || (!std::isnan(b) && std::abs(a - b) > 1e-9 * (1 + std::abs(b))))
        return "element " + std::to_string(i) + " is " + std::to_string(a) + ", numpy's " + std::to_string(b);
    }
  } catch (const std::exception& e) {
    return std::string("xgrad threw: ") + e.what();
  }
  return "";
}

bool uses(const Graph& g, std::initializer_list<Op> ops) {
  for (const Node& n : g.nodes)
    if (std::find(ops.begin(), ops.end(), n.op) != ops.end()) return true;
  return false;
}

// LAPACK may call a matrix with NaN singular (numpy raises LinAlgError then too): not a question of NaN semantics.
constexpr std::initializer_list<Op> lapack = {Op::solve, Op::cholesky};

// Runs nan_mismatch on the graphs of the run's seeds that `select` accepts; returns how many were checked.
template <class Select>
std::size_t check_nan(Select select) {
  std::size_t checked = 0;
  const auto [first, seeds] = Seeds();
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    const Graph g = Generator(seed).make();
    if (uses(g, lapack) || !select(g)) continue;
    ++checked;
    const std::string why = nan_mismatch(g);
    CHECK_MESSAGE(why.empty(), "seed ", seed, ": ", why, "\n", dump(g));
  }
  return checked;
}

}  // namespace

TEST_CASE("NaN in an input propagates to the outputs it reaches, as in numpy") {
  // maximum, minimum, relu, clip and the min/max reductions included (issue 17: they used to drop it).
  CHECK(std::isnan(maximum(Tensor(Array{NAN}), Tensor(Array{1.0})).value()(0)));
  const std::size_t checked = check_nan([](const Graph&) { return true; });
  CHECK(checked > 0);
}

TEST_CASE("jvp and hvp reject tangents whose shape differs from the input's") {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const Graph g = Generator(seed).make();
    std::vector<Tensor> inputs, wrong;
    for (int id : g.inputs) inputs.emplace_back(g.nodes[static_cast<std::size_t>(id)].value);
    for (const Tensor& x : inputs) wrong.push_back(x);
    if (inputs[0].size() < 2) continue;
    wrong[0] = Tensor(Array(xt::ones<double>(Shape(inputs[0].ndim(), 1))));  // broadcasts to the input's shape
    auto f = [&g](const std::vector<Tensor>& xs) { return run(g, xs); };
    auto s = [&g](const std::vector<Tensor>& xs) { return sum(run(g, xs) * Tensor(g.weights)); };
    INFO("seed ", seed, ": input 0 of shape ", shape_str(inputs[0].shape()), ", tangent ", shape_str(wrong[0].shape()));
    CHECK_THROWS_AS(jvp(f, inputs, wrong), ShapeError);
    CHECK_THROWS_AS(hvp(s, inputs, wrong), ShapeError);
  }
}

namespace {

// An op applied to empty arrays: numpy's result shape, or "throws" where numpy raises (or returns NaN, which
// xgrad may refuse); then the error must name the op that was called.
struct EmptyCase {
  const char* op;
  std::function<Tensor(const Tensor&)> f;
  Shape input;
  std::optional<Shape> shape;  // numpy's; nullopt: an error naming `op` is allowed
};

void check_empty(const EmptyCase& c) {
  const std::string op = c.op;  // (doctest prints a const char* as a pointer)
  INFO(op, " of shape ", shape_str(c.input));
  const Tensor x(Array(Array::from_shape(c.input)));
  try {
    const Tensor y = c.f(x);
    if (c.shape) CHECK(shape_str(y.shape()) == shape_str(*c.shape));
    // The gradient of a function of no elements is an empty array of the input's shape.
    CHECK(grad([&](const Tensor& t) { return sum(c.f(t)); })(x).shape() == c.input);
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK_MESSAGE(!c.shape, "numpy returns an array of shape ", shape_str(c.shape.value_or(Shape{})), "; xgrad threw ",
                  what);
    CHECK_MESSAGE(what.find("xgrad::" + op + ":") != std::string::npos, "the error does not name the op: ", what);
  }
}

}  // namespace

TEST_CASE("ops on empty arrays: numpy's shapes, or errors that name the op") {
  const Shape e20{2, 0}, e0{0};
  const std::vector<EmptyCase> cases = {
      {"exp", [](const Tensor& x) { return exp(x); }, e20, e20},
      {"log", [](const Tensor& x) { return log(x); }, e20, e20},
      {"relu", [](const Tensor& x) { return relu(x); }, e20, e20},
      {"maximum", [](const Tensor& x) { return maximum(x, Tensor(Array{1.0})); }, e20, e20},
      {"where", [](const Tensor& x) { return where(Array{1.0}, x, x); }, e20, e20},
      {"sum", [](const Tensor& x) { return sum(x, {1}); }, e20, Shape{2}},
      {"sum", [](const Tensor& x) { return sum(x); }, e20, Shape{}},
      {"prod", [](const Tensor& x) { return prod(x, {1}, true); }, e20, Shape{2, 1}},
      {"norm", [](const Tensor& x) { return norm(x, {1}); }, e20, Shape{2}},
      {"mean", [](const Tensor& x) { return mean(x, {1}); }, e20, std::nullopt},  // numpy: NaN and a warning
      {"max", [](const Tensor& x) { return max(x, {0}); }, e20, e0},
      {"max", [](const Tensor& x) { return max(x, {1}); }, e20, std::nullopt},  // numpy raises
      {"min", [](const Tensor& x) { return min(x); }, e0, std::nullopt},
      {"logsumexp", [](const Tensor& x) { return logsumexp(x, 0); }, e20, e0},
      {"logsumexp", [](const Tensor& x) { return logsumexp(x, 1); }, e20, std::nullopt},  // scipy: -inf
      {"softmax", [](const Tensor& x) { return softmax(x, 0); }, e20, e20},
      {"reshape", [](const Tensor& x) { return reshape(x, {0, 5}); }, e20, Shape{0, 5}},
      {"transpose", [](const Tensor& x) { return transpose(x); }, e20, Shape{0, 2}},
      {"broadcast_to", [](const Tensor& x) { return broadcast_to(x, {3, 0}); }, e0, Shape{3, 0}},
      {"sum_to", [](const Tensor& x) { return sum_to(x, {0}); }, e20, e0},
      {"concatenate", [](const Tensor& x) { return concatenate({x, x}, 1); }, e20, e20},
      {"stack", [](const Tensor& x) { return stack({x, x}, 0); }, e20, Shape{2, 2, 0}},
      {"slice", [](const Tensor& x) { return slice(x, 0, 1, 2); }, e20, Shape{1, 0}},
      {"take", [](const Tensor& x) { return take(x, {1, 0}, 0); }, e20, e20},
      {"matmul", [](const Tensor& x) { return matmul(x, Tensor(Array(Array::from_shape({0, 3})))); }, e20, Shape{2, 3}},
      {"outer", [](const Tensor& x) { return outer(x, Tensor(Array{1.0, 2.0})); }, e20, Shape{0, 2}},
  };
  for (const EmptyCase& c : cases) check_empty(c);
}

// Issue 17: softmax and log_softmax of a (2,0) array along its empty axis threw an error naming logsumexp (scipy and
// jax.nn return the empty array), and softmax_cross_entropy inherited it; mse of empty arrays named mean.
TEST_CASE("softmax, log_softmax, softmax_cross_entropy and mse on empty arrays") {
  const Shape e20{2, 0};
  const std::vector<EmptyCase> cases = {
      {"softmax", [](const Tensor& x) { return softmax(x); }, e20, e20},
      {"log_softmax", [](const Tensor& x) { return log_softmax(x); }, e20, e20},
      {"softmax_cross_entropy", [](const Tensor& x) { return softmax_cross_entropy(x, x); }, e20, Shape{2}},
      {"mse", [](const Tensor& x) { return mse(x, x); }, e20, std::nullopt},  // numpy: NaN and a warning
  };
  for (const EmptyCase& c : cases) check_empty(c);
}
