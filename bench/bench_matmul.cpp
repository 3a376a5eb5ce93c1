// W3: C = A B with 512 x 512 operands; the gradient of sum(C) with respect to both A and B.
//
//   BM_W3_xgrad_value_and_grad   xgrad::value_and_grad of sum(matmul(A, B)) w.r.t. {A, B}
//   BM_W3_xgrad_forward          xgrad::matmul on plain Tensors (no tape), for reference
//   BM_W3_baseline_forward_gemm  one cblas_dgemm into a preallocated C: the unit of the target
//   BM_W3_baseline_3gemm         hand-written forward + backward: C = A B, sum(C), dA = G B^T, dB = A^T G (G = ones)
//
// Target: xgrad's value_and_grad <= 3.2 x the single forward gemm (the floor is 3: one gemm forward, two backward).
// The gradients are compared once with the 3-gemm baseline's, outside the timed loop (tolerance 1e-10).
#include <cblas.h>

#include <cstddef>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "xgrad/ad/ad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;

constexpr std::size_t kN = 512;
constexpr int kNi = static_cast<int>(kN);

struct Operands {
  Tensor A;
  Tensor B;
};

struct Data {
  Array A = bench::uniform({kN, kN}, -1.0, 1.0, 21);
  Array B = bench::uniform({kN, kN}, -1.0, 1.0, 22);
};
const Data& data() {
  static const Data d;
  return d;
}

Tensor sum_of_product(const Operands& o) { return xgrad::sum(xgrad::matmul(o.A, o.B)); }

struct Baseline {
  std::vector<double> C = std::vector<double>(kN * kN), G = std::vector<double>(kN * kN, 1.0),
                      dA = std::vector<double>(kN * kN), dB = std::vector<double>(kN * kN);

  void forward(const double* A, const double* B) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kNi, kNi, kNi, 1.0, A, kNi, B, kNi, 0.0, C.data(), kNi);
  }
  double value_and_grad(const double* A, const double* B) {
    forward(A, B);
    double s = 0.0;
    for (double c : C) s += c;
    // G = dL/dC = ones; dA = G B^T, dB = A^T G.
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kNi, kNi, kNi, 1.0, G.data(), kNi, B, kNi, 0.0, dA.data(),
                kNi);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kNi, kNi, kNi, 1.0, A, kNi, G.data(), kNi, 0.0, dB.data(),
                kNi);
    return s;
  }
};

std::string check() {
  const Data& d = data();
  auto [v, g] = xgrad::value_and_grad(sum_of_product)(Operands{Tensor(d.A), Tensor(d.B)});
  Baseline base;
  const double s = base.value_and_grad(d.A.data(), d.B.data());
  std::string error;
  if (bench::max_err(&v.value()(), &s, 1) > 1e-10) error += " value";
  if (bench::max_err(g.A.value().data(), base.dA.data(), kN * kN) > 1e-10) error += " dA";
  if (bench::max_err(g.B.value().data(), base.dB.data(), kN * kN) > 1e-10) error += " dB";
  return error.empty() ? error : "W3: xgrad and the baseline disagree (tolerance 1e-10) in:" + error;
}

bool verified(benchmark::State& state) {
  static const std::string error = check();
  if (error.empty()) return true;
  state.SkipWithError(error.c_str());
  return false;
}

void BM_W3_xgrad_value_and_grad(benchmark::State& state) {
  if (!verified(state)) return;
  const Data& d = data();
  const Operands o{Tensor(d.A), Tensor(d.B)};
  auto vg = xgrad::value_and_grad(sum_of_product);
  for (auto _ : state) {
    auto r = vg(o);
    benchmark::DoNotOptimize(r);
  }
}

void BM_W3_xgrad_forward(benchmark::State& state) {
  const Data& d = data();
  const Tensor A(d.A), B(d.B);
  for (auto _ : state) {
    Tensor C = xgrad::matmul(A, B);
    benchmark::DoNotOptimize(C);
  }
}

void BM_W3_baseline_forward_gemm(benchmark::State& state) {
  const Data& d = data();
  Baseline base;
  for (auto _ : state) {
    base.forward(d.A.data(), d.B.data());
    benchmark::DoNotOptimize(base.C.data());
    benchmark::ClobberMemory();
  }
}

void BM_W3_baseline_3gemm(benchmark::State& state) {
  if (!verified(state)) return;
  const Data& d = data();
  Baseline base;
  for (auto _ : state) {
    double s = base.value_and_grad(d.A.data(), d.B.data());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(base.dA.data());
    benchmark::ClobberMemory();
  }
}

}  // namespace

BENCHMARK(BM_W3_xgrad_value_and_grad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W3_xgrad_forward)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W3_baseline_forward_gemm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W3_baseline_3gemm)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
