#include <xgrad/implicit/linear_solve.hpp>

#include "implicit/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace im = xgrad::implicit;

namespace {
struct Split {  // one vector over two leaves of different shapes
  Tensor a, b;
};
Array nonsymmetric(std::size_t n, std::uint64_t seed) {
  Array A = xgrad::random::normal(xgrad::random::key(seed), {n, n}) / std::sqrt(static_cast<double>(n));
  for (std::size_t i = 0; i < n; ++i) A(i, i) += 3.0;
  return A;
}
}  // namespace

TEST_CASE("every method solves a symmetric positive definite system to its tolerance") {
  const std::size_t n = 30;
  const Array A = spd(n, 50.0, 3);
  const Array b = xgrad::random::normal(xgrad::random::key(4), {n});
  const Array want = xt::linalg::solve(A, b);
  auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
  for (auto m : {im::Method::cg, im::Method::gmres, im::Method::bicgstab, im::Method::normal_cg, im::Method::lu,
                 im::Method::cholesky}) {
    INFO(im::to_string(m));
    auto [x, info] = im::LinearSolver{m, {.tol = 1e-12}}(mv, Tensor(b));
    CHECK(info.converged);
    CHECK(info.method == im::to_string(m));
    CHECK(info.residual <= info.tolerance);
    CHECK(info.iterations > 0);
    CHECK(rel_err(x.value(), want) < 1e-9);
  }
}

TEST_CASE("nonsymmetric systems: gmres, bicgstab, normal_cg and lu solve them, cg says it cannot") {
  const std::size_t n = 25;
  const Array A = nonsymmetric(n, 5);
  const Array b = xgrad::random::normal(xgrad::random::key(6), {n});
  const Array want = xt::linalg::solve(A, b);
  auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
  for (auto m : {im::Method::gmres, im::Method::bicgstab, im::Method::normal_cg, im::Method::lu}) {
    INFO(im::to_string(m));
    auto r = im::LinearSolver{m, {.tol = 1e-12}}(mv, Tensor(b));
    CHECK(r.info.converged);
    CHECK(rel_err(r.x.value(), want) < 1e-9);
  }
  // An indefinite symmetric matrix: CG must not claim convergence.
  Array S = spd(n, 10.0, 7);
  for (std::size_t i = 0; i < n; i += 2) S(i, i) -= 30.0;
  auto r = im::cg([&](const Tensor& v) { return matmul(Tensor(S), v); }, Tensor(b));
  CHECK_FALSE(r.info.converged);
  CHECK(r.info.residual > r.info.tolerance);
  CHECK_FALSE(r.info.message.empty());
  auto c = im::cholesky([&](const Tensor& v) { return matmul(Tensor(S), v); }, Tensor(b));
  CHECK_FALSE(c.info.converged);
}

TEST_CASE("ridge, pytrees across leaves, and an initial guess") {
  const std::size_t n = 12;
  const Array A = spd(n, 20.0, 8);
  const Array b = xgrad::random::normal(xgrad::random::key(9), {n});
  Array Ar = A;
  for (std::size_t i = 0; i < n; ++i) Ar(i, i) += 0.7;
  const Array want = xt::linalg::solve(Ar, b);
  auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
  auto flat = im::cg(mv, Tensor(b), {.tol = 1e-12, .ridge = 0.7});
  CHECK(flat.info.converged);
  CHECK(rel_err(flat.x.value(), want) < 1e-9);

  // The same system with the vector split over two leaves (shapes {4} and {2, 4}).
  auto split = [](const Tensor& v) { return Split{slice(v, 0, 0, 4), reshape(slice(v, 0, 4, 12), {2, 4})}; };
  auto join = [](const Split& s) { return concatenate({s.a, reshape(s.b, {-1})}); };
  auto mv_split = [&](const Split& s) { return split(mv(join(s))); };
  for (auto m : {im::Method::cg, im::Method::gmres, im::Method::bicgstab, im::Method::lu}) {
    INFO(im::to_string(m));
    auto r = im::LinearSolver{m, {.tol = 1e-12, .ridge = 0.7}}(mv_split, split(Tensor(b)));
    CHECK(r.info.converged);
    CHECK(rel_err(join(r.x).value(), want) < 1e-9);
  }
  // normal_cg's ridge damps the normal equations: (A^T A + ridge I) x = A^T b.
  Array AtA = xt::linalg::dot(xt::transpose(A), A);
  for (std::size_t i = 0; i < n; ++i) AtA(i, i) += 0.7;
  auto nc = im::normal_cg(mv_split, split(Tensor(b)), {.tol = 1e-12, .ridge = 0.7});
  CHECK(nc.info.converged);
  CHECK(rel_err(join(nc.x).value(), xt::linalg::solve(AtA, Array(xt::linalg::dot(xt::transpose(A), b)))) < 1e-9);
  // Starting at the solution costs no iteration of CG beyond the residual checks.
  auto warm = im::LinearSolver{im::Method::cg, {.tol = 1e-8, .ridge = 0.7}}(mv, Tensor(b), Tensor(want));
  CHECK(warm.info.converged);
  CHECK(warm.info.iterations <= 2);
}

