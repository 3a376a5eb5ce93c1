// xgrad against libtorch (Debian's libtorch-dev, CPU, double precision, one thread) on the AD core's workloads:
//
//   BM_W1_{xgrad,torch}  y = tanh(y * a + b) 1000 times on 16-vectors, gradient of sum(y) w.r.t. (a, b);
//                        time_per_op = time / 3000 ops (the per-op overhead workload of bench_overhead)
//   BM_W2_{xgrad,torch}  MLP 64-256-256-1, tanh, batch 128, mse: loss and the six gradients (bench_mlp)
//   BM_W3_{xgrad,torch}  C = A B with 512 x 512 operands, gradient of sum(C) w.r.t. A and B (bench_matmul)
//   BM_W4_{xgrad,torch}  one meta-gradient of the LSTM optimizer (2 layers of 20, log-sign preprocessing, the paper's
//                        first-order truncated BPTT, unroll 20) on 32 random 10-D quadratics (320 coordinates)
//   BM_W5_{xgrad,torch}  the same on the MNIST task of example 07: an MLP 784-20-10, sigmoid, softmax cross-entropy,
//                        a minibatch of 128 per step (15 910 coordinates; synthetic digits of MNIST's shape: the
//                        cost does not depend on the pixels)
//   BM_W6_{xgrad,torch}  a small CNN, forward and backward: a batch of 32 images 1x28x28, conv 3x3 (8 channels, padding
//                        1) + bias, relu, 2x2 max pool, conv 3x3 (16 channels, padding 1) + bias, relu, 2x2 max pool,
//                        a dense layer 784 -> 10, mean softmax cross-entropy; the gradients of the six parameters
//
// The libtorch side of W4/W5 is written as a PyTorch user would: torch::nn::LSTMCell and Linear modules holding the
// same weights, the parameters one flat tensor viewed as the model's leaves, one forward per inner step
// (autograd::grad of it with retain_graph for the inner gradient, detached), autograd::grad of the meta-loss with
// respect to the modules' parameters. Counter `MB_per_step`: the heap that the forward's graph holds at its end
// (glibc's mallinfo2, xgrad's value cache off), divided by the unroll length.
//
// Built only when CMake finds Torch (optional: `apt-get install libtorch-dev`). Each pair is checked once to agree
// (gradients within 1e-10) before timing.
#include <torch/torch.h>

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <xgrad/learn/learn.hpp>
#include <xtensor/xview.hpp>

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


// ---- W4, W5: meta-gradients of the LSTM optimizer ---------------------------------------------------------------
namespace learn = xgrad::learn;
constexpr int kUnroll = 20;
constexpr std::size_t kHidden = 20;

std::size_t heap_in_use() {
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}
// xgrad's value cache off (and emptied) while memory is measured: recycled arrays would hide what a step needs.
struct ColdCache {
  std::size_t limit = xgrad::ad::value_cache_limit();
  ColdCache() { xgrad::ad::set_value_cache_limit(0); }
  ~ColdCache() { xgrad::ad::set_value_cache_limit(limit); }
};
Array rows(const Array& a, std::size_t begin, std::size_t end) { return xt::view(a, xt::range(begin, end), xt::all()); }

// The learned optimizer in libtorch, with phi's weights.
struct TorchLstm {
  torch::nn::LSTMCell l1{torch::nn::LSTMCellOptions(2, kHidden)}, l2{torch::nn::LSTMCellOptions(kHidden, kHidden)};
  torch::nn::Linear out{torch::nn::LinearOptions(kHidden, 1)};
  explicit TorchLstm(const learn::LstmOptimizerParams& phi) {
    torch::NoGradGuard no_grad;
    l1->to(torch::kFloat64);
    l2->to(torch::kFloat64);
    out->to(torch::kFloat64);
    torch::nn::LSTMCell* cells[2] = {&l1, &l2};
    for (std::size_t l = 0; l < 2; ++l) {
      const Array& w = phi.layers[l].w.value();
      const std::size_t in = w.shape()[0] - kHidden;
      (*cells[l])->weight_ih.copy_(to_torch(rows(w, 0, in), false).t());
      (*cells[l])->weight_hh.copy_(to_torch(rows(w, in, in + kHidden), false).t());
      (*cells[l])->bias_ih.copy_(to_torch(phi.layers[l].b.value(), false));
      (*cells[l])->bias_hh.zero_();
    }
    out->weight.copy_(to_torch(phi.w_out.value(), false).t());
    out->bias.copy_(to_torch(phi.b_out.value(), false));
  }
  std::vector<torch::Tensor> parameters() {
    return {l1->weight_ih, l1->weight_hh, l1->bias_ih, l1->bias_hh, l2->weight_ih, l2->weight_hh,
            l2->bias_ih,   l2->bias_hh,   out->weight,  out->bias};
  }
};

