#include <xgrad/optim/conjugate_gradient.hpp>

#include <cmath>
#include <doctest/doctest.h>
#include <vector>

using namespace xgrad;

namespace {
// A diagonal operator: its eigenvalues are known.
optim::FlatLinearMap diagonal(const std::vector<double>& d) {
  return [d](const Array& v) {
    Array r = v;
    for (std::size_t i = 0; i < d.size(); ++i) r(i) *= d[i];
    return r;
  };
}
}  // namespace

TEST_CASE("conjugate_gradient: solves, reports its coefficients, and their Lanczos matrix gives lambda_min") {
  const std::vector<double> d{0.25, 1.0, 2.0, 3.0, 5.0, 8.0};
  Array b = xt::ones<double>({d.size()});
  auto r = optim::conjugate_gradient(diagonal(d), Array(xt::zeros<double>({d.size()})), b, 1e-12, 100);
  CHECK(r.stop == optim::CGStop::converged);
  for (std::size_t i = 0; i < d.size(); ++i) CHECK(r.x(i) == doctest::Approx(1.0 / d[i]).epsilon(1e-10));
  CHECK(r.alpha.size() == std::size_t(r.iterations));
  CHECK(r.beta.size() + 1 == r.alpha.size());  // the converging step computes no beta
  // After n steps the Krylov space is everything: the smallest Ritz value is lambda_min.
  CHECK(optim::lanczos_min_eigenvalue(r.alpha, r.beta) == doctest::Approx(0.25).epsilon(1e-9));
  // After two steps, an estimate from above.
  auto r2 = optim::conjugate_gradient(diagonal(d), Array(xt::zeros<double>({d.size()})), b, 1e-12, 2);
  CHECK(r2.stop == optim::CGStop::max_iterations);
  const double two = optim::lanczos_min_eigenvalue(r2.alpha, r2.beta);
  CHECK(two > 0.25);
  CHECK(two < 8.0);
  CHECK(std::isnan(optim::lanczos_min_eigenvalue({}, {})));
}

TEST_CASE("conjugate_gradient: stops at negative curvature and reports it") {
  auto r = optim::conjugate_gradient(diagonal({1.0, -1.0}), Array(xt::zeros<double>({2})), Array{0.0, 1.0}, 1e-12, 10);
  CHECK(r.stop == optim::CGStop::negative_curvature);
  CHECK(r.x(1) == 0.0);
}
