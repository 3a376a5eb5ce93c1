#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <xgrad/core/parallel.hpp>
#include <xgrad/core/random.hpp>

using namespace xgrad;

namespace {
struct Pair {  // a pytree with two leaves
  Array a, b;
};
// A piece whose floating-point sum depends on the order of addition.
Pair piece(std::size_t i) {
  const Array u = random::normal(random::fold_in(random::key(7), static_cast<std::uint32_t>(i)), {5});
  return {u * std::pow(10.0, static_cast<double>(i % 7) - 3), xt::exp(u)};
}
bool same_bits(const Array& x, const Array& y) {
  return x.shape() == y.shape() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}
}  // namespace

TEST_CASE("parallel: map keeps index order, whatever the thread count") {
  for (std::size_t threads : {1, 2, 4, 7}) {
    const auto v = parallel::map(100, [](std::size_t i) { return i * i; }, threads);
    REQUIRE(v.size() == 100);
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == i * i);
  }
  CHECK(parallel::map(0, [](std::size_t i) { return i; }, 4).empty());
}

TEST_CASE("parallel: map_reduce of pytrees is the same bit for bit with 1, 2 and 4 threads") {
  const Pair one = parallel::map_reduce(64, piece, 1);
  for (std::size_t threads : {2, 4}) {
    const Pair many = parallel::map_reduce(64, piece, threads);
    CHECK(same_bits(one.a, many.a));
    CHECK(same_bits(one.b, many.b));
  }
  // ... and it is the left-to-right sum.
  Array a = piece(0).a;
  for (std::size_t i = 1; i < 64; ++i) a = a + piece(i).a;
  CHECK(same_bits(one.a, a));
}

TEST_CASE("parallel: sum_trees cuts large leaves into pieces and still adds each element in index order") {
  // 200 000 elements: four pieces of the reduction, summed side by side on 2 and 4 threads.
  std::vector<Pair> trees;
  for (std::uint32_t i = 0; i < 5; ++i) {
    const Array u = random::normal(random::fold_in(random::key(8), i), {400, 500});
    trees.push_back({u * std::pow(10.0, static_cast<double>(i) - 2), xt::exp(u)});
  }
  Array a = trees[0].a, b = trees[0].b;
  for (std::size_t i = 1; i < trees.size(); ++i) {
    a = a + trees[i].a;
    b = b + trees[i].b;
  }
  for (std::size_t threads : {1, 2, 4}) {
    const Pair s = parallel::sum_trees(trees, threads);
    CHECK(same_bits(s.a, a));
    CHECK(same_bits(s.b, b));
  }
}

TEST_CASE("parallel: sum_trees of leaves whose shapes differ is a ShapeError naming both shapes") {
  const std::vector<Pair> trees{{Array(xt::ones<double>({2, 3})), Array(xt::ones<double>({4}))},
                                {Array(xt::ones<double>({3, 2})), Array(xt::ones<double>({4}))}};
  CHECK_THROWS_WITH_AS(parallel::sum_trees(trees), doctest::Contains("(3,2)"), ShapeError);
  CHECK_THROWS_WITH_AS(parallel::sum_trees(trees), doctest::Contains("(2,3)"), ShapeError);
}

TEST_CASE("parallel: pieces run on several threads, and the pool is reused") {
  for (int round = 0; round < 3; ++round) {
    std::mutex m;
    std::set<std::thread::id> ids;
    std::atomic<int> inside{0}, most{0};
    parallel::for_each_index(
        8,
        [&](std::size_t) {
          const int now = ++inside;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          --inside;
          std::lock_guard lock(m);
          ids.insert(std::this_thread::get_id());
        },
        2);
    CHECK(ids.size() == 2);
    CHECK(most.load() == 2);
  }
}

TEST_CASE("parallel: the exception of the lowest failing index, after all pieces ran") {
  std::atomic<int> ran{0};
  try {
    parallel::for_each_index(
        20,
        [&](std::size_t i) {
          ++ran;
          if (i == 13 || i == 5) throw ValueError("piece " + std::to_string(i));
        },
        4);
    FAIL("no exception");
  } catch (const ValueError& e) {
    CHECK(std::string(e.what()) == "piece 5");
  }
  CHECK(ran.load() == 20);
}

TEST_CASE("parallel: nested calls run serially inside a piece, and give the same results") {
  const auto outer = parallel::map(
      4, [](std::size_t i) { return parallel::map(3, [i](std::size_t j) { return 10 * i + j; }, 4); }, 4);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 3; ++j) CHECK(outer[i][j] == 10 * i + j);
}

TEST_CASE("parallel: XGRAD_NUM_THREADS sets the default thread count") {
  const char* old = std::getenv("XGRAD_NUM_THREADS");
  const std::string saved = old ? old : "";
  setenv("XGRAD_NUM_THREADS", "3", 1);
  CHECK(parallel::default_threads() == 3);
  setenv("XGRAD_NUM_THREADS", "zero", 1);  // not a positive integer: the machine's count
  CHECK(parallel::default_threads() == std::max(1u, std::thread::hardware_concurrency()));
  if (old)
    setenv("XGRAD_NUM_THREADS", saved.c_str(), 1);
  else
    unsetenv("XGRAD_NUM_THREADS");
  CHECK_THROWS_AS(parallel::sum_trees(std::vector<Pair>{}), ValueError);
}
