#include <xgrad/implicit/argmin.hpp>
#include <xgrad/implicit/unroll.hpp>

#include "implicit/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace im = xgrad::implicit;
namespace opt = xgrad::optim;

TEST_CASE("unroll: implicit equals unrolled at convergence; truncated unrolling differs, and by how much") {
  const Ridge r = ridge_problem(50, 5, 13);
  const double alpha = 0.1;
  const auto want = ridge_closed_form(r, alpha);
  const Tensor w0(Array(xt::zeros<double>({5})));
  auto unrolled = [&](int steps, int truncate) {
    return grad([&](const Tensor& a) {
      const Tensor w = im::unroll(opt::sgd(0.3), ridge_inner, w0, {.steps = steps, .truncate = truncate}, a,
                                  Tensor(r.X), Tensor(r.y));
      return ridge_outer(w, r);
    })(Tensor(alpha)).item();
  };
  const double implicit = grad([&](const Tensor& a) {
    return ridge_outer(im::argmin(opt::LBFGS{.tol = 1e-12}, ridge_inner, w0, a, Tensor(r.X), Tensor(r.y)).params, r);
  })(Tensor(alpha)).item();
  const double full = unrolled(400, 0);
  const double trunc = unrolled(400, 5);
  const double err_implicit = std::abs(implicit - want.hypergrad) / std::abs(want.hypergrad);
  const double err_full = std::abs(full - want.hypergrad) / std::abs(want.hypergrad);
  const double err_trunc = std::abs(trunc - want.hypergrad) / std::abs(want.hypergrad);
  MESSAGE("relative error against the closed form: implicit " << err_implicit << ", unrolled 400 steps " << err_full
                                                               << ", truncated to the last 5 " << err_trunc);
  CHECK(err_implicit < 1e-9);
  CHECK(err_full < 1e-6);
  CHECK(err_trunc > 0.05);  // five steps of memory see only part of the dependence on alpha
  // Unrolling a few steps is the derivative of a few steps: against finite differences of that algorithm.
  auto few = [&](double a) {
    return ridge_outer(im::unroll(opt::sgd(0.3), ridge_inner, w0, {.steps = 7}, Tensor(a), Tensor(r.X), Tensor(r.y)), r)
        .item();
  };
  CHECK(unrolled(7, 0) == doctest::Approx((few(alpha + 1e-6) - few(alpha - 1e-6)) / 2e-6).epsilon(1e-6));
}

TEST_CASE("unroll: truncation bounds the tape") {
  const Ridge r = ridge_problem(30, 4, 14);
  const Tensor w0(Array(xt::zeros<double>({4})));
  auto tape_after = [&](int steps, int truncate) {
    std::size_t size = 0;
    (void)grad([&](const Tensor& a) {
      const Tensor w = im::unroll(opt::adam(0.05), ridge_inner, w0, {.steps = steps, .truncate = truncate}, a,
                                  Tensor(r.X), Tensor(r.y));
      size = ad::tape_size();
      return ridge_outer(w, r);
    })(Tensor(0.1));
    return size;
  };
  CHECK(tape_after(40, 10) == tape_after(80, 10));
  CHECK(tape_after(80, 0) > 3 * tape_after(80, 10));
}