// One first-order meta-gradient in libtorch: x is the flat parameter vector, losses(x, step) the task's losses.
// Returns the meta-loss and its gradients (in parameters() order); `heap` gets the heap growth of the forward.
template <class Losses>
std::pair<torch::Tensor, std::vector<torch::Tensor>> torch_meta(TorchLstm& opt, const torch::Tensor& x0,
                                                                const Losses& losses, std::size_t* heap = nullptr) {
  const std::size_t before = heap_in_use();
  const auto N = x0.size(0);
  const auto zeros = torch::zeros({N, int64_t(kHidden)}, torch::kFloat64);
  std::tuple<torch::Tensor, torch::Tensor> s1{zeros, zeros}, s2{zeros, zeros};
  torch::Tensor x = x0.clone().requires_grad_(true), meta = torch::zeros({}, torch::kFloat64);
  torch::Tensor loss = losses(x, 0);
  const double k = 10.0, floor = std::exp(-k);
  for (int t = 0; t < kUnroll; ++t) {
    const torch::Tensor g = torch::autograd::grad({loss.sum()}, {x}, {}, true)[0].detach().view({-1, 1});
    const torch::Tensor big = g.abs() >= floor;
    const torch::Tensor features =
        torch::cat({torch::log(torch::clamp_min(g.abs(), floor)) / k, torch::where(big, torch::sign(g), g * std::exp(k))}, 1);
    s1 = opt.l1(features, s1);
    s2 = opt.l2(std::get<0>(s1), s2);
    x = x + 0.1 * opt.out(std::get<0>(s2)).view({-1});
    loss = losses(x, t + 1);
    meta = meta + loss.mean();
  }
  if (heap) *heap = heap_in_use() - before;
  return {meta.detach(), torch::autograd::grad({meta}, opt.parameters())};
}

// xgrad's meta-gradient against libtorch's: the meta-loss and every weight (libtorch's two biases add up).
template <class MetaGradient>
bool meta_agree(benchmark::State& state, const char* what, const torch::Tensor& meta, const std::vector<torch::Tensor>& g,
                const MetaGradient& ref) {
  if (!agree(state, what, meta, ref.meta_loss)) return false;
  for (std::size_t l = 0; l < 2; ++l) {
    const Array& w = ref.grad.layers[l].w.value();
    const torch::Tensor gw = torch::cat({g[4 * l].t(), g[4 * l + 1].t()}, 0).contiguous();
    if (!bench::agree(state, what, gw.data_ptr<double>(), w.data(), w.size()) ||
        !agree(state, what, g[4 * l + 2], ref.grad.layers[l].b) || !agree(state, what, g[4 * l + 3], ref.grad.layers[l].b))
      return false;
  }
  return agree(state, what, g[8].t(), ref.grad.w_out) && agree(state, what, g[9], ref.grad.b_out);
}

// A task that records the heap each time its losses are evaluated (the last one closes the unroll's forward).
template <class T>
struct Probe {
  const T& task;
  mutable std::size_t peak = 0;
  auto init() const { return task.init(); }
  template <class X>
  Tensor losses(const X& x, int step) const {
    Tensor f = task.losses(x, step);
    peak = std::max(peak, heap_in_use());
    return f;
  }
};

