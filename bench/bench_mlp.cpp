// W2: an MLP 64-256-256-1 with tanh hidden layers, batch 128, mse loss against a target.
// Inputs X are (128, 64) row-major (one example per row), layers compute h = tanh(h W + b) with W of shape (in, out).
//
//   BM_W2_xgrad_forward          the loss on plain Tensors (no transform, no tape)
//   BM_W2_xgrad_value_and_grad   loss and gradient for all six parameters through xgrad::value_and_grad
//   BM_W2_xgrad_linear_*         the same with each layer spelled xgrad::linear(h, W, b) (the fused x W + b)
//   BM_W2_baseline_forward       hand-written: cblas_dgemm (bias pre-filled, beta = 1) + tanh loops
//   BM_W2_baseline_grad          hand-written forward + backward: gemms with transpose flags, fused loops
//   BM_W2_baseline_*_vtanh       the same with the tanh loops through libmvec's vector tanh, as xgrad's tanh op
//                                computes it (bench::vtanh): the baseline at equal math
//
// Targets: gradient/forward <= 2.5 for xgrad, and xgrad's gradient at or below the baseline's in absolute time.
// The six gradients are compared once with the baseline's, outside the timed loop (tolerance 1e-10).
#include <cblas.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "xgrad/ad/ad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;

constexpr std::size_t kBatch = 128, kIn = 64, kHid = 256, kOut = 1;

struct Mlp {
  Tensor W1, b1, W2, b2, W3, b3;
};

struct Data {
  Array X = bench::uniform({kBatch, kIn}, -1.0, 1.0, 11);
  Array T = bench::uniform({kBatch, kOut}, -1.0, 1.0, 12);
  Array W1 = bench::uniform({kIn, kHid}, -1.0 / 8.0, 1.0 / 8.0, 13);  // +-1/sqrt(fan_in)
  Array b1 = bench::uniform({kHid}, -0.1, 0.1, 14);
  Array W2 = bench::uniform({kHid, kHid}, -1.0 / 16.0, 1.0 / 16.0, 15);
  Array b2 = bench::uniform({kHid}, -0.1, 0.1, 16);
  Array W3 = bench::uniform({kHid, kOut}, -1.0 / 16.0, 1.0 / 16.0, 17);
  Array b3 = bench::uniform({kOut}, -0.1, 0.1, 18);
  Mlp params() const { return {Tensor(W1), Tensor(b1), Tensor(W2), Tensor(b2), Tensor(W3), Tensor(b3)}; }
};
const Data& data() {
  static const Data d;
  return d;
}

Tensor loss(const Mlp& p, const Tensor& X, const Tensor& T) {
  const Tensor h1 = xgrad::tanh(xgrad::matmul(X, p.W1) + p.b1);
  const Tensor h2 = xgrad::tanh(xgrad::matmul(h1, p.W2) + p.b2);
  return xgrad::mse(xgrad::matmul(h2, p.W3) + p.b3, T);
}

// The same network with the fused dense layer.
Tensor loss_linear(const Mlp& p, const Tensor& X, const Tensor& T) {
  const Tensor h1 = xgrad::tanh(xgrad::linear(X, p.W1, p.b1));
  const Tensor h2 = xgrad::tanh(xgrad::linear(h1, p.W2, p.b2));
  return xgrad::mse(xgrad::linear(h2, p.W3, p.b3), T);
}

// The hand-written network. All buffers are allocated once; row-major throughout.
struct Baseline {
  std::vector<double> H1 = std::vector<double>(kBatch * kHid), H2 = std::vector<double>(kBatch * kHid),
                      out = std::vector<double>(kBatch * kOut), dout = std::vector<double>(kBatch * kOut),
                      dH = std::vector<double>(kBatch * kHid), dH1 = std::vector<double>(kBatch * kHid);
  std::vector<double> dW1 = std::vector<double>(kIn * kHid), db1 = std::vector<double>(kHid),
                      dW2 = std::vector<double>(kHid * kHid), db2 = std::vector<double>(kHid),
                      dW3 = std::vector<double>(kHid * kOut), db3 = std::vector<double>(kOut);

  // C (m, n) = rows of bias + A (m, k) B (k, n).
  static void affine(const double* A, const double* B, const double* bias, double* C, std::size_t m, std::size_t n,
                     std::size_t k) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) C[i * n + j] = bias[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0, A, static_cast<int>(k), B, static_cast<int>(n), 1.0, C,
                static_cast<int>(n));
  }
  bool vector_tanh = false;  // the tanh loops through bench::vtanh (libmvec, as xgrad) instead of std::tanh
  void tanh_inplace(double* x, std::size_t n) const {
    if (vector_tanh) return bench::vtanh(x, x, n);
    for (std::size_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
  }

  double forward(const Data& d) {
    affine(d.X.data(), d.W1.data(), d.b1.data(), H1.data(), kBatch, kHid, kIn);
    tanh_inplace(H1.data(), H1.size());
    affine(H1.data(), d.W2.data(), d.b2.data(), H2.data(), kBatch, kHid, kHid);
    tanh_inplace(H2.data(), H2.size());
    affine(H2.data(), d.W3.data(), d.b3.data(), out.data(), kBatch, kOut, kHid);
    double s = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const double r = out[i] - d.T.data()[i];
      s += r * r;
    }
    return s / static_cast<double>(out.size());
  }

  double value_and_grad(const Data& d) {
    const double value = forward(d);
    const double scale = 2.0 / static_cast<double>(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) dout[i] = scale * (out[i] - d.T.data()[i]);
    const int B = static_cast<int>(kBatch), H = static_cast<int>(kHid), I = static_cast<int>(kIn),
              O = static_cast<int>(kOut);
    // Layer 3: dW3 = H2^T dout, db3 = colsum(dout), dH2 = dout W3^T.
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, O, B, 1.0, H2.data(), H, dout.data(), O, 0.0, dW3.data(),
                O);
    colsum(dout.data(), db3.data(), kBatch, kOut);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, O, 1.0, dout.data(), O, d.W3.data(), O, 0.0, dH.data(),
                H);
    dtanh(dH.data(), H2.data(), dH.size());
    // Layer 2: dW2 = H1^T dZ2, db2 = colsum(dZ2), dH1 = dZ2 W2^T.
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, B, 1.0, H1.data(), H, dH.data(), H, 0.0, dW2.data(), H);
    colsum(dH.data(), db2.data(), kBatch, kHid);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1.0, dH.data(), H, d.W2.data(), H, 0.0, dH1.data(),
                H);
    dtanh(dH1.data(), H1.data(), dH1.size());
    // Layer 1: dW1 = X^T dZ1, db1 = colsum(dZ1) (no gradient for X).
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I, H, B, 1.0, d.X.data(), I, dH1.data(), H, 0.0, dW1.data(),
                H);
    colsum(dH1.data(), db1.data(), kBatch, kHid);
    return value;
  }

  static void dtanh(double* g, const double* h, std::size_t n) {  // g <- g (1 - h^2)
    for (std::size_t i = 0; i < n; ++i) g[i] *= 1.0 - h[i] * h[i];
  }
  static void colsum(const double* g, double* out, std::size_t m, std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) out[j] = 0.0;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) out[j] += g[i * n + j];
  }
};

