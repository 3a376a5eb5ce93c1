// xgrad against libtorch (Debian's libtorch-dev, CPU, double precision, one thread) on the AD core's workloads:
//
//   BM_W1_{xgrad,torch}  y = tanh(y * a + b) 1000 times on 16-vectors, gradient of sum(y) w.r.t. (a, b);
//                        time_per_op = time / 3000 ops (the per-op overhead workload of bench_overhead)
//   BM_W2_{xgrad,torch}  MLP 64-256-256-1, tanh, batch 128, mse: loss and the six gradients (bench_mlp)
//   BM_W3_{xgrad,torch}  C = A B with 512 x 512 operands, gradient of sum(C) w.r.t. A and B (bench_matmul)
//
// Built only when CMake finds Torch (optional: `apt-get install libtorch-dev`). Each pair is checked once to agree
// (gradients within 1e-10) before timing.
#include <torch/torch.h>

#include <benchmark/benchmark.h>

#include "../common.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;

torch::Tensor to_torch(const Array& a, bool grad) {
  std::vector<int64_t> shape(a.shape().begin(), a.shape().end());
  auto t = torch::from_blob(const_cast<double*>(a.data()), shape, torch::kFloat64).clone();
  return grad ? t.requires_grad_(true) : t;
}
bool agree(benchmark::State& state, const char* what, const torch::Tensor& t, const Tensor& x) {
  const torch::Tensor c = t.contiguous();
  return bench::agree(state, what, c.data_ptr<double>(), x.value().data(), x.size());
}

// ---- W1 --------------------------------------------------------------------------------------------------------
struct W1 {
  Array x = bench::uniform({16}, -1.0, 1.0, 1), a = bench::uniform({16}, 0.5, 1.2, 2),
        b = bench::uniform({16}, -0.3, 0.3, 3);
};
struct W1Params {
  Tensor a, b;
};
Tensor w1_loss(const W1Params& p, const Tensor& x) {
  Tensor y = x;
  for (int k = 0; k < 1000; ++k) y = xgrad::tanh(y * p.a + p.b);
  return xgrad::sum(y);
}
std::pair<torch::Tensor, torch::Tensor> w1_torch(const torch::Tensor& x, torch::Tensor& a, torch::Tensor& b) {
  torch::Tensor y = x;
  for (int k = 0; k < 1000; ++k) y = torch::tanh(y * a + b);
  auto g = torch::autograd::grad({y.sum()}, {a, b});
  return {g[0], g[1]};
}
void BM_W1_xgrad(benchmark::State& state) {
  const W1 d;
  const W1Params p{Tensor(d.a), Tensor(d.b)};
  const Tensor x(d.x);
  for (auto _ : state) benchmark::DoNotOptimize(xgrad::value_and_grad(w1_loss)(p, x));
  state.counters["time_per_op"] = bench::time_per_op(3000);
}
void BM_W1_torch(benchmark::State& state) {
  const W1 d;
  torch::Tensor x = to_torch(d.x, false), a = to_torch(d.a, true), b = to_torch(d.b, true);
  auto ref = xgrad::value_and_grad(w1_loss)(W1Params{Tensor(d.a), Tensor(d.b)}, Tensor(d.x)).second;
  auto g = w1_torch(x, a, b);
  if (!agree(state, "W1 a", g.first, ref.a) || !agree(state, "W1 b", g.second, ref.b)) return;
  for (auto _ : state) benchmark::DoNotOptimize(w1_torch(x, a, b));
  state.counters["time_per_op"] = bench::time_per_op(3000);
}

// ---- W2 --------------------------------------------------------------------------------------------------------
struct W2 {
  Array X = bench::uniform({128, 64}, -1.0, 1.0, 11), T = bench::uniform({128, 1}, -1.0, 1.0, 12);
  std::vector<Array> p{bench::uniform({64, 256}, -0.125, 0.125, 13), bench::uniform({256}, -0.1, 0.1, 14),
                       bench::uniform({256, 256}, -0.0625, 0.0625, 15), bench::uniform({256}, -0.1, 0.1, 16),
                       bench::uniform({256, 1}, -0.0625, 0.0625, 17), bench::uniform({1}, -0.1, 0.1, 18)};
};
Tensor w2_loss(const std::vector<Tensor>& p, const Tensor& X, const Tensor& T) {
  const Tensor h1 = xgrad::tanh(xgrad::matmul(X, p[0]) + p[1]);
  const Tensor h2 = xgrad::tanh(xgrad::matmul(h1, p[2]) + p[3]);
  return xgrad::mse(xgrad::matmul(h2, p[4]) + p[5], T);
}
std::vector<torch::Tensor> w2_torch(const torch::Tensor& X, const torch::Tensor& T, const std::vector<torch::Tensor>& p) {
  const auto h1 = torch::tanh(X.mm(p[0]) + p[1]);
  const auto h2 = torch::tanh(h1.mm(p[2]) + p[3]);
  const auto loss = (h2.mm(p[4]) + p[5] - T).pow(2).mean();
  return torch::autograd::grad({loss}, p);
}
void BM_W2_xgrad(benchmark::State& state) {
  const W2 d;
  std::vector<Tensor> p(d.p.begin(), d.p.end());
  const Tensor X(d.X), T(d.T);
  for (auto _ : state) benchmark::DoNotOptimize(xgrad::value_and_grad(w2_loss)(p, X, T));
}
void BM_W2_torch(benchmark::State& state) {
  const W2 d;
  std::vector<torch::Tensor> p;
  for (const auto& a : d.p) p.push_back(to_torch(a, true));
  const torch::Tensor X = to_torch(d.X, false), T = to_torch(d.T, false);
  const auto ref = xgrad::grad(w2_loss)(std::vector<Tensor>(d.p.begin(), d.p.end()), Tensor(d.X), Tensor(d.T));
  const auto g = w2_torch(X, T, p);
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!agree(state, "W2", g[i], ref[i])) return;
  for (auto _ : state) benchmark::DoNotOptimize(w2_torch(X, T, p));
}

// ---- W3 --------------------------------------------------------------------------------------------------------
struct W3 {
  Array A = bench::uniform({512, 512}, -1.0, 1.0, 21), B = bench::uniform({512, 512}, -1.0, 1.0, 22);
};
Tensor w3_loss(const std::vector<Tensor>& p) { return xgrad::sum(xgrad::matmul(p[0], p[1])); }
void BM_W3_xgrad(benchmark::State& state) {
  const W3 d;
  const std::vector<Tensor> p{Tensor(d.A), Tensor(d.B)};
  for (auto _ : state) benchmark::DoNotOptimize(xgrad::value_and_grad(w3_loss)(p));
}
void BM_W3_torch(benchmark::State& state) {
  const W3 d;
  torch::Tensor A = to_torch(d.A, true), B = to_torch(d.B, true);
  const auto ref = xgrad::grad(w3_loss)(std::vector<Tensor>{Tensor(d.A), Tensor(d.B)});
  auto run = [&] { return torch::autograd::grad({A.mm(B).sum()}, {A, B}); };
  const auto g = run();
  if (!agree(state, "W3 A", g[0], ref[0]) || !agree(state, "W3 B", g[1], ref[1])) return;
  for (auto _ : state) benchmark::DoNotOptimize(run());
}

}  // namespace

BENCHMARK(BM_W1_xgrad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W1_torch)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_xgrad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_torch)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W3_xgrad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W3_torch)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