template <class T, class X>
void xgrad_meta(benchmark::State& state, const T& task, const X& x0) {
  const auto phi = learn::init_lstm_optimizer(xgrad::random::key(2));
  const auto make = [](const learn::LstmOptimizerParams& p) { return learn::lstm_optimizer(p); };
  const auto state0 = make(phi).init(x0);
  {
    const ColdCache cold;
    Probe<T> probe{task};
    const std::size_t before = heap_in_use();
    learn::meta_value_and_grad(phi, make, probe, x0, state0, 0, kUnroll);
    state.counters["MB_per_step"] = double(probe.peak - before) / 1e6 / kUnroll;
  }
  for (auto _ : state) benchmark::DoNotOptimize(learn::meta_value_and_grad(phi, make, task, x0, state0, 0, kUnroll));
}
template <class T, class X, class Losses>
void torch_meta_bench(benchmark::State& state, const char* what, const T& task, const X& x0, const torch::Tensor& flat0,
                      const Losses& losses) {
  const auto phi = learn::init_lstm_optimizer(xgrad::random::key(2));
  const auto make = [](const learn::LstmOptimizerParams& p) { return learn::lstm_optimizer(p); };
  TorchLstm opt(phi);
  const auto ref = learn::meta_value_and_grad(phi, make, task, x0, make(phi).init(x0), 0, kUnroll);
  std::size_t heap = 0;
  const auto [meta, g] = torch_meta(opt, flat0, losses, &heap);
  if (!meta_agree(state, what, meta, g, ref)) return;
  state.counters["MB_per_step"] = double(heap) / 1e6 / kUnroll;
  for (auto _ : state) benchmark::DoNotOptimize(torch_meta(opt, flat0, losses));
}

// W4: 32 quadratics ||W_i x_i - y_i||^2 (the task of bench_meta and example 04).
struct QuadraticLosses {
  torch::Tensor W, y;  // (32, 10, 10), (32, 10)
  torch::Tensor operator()(const torch::Tensor& x, int) const {
    return (torch::bmm(W, x.view({32, 10, 1})).squeeze(2) - y).pow(2).sum(1);
  }
};
struct QuadraticStep {  // learn::QuadraticTask with the step argument the Probe passes
  learn::QuadraticTask task;
  Tensor init() const { return task.init(); }
  Tensor losses(const Tensor& x, int) const { return task.losses(x); }
};
const QuadraticStep& w4_task() {
  static const QuadraticStep t{learn::Quadratics{.dim = 10, .batch = 32}.sample(xgrad::random::key(1))};
  return t;
}
void BM_W4_xgrad(benchmark::State& state) { xgrad_meta(state, w4_task(), w4_task().init()); }
void BM_W4_torch(benchmark::State& state) {
  const auto& t = w4_task();
  const QuadraticLosses losses{to_torch(t.task.W.value(), false), to_torch(t.task.y.value(), false)};
  torch_meta_bench(state, "W4", t, t.init(), to_torch(t.init().value(), false).view({-1}), losses);
}

// W5: the MLP 784-20-10 of example 07 on 21 minibatches of 128 synthetic digits (one per inner step 0..20).
struct Mlp {
  Tensor w1, b1, w2, b2;
};
struct MnistTask {
  std::vector<Array> X, Y;  // (128, 784) pixels in [0, 1]; (128, 10) one-hot labels
  Mlp p0;
  MnistTask() {
    for (int s = 0; s <= kUnroll; ++s) {
      X.push_back(bench::uniform({128, 784}, 0.0, 1.0, 100 + s));
      Array y = xt::zeros<double>({128, 10});
      const Array u = bench::uniform({128}, 0.0, 10.0, 200 + s);
      for (std::size_t i = 0; i < 128; ++i) y(i, std::size_t(u(i))) = 1.0;
      Y.push_back(std::move(y));
    }
    p0 = {Tensor(bench::uniform({784, 20}, -0.06, 0.06, 31)), Tensor(Array(xt::zeros<double>({20}))),
          Tensor(bench::uniform({20, 10}, -0.4, 0.4, 32)), Tensor(Array(xt::zeros<double>({10})))};
  }
  Mlp init() const { return p0; }
  Tensor losses(const Mlp& p, int step) const {
    const Tensor h = xgrad::sigmoid(xgrad::linear(Tensor(X[std::size_t(step)]), p.w1, p.b1));
    return xgrad::mean(xgrad::softmax_cross_entropy(xgrad::linear(h, p.w2, p.b2), Tensor(Y[std::size_t(step)])));
  }
};
const MnistTask& w5_task() {
  static const MnistTask t;
  return t;
}
struct MnistLosses {
  std::vector<torch::Tensor> X, Y;
  torch::Tensor operator()(const torch::Tensor& x, int step) const {
    const auto parts = x.split_with_sizes({784 * 20, 20, 20 * 10, 10});
    const auto h = torch::sigmoid(torch::addmm(parts[1], X[std::size_t(step)], parts[0].view({784, 20})));
    const auto logits = torch::addmm(parts[3], h, parts[2].view({20, 10}));
    return -(Y[std::size_t(step)] * torch::log_softmax(logits, 1)).sum(1).mean();
  }
};
void BM_W5_xgrad(benchmark::State& state) { xgrad_meta(state, w5_task(), w5_task().init()); }
void BM_W5_torch(benchmark::State& state) {
  const auto& t = w5_task();
  MnistLosses losses;
  for (std::size_t s = 0; s < t.X.size(); ++s) {
    losses.X.push_back(to_torch(t.X[s], false));
    losses.Y.push_back(to_torch(t.Y[s], false));
  }
  std::vector<torch::Tensor> leaves;
  for (const Tensor* leaf : {&t.p0.w1, &t.p0.b1, &t.p0.w2, &t.p0.b2}) leaves.push_back(to_torch(leaf->value(), false).view({-1}));
  torch_meta_bench(state, "W5", t, t.init(), torch::cat(leaves), losses);
}

}  // namespace