std::string check() {
  const Data& d = data();
  Baseline base;
  const double s = base.value_and_grad(d);
  std::string error;
  for (auto* f : {&loss, &loss_linear}) {
    auto [v, g] = xgrad::value_and_grad(*f)(d.params(), Tensor(d.X), Tensor(d.T));
    struct Item {
      const char* name;
      const Tensor& got;
      const std::vector<double>& want;
    };
    const Item items[] = {{"W1", g.W1, base.dW1}, {"b1", g.b1, base.db1}, {"W2", g.W2, base.dW2},
                          {"b2", g.b2, base.db2}, {"W3", g.W3, base.dW3}, {"b3", g.b3, base.db3}};
    const char* spelling = f == &loss ? " [matmul + b]" : " [linear]";
    if (bench::max_err(&v.value()(), &s, 1) > 1e-10) (error += spelling) += " value";
    for (const Item& it : items) {
      const bool same = it.got.size() == it.want.size() &&
                        bench::max_err(it.got.value().data(), it.want.data(), it.want.size()) <= 1e-10;
      if (!same) ((error += spelling) += " d") += it.name;
    }
  }
  return error.empty() ? error : "W2: xgrad and the baseline disagree (tolerance 1e-10) in:" + error;
}

bool verified(benchmark::State& state) {
  static const std::string error = check();
  if (error.empty()) return true;
  state.SkipWithError(error.c_str());
  return false;
}

void BM_W2_xgrad_forward(benchmark::State& state) {
  const Data& d = data();
  const Mlp p = d.params();
  const Tensor X(d.X), T(d.T);
  for (auto _ : state) {
    Tensor r = loss(p, X, T);
    benchmark::DoNotOptimize(r);
  }
}

void BM_W2_xgrad_value_and_grad(benchmark::State& state) {
  if (!verified(state)) return;
  const Data& d = data();
  const Mlp p = d.params();
  const Tensor X(d.X), T(d.T);
  auto vg = xgrad::value_and_grad(loss);
  for (auto _ : state) {
    auto r = vg(p, X, T);
    benchmark::DoNotOptimize(r);
  }
}

void BM_W2_xgrad_linear_forward(benchmark::State& state) {
  const Data& d = data();
  const Mlp p = d.params();
  const Tensor X(d.X), T(d.T);
  for (auto _ : state) {
    Tensor r = loss_linear(p, X, T);
    benchmark::DoNotOptimize(r);
  }
}

void BM_W2_xgrad_linear_value_and_grad(benchmark::State& state) {
  if (!verified(state)) return;
  const Data& d = data();
  const Mlp p = d.params();
  const Tensor X(d.X), T(d.T);
  auto vg = xgrad::value_and_grad(loss_linear);
  for (auto _ : state) {
    auto r = vg(p, X, T);
    benchmark::DoNotOptimize(r);
  }
}

void baseline_forward(benchmark::State& state, bool vector_tanh) {
  const Data& d = data();
  Baseline base;
  base.vector_tanh = vector_tanh;
  for (auto _ : state) {
    double s = base.forward(d);
    benchmark::DoNotOptimize(s);
    benchmark::ClobberMemory();
  }
}

void baseline_grad(benchmark::State& state, bool vector_tanh) {
  if (!verified(state)) return;
  const Data& d = data();
  Baseline base;
  base.vector_tanh = vector_tanh;
  for (auto _ : state) {
    double s = base.value_and_grad(d);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(base.dW1.data());
    benchmark::ClobberMemory();
  }
}

void BM_W2_baseline_forward(benchmark::State& state) { baseline_forward(state, false); }
void BM_W2_baseline_grad(benchmark::State& state) { baseline_grad(state, false); }
void BM_W2_baseline_forward_vtanh(benchmark::State& state) { baseline_forward(state, true); }
void BM_W2_baseline_grad_vtanh(benchmark::State& state) { baseline_grad(state, true); }

}  // namespace

BENCHMARK(BM_W2_xgrad_forward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_xgrad_value_and_grad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_xgrad_linear_forward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_xgrad_linear_value_and_grad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_baseline_forward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_baseline_grad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_baseline_forward_vtanh)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_baseline_grad_vtanh)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