TEST_CASE("a preconditioner cuts CG iterations on a badly scaled system") {
  const std::size_t n = 40;
  Array A = spd(n, 2.0, 10);
  Array D = Array::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) D(i) = std::pow(10.0, 4.0 * static_cast<double>(i) / n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) A(i, j) *= std::sqrt(D(i) * D(j));
  const Array b = xgrad::random::normal(xgrad::random::key(11), {n});
  auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
  auto plain = im::cg(mv, Tensor(b), {.tol = 1e-10});
  im::SolveOptions pre{.tol = 1e-10};
  pre.preconditioner = [&](const Array& v) {
    Array r = v;
    for (std::size_t i = 0; i < n; ++i) r(i) /= A(i, i);
    return r;
  };
  auto jacobi = im::cg(mv, Tensor(b), pre);
  CHECK(plain.info.converged);
  CHECK(jacobi.info.converged);
  CHECK(jacobi.info.iterations * 2 < plain.info.iterations);
  CHECK(rel_err(jacobi.x.value(), xt::linalg::solve(A, b)) < 1e-7);
}

TEST_CASE("failures are reported, never a silent zero") {
  const std::size_t n = 30;
  const Array A = spd(n, 1000.0, 12);
  const Array b = xgrad::random::normal(xgrad::random::key(13), {n});
  auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
  for (auto m : {im::Method::cg, im::Method::gmres, im::Method::bicgstab}) {
    INFO(im::to_string(m));
    auto r = im::LinearSolver{m, {.tol = 1e-12, .maxiter = 3}}(mv, Tensor(b));
    CHECK_FALSE(r.info.converged);
    CHECK(r.info.residual > r.info.tolerance);
    CHECK(r.info.message.find("no convergence") != std::string::npos);
  }
  Array singular = A;
  for (std::size_t j = 0; j < n; ++j) singular(1, j) = singular(0, j);
  auto s = im::lu([&](const Tensor& v) { return matmul(Tensor(singular), v); }, Tensor(b));
  CHECK_FALSE(s.info.converged);
  // A matvec that returns NaN.
  auto nan = im::gmres([&](const Tensor& v) { return v * std::nan(""); }, Tensor(b));
  CHECK_FALSE(nan.info.converged);
  // b = 0: x = 0 is the exact answer, and it says so.
  auto zero = im::cg(mv, Tensor(Array(xt::zeros<double>({n}))));
  CHECK(zero.info.converged);
  CHECK(zero.info.residual == 0.0);
  // A matvec of the wrong size is a ShapeError naming the solver.
  CHECK_THROWS_AS(im::cg([](const Tensor& v) { return slice(v, 0, 0, 3); }, Tensor(b)), ShapeError);
}

TEST_CASE("sigma_min: an estimate of the smallest singular value from what the solve built") {
  const std::size_t n = 20;
  SUBCASE("symmetric positive definite: cg's smallest Ritz value, lu and cholesky exactly, from above") {
    const Array A = spd(n, 100.0, 11);
    const double lmin = xt::amin(xt::linalg::eigvalsh(A))();
    const Array b = xgrad::random::normal(xgrad::random::key(12), {n});
    auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
    for (auto m : {im::Method::cg, im::Method::gmres, im::Method::lu, im::Method::cholesky}) {
      INFO(im::to_string(m));
      auto [x, info] = im::LinearSolver{m, {.tol = 1e-12, .restart = 40}}(mv, Tensor(b));
      REQUIRE(info.converged);
      CHECK(info.sigma_min >= lmin * (1.0 - 1e-10));
      CHECK(info.sigma_min <= lmin * (1.0 + 1e-6));
    }
    // With the ridge the operator is A + ridge I.
    auto [x, info] = im::cg(mv, Tensor(b), {.tol = 1e-12, .ridge = 0.5});
    CHECK(info.sigma_min == doctest::Approx(lmin + 0.5).epsilon(1e-6));
  }
  SUBCASE("nonsymmetric: gmres's Hessenberg matrices") {
    const Array A = nonsymmetric(n, 13);
    const Array s = std::get<1>(xt::linalg::svd(A, false, false));
    const double smin = xt::amin(s)();
    const Array b = xgrad::random::normal(xgrad::random::key(14), {n});
    auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
    auto [x, info] = im::gmres(mv, Tensor(b), {.tol = 1e-12, .restart = 40});
    REQUIRE(info.converged);
    CHECK(info.sigma_min >= smin * (1.0 - 1e-10));
    CHECK(info.sigma_min <= smin * 1.05);
    // normal_cg sees A^T A.
    auto [x2, info2] = im::normal_cg(mv, Tensor(b), {.tol = 1e-13});
    REQUIRE(info2.converged);
    CHECK(info2.sigma_min >= smin * (1.0 - 1e-8));
    CHECK(info2.sigma_min <= smin * 1.05);
  }
  SUBCASE("a short solve sees less of the spectrum: still from above") {
    const Array A = spd(n, 1000.0, 15);
    const double lmin = xt::amin(xt::linalg::eigvalsh(A))();
    auto [x, info] = im::cg([&](const Tensor& v) { return matmul(Tensor(A), v); },
                            Tensor(xgrad::random::normal(xgrad::random::key(16), {n})), {.tol = 1e-1});
    CHECK(info.sigma_min >= lmin * (1.0 - 1e-10));
  }
  SUBCASE("none from bicgstab, or with a preconditioner") {
    const Array A = spd(n, 10.0, 17);
    const Tensor b(xgrad::random::normal(xgrad::random::key(18), {n}));
    auto mv = [&](const Tensor& v) { return matmul(Tensor(A), v); };
    CHECK(std::isnan(im::bicgstab(mv, b, {.tol = 1e-10}).info.sigma_min));
    CHECK(std::isnan(im::cg(mv, b, {.tol = 1e-10, .preconditioner = [](const Array& v) { return v; }}).info.sigma_min));
  }
}
