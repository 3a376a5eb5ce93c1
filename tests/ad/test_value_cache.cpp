#include <thread>

#include "check.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::sample;

namespace {
// Restores the default limit and empties the cache, whatever a test case did.
struct Fresh {
  std::size_t saved = ad::value_cache_limit();
  Fresh() { ad::clear_value_cache(); }
  ~Fresh() {
    ad::set_value_cache_limit(saved);
    ad::clear_value_cache();
  }
};

// Bit-for-bit equality of shape and elements.
void check_same(const Array& got, const Array& want) {
  REQUIRE(shape_of(got) == shape_of(want));
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(got.data()[i] == want.data()[i]);
}
}  // namespace

TEST_CASE("value cache: released op results are kept and reused, user arrays are not") {
  Fresh fresh;
  CHECK(ad::value_cache_bytes() == 0);
  { Tensor user(sample({6})); }
  CHECK(ad::value_cache_bytes() == 0);  // built by the user: freed as usual
  const Tensor x(sample({6}));
  const double* first = nullptr;
  {
    Tensor y = x * 2.0;
    first = y.value().data();
  }
  const std::size_t held = ad::value_cache_bytes();
  CHECK(held >= 6 * sizeof(double));
  // The next op with six elements takes that array back, whatever its shape; its values are the new ones.
  const Tensor x23(Array(xt::reshape_view(x.value(), {2, 3})));
  Tensor z = x23 + 1.0;
  CHECK(z.value().data() == first);
  CHECK(ad::value_cache_bytes() < held);
  CHECK(z.shape() == Shape{2, 3});
  check_close(z.value(), Array(xt::reshape_view(x.value(), {2, 3}) + 1.0), 1e-15);
}

TEST_CASE("value cache: an array still shared by anyone is never reused") {
  Fresh fresh;
  const Tensor x(sample({5}));
  std::shared_ptr<const Array> kept;
  {
    Tensor y = exp(x);
    kept = y.shared_value();
  }
  const Array copy = *kept;
  for (int i = 0; i < 10; ++i) {
    Tensor w = x * static_cast<double>(i);
    CHECK(w.value().data() != kept->data());
  }
  check_same(*kept, copy);
}

TEST_CASE("value cache: gradients are the same with the cache on and off, and the limit holds") {
  Fresh fresh;
  auto f = [](const Tensor& w, const Tensor& x) { return sum(tanh(matmul(x, w) + 0.5) * tanh(x)); };
  const Tensor w(sample({4, 4}, -1, 1, 3)), x(sample({3, 4}, -1, 1, 4));
  ad::set_value_cache_limit(0);
  const Array off = grad(f)(w, x).value();
  CHECK(ad::value_cache_bytes() == 0);
  ad::set_value_cache_limit(std::size_t{1} << 20);
  const Array on1 = grad(f)(w, x).value();
  const Array on2 = grad(f)(w, x).value();  // this one runs on recycled arrays
  check_same(on1, off);
  check_same(on2, off);
  CHECK(ad::value_cache_bytes() > 0);
  ad::set_value_cache_limit(1000);  // lowering the limit trims this thread's cache at once
  CHECK(ad::value_cache_bytes() <= 1000);
  {
    Tensor big = Tensor(sample({1000})) * 2.0;  // 8 KB: more than the limit, so freed when released
  }
  CHECK(ad::value_cache_bytes() <= 1000);
}

TEST_CASE("value cache: arrays released on another thread, and threads that exit") {
  Fresh fresh;
  const Tensor x(sample({7}));
  Tensor y = x * 3.0, z = x * 4.0;  // allocated here
  const Array want = y.value();
  std::size_t other_bytes = 0, idle_bytes = 1;
  std::thread t([&] {
    Tensor warm = Tensor(sample({3})) * 2.0;  // this thread's first op: it has a cache from now on
    Tensor mine = std::move(y);
    check_same(mine.value(), want);
    mine = Tensor();  // released here, into this thread's cache
    other_bytes = ad::value_cache_bytes();
    Tensor again = Tensor(sample({7})) + 1.0;  // reused here
    check_same(again.value(), Array(sample({7}) + 1.0));
  });
  t.join();  // its cache is freed as the thread exits
  std::thread idle([&] {
    Tensor mine = std::move(z);
    mine = Tensor();  // a thread that never ran an op has no cache: the array is freed
    idle_bytes = ad::value_cache_bytes();
  });
  idle.join();
  CHECK(other_bytes >= 7 * sizeof(double));
  CHECK(idle_bytes == 0);
  CHECK(ad::value_cache_bytes() == 0);
}