// ---- W6 --------------------------------------------------------------------------------------------------------
struct W6 {
  Array X = bench::uniform({32, 1, 28, 28}, 0.0, 1.0, 61), Y = xgrad::one_hot(Array(xt::floor(bench::uniform({32}, 0.0, 9.99, 62))), 10).value();
  std::vector<Array> p{bench::uniform({8, 1, 3, 3}, -0.3, 0.3, 63),     bench::uniform({8}, -0.1, 0.1, 64),
                       bench::uniform({16, 8, 3, 3}, -0.1, 0.1, 65),    bench::uniform({16}, -0.1, 0.1, 66),
                       bench::uniform({784, 10}, -0.035, 0.035, 67), bench::uniform({10}, -0.1, 0.1, 68)};
};
Tensor w6_loss(const std::vector<Tensor>& p, const Tensor& X, const Tensor& Y) {
  const xgrad::Conv2dOptions same{.padding = {1, 1}};
  Tensor h = xgrad::max_pool(xgrad::relu(xgrad::conv2d(X, p[0], p[1], same)), {2, 2});
  h = xgrad::max_pool(xgrad::relu(xgrad::conv2d(h, p[2], p[3], same)), {2, 2});
  return xgrad::mean(xgrad::softmax_cross_entropy(xgrad::linear(xgrad::reshape(h, {32, 784}), p[4], p[5]), Y));
}
std::vector<torch::Tensor> w6_torch(const torch::Tensor& X, const torch::Tensor& Y, const std::vector<torch::Tensor>& p) {
  auto h = torch::max_pool2d(torch::relu(torch::conv2d(X, p[0], p[1], 1, 1)), 2);
  h = torch::max_pool2d(torch::relu(torch::conv2d(h, p[2], p[3], 1, 1)), 2);
  const auto logits = torch::addmm(p[5], h.reshape({32, 784}), p[4]);
  const auto loss = -(Y * torch::log_softmax(logits, 1)).sum(1).mean();
  return torch::autograd::grad({loss}, p);
}
void BM_W6_xgrad(benchmark::State& state) {
  const W6 d;
  const std::vector<Tensor> p(d.p.begin(), d.p.end());
  const Tensor X(d.X), Y(d.Y);
  for (auto _ : state) benchmark::DoNotOptimize(xgrad::value_and_grad(w6_loss)(p, X, Y));
}
void BM_W6_torch(benchmark::State& state) {
  const W6 d;
  std::vector<torch::Tensor> p;
  for (const auto& a : d.p) p.push_back(to_torch(a, true));
  const torch::Tensor X = to_torch(d.X, false), Y = to_torch(d.Y, false);
  const auto ref = xgrad::grad(w6_loss)(std::vector<Tensor>(d.p.begin(), d.p.end()), Tensor(d.X), Tensor(d.Y));
  const auto g = w6_torch(X, Y, p);
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!agree(state, "W6", g[i], ref[i])) return;
  for (auto _ : state) benchmark::DoNotOptimize(w6_torch(X, Y, p));
}

BENCHMARK(BM_W1_xgrad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W1_torch)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_xgrad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W2_torch)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W3_xgrad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W3_torch)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W4_xgrad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W4_torch)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W5_xgrad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W5_torch)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W6_xgrad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W6_torch)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
