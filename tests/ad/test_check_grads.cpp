#include "check.hpp"

using namespace xgrad;

TEST_CASE("check_grads passes correct rules and reports where a wrong one fails") {
  auto good = [](const Tensor& x, const Tensor& y) { return x * sin(y); };
  Tensor x(Array{0.5, -1.0}), y(Array{1.0, 2.0});
  auto r = check_grads(good, std::make_tuple(x, y), 2);
  INFO(r.report());
  CHECK(r.ok);
  CHECK(r.worst < 1e-7);
  CHECK(r.evaluations > 0);

  // A custom rule with a wrong first derivative (factor 2 missing) for the second argument only.
  auto bad = custom_vjp([](const Tensor& a, const Tensor& b) { return std::pair{a * b * b, std::tuple{a, b}}; },
                        [](const std::tuple<Tensor, Tensor>& res, const Tensor& g) {
                          const auto& [a, b] = res;
                          return std::tuple{g * b * b, g * a * b};
                        });
  auto rb = check_grads(bad, std::make_tuple(x, y), 1, {.directions = 0});  // reverse mode only
  CHECK_FALSE(check_grads(bad, std::make_tuple(x, y), 1).ok);  // forward mode sees it too
  CHECK_FALSE(rb.ok);
  INFO(rb.report());
  CHECK(rb.where.find("argument [1]") != std::string::npos);
  CHECK(rb.report().find("FAILED") == 0);

  // A rule right at first order and wrong at second: first order passes, second fails.
  auto bad2 = custom_vjp([](const Tensor& a) { return std::pair{a * a * a, a}; },
                         [](const Tensor& a, const Tensor& g) { return std::tuple{g * 3.0 * stop_gradient(a * a)}; });
  CHECK(check_grads(bad2, Tensor(Array{1.5}), 1).ok);
  auto r2 = check_grads(bad2, Tensor(Array{1.5}), 2);
  CHECK_FALSE(r2.ok);
  CHECK(r2.where.find("order 2") == 0);
}
