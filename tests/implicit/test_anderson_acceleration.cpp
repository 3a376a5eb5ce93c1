#include <xgrad/implicit/anderson_acceleration.hpp>
#include <xgrad/implicit/argmin.hpp>

#include "implicit/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace im = xgrad::implicit;

namespace {
// x = A x + b with A symmetric, eigenvalues spread in [-0.5, 0.99]: plain iteration needs ~ log(tol) / log(0.99)
// steps, Anderson about as many as GMRES.
struct Linear {
  Array A, b;
  explicit Linear(std::size_t n) : A(xt::zeros<double>({n, n})), b(Array::from_shape({n})) {
    const Array Q = random::normal(random::key(5), {n, n});
    Array M = xt::linalg::dot(Q, xt::transpose(Q));  // a random symmetric matrix, then rescaled eigenvalues
    auto [w, V] = xt::linalg::eigh(M);
    for (std::size_t i = 0; i < n; ++i) w(i) = -0.5 + 1.49 * double(i) / double(n - 1);
    A = xt::linalg::dot(V, xt::linalg::dot(xt::diag(w), xt::transpose(V)));
    b = random::normal(random::key(6), {n});
  }
  Array solution() const { return xt::linalg::solve(Array(xt::eye(b.size()) - A), b); }
};
Tensor linear_map(const Tensor& x, const Tensor& A, const Tensor& b) { return matmul(A, x) + b; }
}  // namespace

TEST_CASE("AndersonAcceleration: a slow linear contraction in far fewer steps than plain iteration") {
  const Linear p(20);
  const Tensor x0(Array(xt::zeros<double>({20}))), A(p.A), b(p.b);
  auto [xa, sa] = im::AndersonAcceleration{.maxiter = 500, .tol = 1e-10, .history_size = 10}.run(linear_map, x0, A, b);
  auto [xf, sf] = im::FixedPointIteration{.maxiter = 5000, .tol = 1e-10}.run(linear_map, x0, A, b);
  CHECK(sa.status == optim::Status::converged);
  CHECK(sf.status == optim::Status::converged);
  CHECK(rel_err(xa.value(), p.solution()) < 1e-8);
  CHECK(sa.error <= 1e-10);
  MESSAGE("x = A x + b, n = 20, spectral radius 0.99: Anderson " << sa.iter_num << " applications of T, plain "
                                                                   << sf.iter_num);
  CHECK(sa.iter_num * 20 < sf.iter_num);
  // A short memory and damping (beta 0.5) still converge.
  auto [x1, s1] = im::AndersonAcceleration{.maxiter = 2000, .tol = 1e-10, .history_size = 2, .beta = 0.5}.run(
      linear_map, x0, A, b);
  CHECK(s1.status == optim::Status::converged);
  CHECK(rel_err(x1.value(), p.solution()) < 1e-8);
}

TEST_CASE("AndersonAcceleration: nonlinear maps, pytrees, honest statuses") {
  // x = cos(x) elementwise (the Dottie number 0.739085...), on a pytree of two leaves.
  using P = std::pair<Tensor, Tensor>;
  const auto T = [](const P& p) { return P{cos(p.first), cos(p.second)}; };
  auto [x, s] = im::AndersonAcceleration{.tol = 1e-13}.run(T, P{Tensor(Array{0.0, 1.0}), Tensor(3.0)});
  CHECK(s.status == optim::Status::converged);
  CHECK(x.second.item() == doctest::Approx(0.7390851332151607).epsilon(1e-12));
  CHECK(x.first.value()(0) == doctest::Approx(0.7390851332151607).epsilon(1e-12));
  auto plain = im::FixedPointIteration{.maxiter = 1000, .tol = 1e-13}.run(T, P{Tensor(Array{0.0, 1.0}), Tensor(3.0)});
  CHECK(s.iter_num < plain.state.iter_num);
  // maxiter, and a map that blows up: non_finite with a finite iterate.
  const Linear p(20);
  auto capped = im::AndersonAcceleration{.maxiter = 3}.run(linear_map, Tensor(Array(xt::zeros<double>({20}))),
                                                          Tensor(p.A), Tensor(p.b));
  CHECK(capped.state.status == optim::Status::max_iterations);
  CHECK(capped.state.iter_num == 3);
  auto blowup = im::AndersonAcceleration{.maxiter = 500}.run([](const Tensor& v) { return exp(v) + 1.0; }, Tensor(0.0));
  CHECK(blowup.state.status != optim::Status::converged);
  CHECK(std::isfinite(blowup.params.item()));
  CHECK_THROWS_AS(im::AndersonAcceleration{.history_size = 0}.run(T, P{Tensor(0.0), Tensor(0.0)}), ValueError);
}

TEST_CASE("AndersonAcceleration through implicit::fixed_point: derivatives against the closed form") {
  // x* = b / (1 - a): dx*/da = b / (1 - a)^2.
  auto T = [](const Tensor& x, const Tensor& a, const Tensor& b) { return a * x + b; };
  const Array a{0.5, -0.3, 0.99}, b{1.0, 2.0, -1.0};
  const im::AndersonAcceleration solver{.maxiter = 200, .tol = 1e-13};
  const Tensor x0(Array(xt::zeros<double>({3})));
  const Array ga = grad([&](const Tensor& ta) { return sum(im::fixed_point(solver, T, x0, ta, Tensor(b)).params); })(
                       Tensor(a))
                       .value();
  CHECK(rel_err(ga, b / ((1.0 - a) * (1.0 - a))) < 1e-8);
}
