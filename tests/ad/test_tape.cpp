#include "check.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define XGRAD_ASAN 1
#else
#include <malloc.h>
#endif

using namespace xgrad;

TEST_CASE("one node per tensor op, and the tape is empty after a transform") {
  std::size_t during = 0;
  auto f = [&](const Tensor& x) {
    Tensor y = tanh(x * 2.0 + 1.0);  // three ops
    during = ad::tape_size();
    return sum(y);
  };
  grad(f)(Tensor(Array::from_shape({100})));
  CHECK(during == 1 + 3);  // the input node and one per op, whatever the array size
  CHECK(ad::tape_size() == 0);
  CHECK(ad::live_levels() == 0);
}

TEST_CASE("nothing is recorded outside transforms or under NoGrad") {
  Tensor x(Array{1.0, 2.0});
  Tensor y = exp(x) * x;
  CHECK(ad::tape_size() == 0);
  CHECK_FALSE(y.is_traced());
  grad([&](const Tensor& t) {
    const std::size_t before = ad::tape_size();
    {
      ad::NoGrad no;
      Tensor z = t * t;
      CHECK_FALSE(z.is_traced());
    }
    CHECK(ad::tape_size() == before);
    return sum(t);
  })(x);
}

TEST_CASE("an exception inside f leaves the tape clean") {
  auto f = [](const Tensor& x) -> Tensor {
    Tensor y = x * 3.0;
    throw ValueError("boom");
    return y;
  };
  CHECK_THROWS_AS(grad(f)(Tensor(1.0)), ValueError);
  CHECK(ad::tape_size() == 0);
  CHECK(ad::live_levels() == 0);
  CHECK(grad([](const Tensor& x) { return x * x; })(Tensor(3.0)).item() == doctest::Approx(6.0));
}

TEST_CASE("memory stays flat over 10^6 value_and_grad calls") {
  auto f = [](const Tensor& x) { return sum(tanh(x * x + 1.0)); };
  const Tensor x(Array{0.1, 0.2, 0.3, 0.4});
  double acc = 0;
  for (int i = 0; i < 1000; ++i) acc += value_and_grad(f)(x).first.item();  // warm up allocator caches
#ifndef XGRAD_ASAN
  const std::size_t before = mallinfo2().uordblks;
#endif
#ifdef XGRAD_ASAN
  const int n = 100000;  // the sanitizer build is slower; it still checks the tape and the levels
#else
  const int n = 1000000;
#endif
  for (int i = 0; i < n; ++i) acc += value_and_grad(f)(x).second.value()(0);
  CHECK(acc > 0);
  CHECK(ad::tape_size() == 0);
#ifndef XGRAD_ASAN
  const std::size_t after = mallinfo2().uordblks;
  INFO("heap bytes in use before " << before << ", after " << after);
  CHECK(after <= before + 4096);
#endif
}
