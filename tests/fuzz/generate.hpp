#pragma once
// Random graphs from a seed. Each node is evaluated by the reference as soon as it is made, so the generator
// sees the values at the base point and keeps every op in its domain by construction: log, sqrt, pow and
// division get arguments bounded away from 0 (wrapped in softplus, square, exp, ... when they are not),
// solve a diagonally dominant matrix and cholesky M M^T + I. Values stay moderate (a node above 8 in magnitude is
// rescaled), so that derivatives up to the second stay within a few orders of magnitude of 1.
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "reference.hpp"

namespace xgrad::fuzz {

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) { graph_.seed = seed; }

  Graph make() {
    const int n_inputs = 1 + pick(3);
    std::size_t total = 0;
    for (int i = 0; i < n_inputs && total < 20; ++i) {
      Shape s = random_shape();
      Array v = Array::from_shape(s);
      for (double& e : v) e = uniform(-1.5, 1.5);
      if (coin(0.2)) v.data()[pick(static_cast<int>(v.size()))] = 0.0;  // for prod's rules at zeros
      total += v.size();
      Node n{.op = Op::input, .shape = s, .value = std::move(v)};
      graph_.inputs.push_back(push(std::move(n)));
    }
    const int n_ops = 2 + pick(13);
    for (int made = 0, tries = 0; made < n_ops && tries < 50; ++tries)
      if (build(static_cast<Op>(2 + pick(static_cast<int>(op_count) - 2))) >= 0) ++made;
    // Every node the last one does not use is summed into it (a broadcast of a scalar), so that the checks of
    // the output see every node.
    std::vector<bool> used(graph_.nodes.size(), false);
    for (const Node& n : graph_.nodes)
      for (int a : n.args) used[static_cast<std::size_t>(a)] = true;
    int out = static_cast<int>(graph_.nodes.size()) - 1;
    for (std::size_t i = 0; i + 1 < used.size(); ++i)
      if (!used[i] && graph_.nodes[i].op != Op::constant) {
        const int sum = op1(coin() ? Op::sum_all : Op::mean_all, static_cast<int>(i));
        if (const int next = op2(Op::add, out, sum); next >= 0) out = next;
      }
    graph_.output = out;
    graph_.weights = Array::from_shape(node(out).shape);
    for (double& w : graph_.weights) w = uniform(-1, 1);
    return std::move(graph_);
  }

  /// The node built for `op` (after any guards and shape adapters), or -1 when it does not fit here.
  int build(Op op);

 private:
  static constexpr std::size_t max_size = 48;  // elements of any node

  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  bool coin(double p = 0.5) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  std::size_t extent() { return 1 + static_cast<std::size_t>(pick(3)); }
  Shape random_shape() {
    Shape s(static_cast<std::size_t>(pick(4)));
    for (auto& d : s) d = extent();
    return s;
  }
  const Node& node(int id) const {
    if (id < 0) throw std::logic_error("fuzz::Generator: a builder used an operand that could not be made");
    return graph_.nodes[static_cast<std::size_t>(id)];
  }
  const Ref& val(int id) const { return values_[static_cast<std::size_t>(id)]; }
  Real min_of(int id) const { return *std::min_element(val(id).v.begin(), val(id).v.end()); }
  Real max_of(int id) const { return *std::max_element(val(id).v.begin(), val(id).v.end()); }
  Real min_abs(int id) const {
    Real m = INFINITY;
    for (Real x : val(id).v) m = std::min(m, std::fabs(x));
    return m;
  }

  // Appends n (its shape from the reference); -1 if its value is non-finite, empty or too large.
  int push(Node n, bool rescale = true) {
    std::vector<const Ref*> in;
    for (int a : n.args) in.push_back(&val(a));
    Ref r;
    try {
      r = fuzz::apply(n, in, nullptr);
    } catch (const std::invalid_argument&) {  // shapes that do not broadcast
      return -1;
    }
    if (r.size() == 0 || r.size() > max_size) return -1;
    for (Real x : r.v)
      if (!std::isfinite(x) || std::fabs(x) > 1e4) return -1;
    n.shape = r.shape;
    const Real m = r.max_abs();
    graph_.nodes.push_back(std::move(n));
    values_.push_back(std::move(r));
    const int id = static_cast<int>(graph_.nodes.size()) - 1;
    // To a random magnitude: rescaled nodes of one magnitude would tie by construction (mse(a, b) = 0 exactly).
    return m > 8 && rescale ? op_c(Op::mul_c, id, uniform(2, 6) / static_cast<double>(m)) : id;
  }
  // Now and then an argument scaled to tens, for the ops that must not overflow on large arguments (softplus,
  // sigmoid, logsumexp, softmax, ...). By at most 80: a steeper function (tanh(1e5 x) near 0) saturates within
  // every difference step, and the differences would agree on a wrong derivative.
  int maybe_large(int x) {
    if (x < 0 || !coin(0.3)) return x;
    const double c = uniform(20, 80) / std::max(1.0, static_cast<double>(val(x).max_abs()));
    return push({.op = Op::mul_c, .args = {x}, .scalar = c}, false);
  }
  int op1(Op op, int x) { return x < 0 ? -1 : push({.op = op, .args = {x}}); }
  int op2(Op op, int x, int y) { return x < 0 || y < 0 ? -1 : push({.op = op, .args = {x, y}}); }
  int op_c(Op op, int x, double c) { return x < 0 ? -1 : push({.op = op, .args = {x}, .scalar = c}); }
  int constant(Array v) {
    Shape s = shape_of(v);
    return push({.op = Op::constant, .shape = std::move(s), .value = std::move(v)});
  }

  // A differentiable node to build on: the latest one more often than not.
  int any() {
    std::vector<int> ids;
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i)
      if (graph_.nodes[i].op != Op::constant) ids.push_back(static_cast<int>(i));
    return coin(0.6) ? ids.back() : ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
  }

  // A node of exactly `target`'s shape made from `id`: itself, a reshape, a broadcast, or elements taken
  // cyclically from its flattened values and reshaped.
  int fit(int id, const Shape target) {  // by value: a push may move the node it came from
    if (id < 0) return -1;
    const Shape s = node(id).shape;
    const std::size_t size = ref::count(s);
    if (s == target) return id;
    if (size == ref::count(target)) return reshape(id, target);
    if (ref::broadcasts_to(s, target)) return push({.op = Op::broadcast_to, .args = {id}, .target = target});
    Node t{.op = Op::take_flat, .args = {id}};
    for (std::size_t i = 0; i < ref::count(target); ++i) {
      const auto at = static_cast<std::ptrdiff_t>(i % size);
      t.indices.push_back(coin(0.3) ? at - static_cast<std::ptrdiff_t>(size) : at);  // negative indices too
    }
    return reshape(push(std::move(t)), target);
  }
  int reshape(int id, const Shape target) {
    if (id < 0) return -1;
    if (node(id).shape == target) return id;
    Node n{.op = Op::reshape, .args = {id}};
    for (auto d : target) n.dims.push_back(static_cast<std::ptrdiff_t>(d));
    if (!n.dims.empty() && coin(0.3)) n.dims[static_cast<std::size_t>(pick(static_cast<int>(n.dims.size())))] = -1;
    return push(std::move(n));
  }
  // A shape that broadcasts with s: s itself, some extents set to 1, leading axes dropped, or one more axis.
  Shape partner(const Shape& s) {
    Shape t = s;
    for (auto& d : t)
      if (coin(0.3)) d = 1;
    if (!t.empty() && coin(0.3)) t.erase(t.begin(), t.begin() + pick(static_cast<int>(t.size()) + 1));
    if (t.size() < 3 && coin(0.2)) t.insert(t.begin(), extent());
    return t;
  }

  // Domain guards. Margins of 0.1 keep the finite-difference stencil (steps up to 2e-3) inside the domain.
  int positive(int id, double margin = 0.1) {
    if (id < 0 || min_of(id) > margin) return id;
    switch (pick(4)) {
      case 0: return op_c(Op::add_c, op1(Op::softplus, id), margin + 0.1);
      case 1: return op_c(Op::add_c, op1(Op::square, id), margin + 0.2);
      case 2:
        if (max_of(id) < 2 && min_of(id) > -2) return op1(Op::exp, id);
        return op_c(Op::add_c, op1(Op::sigmoid, id), margin);
      default: return op_c(Op::add_c, op1(Op::abs, id), margin + 0.2);
    }
  }
  int nonzero(int id) { return id < 0 || min_abs(id) > 0.2 ? id : positive(id, 0.2); }
  int bounded(int id, double bound) {
    if (id < 0 || val(id).max_abs() < bound) return id;
    return op_c(Op::mul_c, op1(Op::tanh, id), bound * 0.9);
  }

  Axes random_axes(std::size_t ndim) {
    Axes axes;
    for (std::size_t k = 0; k < ndim; ++k)
      if (coin()) axes.push_back(static_cast<std::ptrdiff_t>(k) - (coin(0.3) ? static_cast<std::ptrdiff_t>(ndim) : 0));
    if (axes.empty()) axes.push_back(static_cast<std::ptrdiff_t>(pick(static_cast<int>(ndim))));
    return axes;
  }
  std::ptrdiff_t random_axis(std::size_t ndim) {  // in [-ndim, ndim)
    return static_cast<std::ptrdiff_t>(pick(static_cast<int>(2 * ndim))) - static_cast<std::ptrdiff_t>(ndim);
  }
  // An operand of at least one dimension (-1 if none could be made: every builder checks ids before node()).
  int nd_operand() {
    const int id = any();
    return node(id).shape.empty() ? fit(id, {extent()}) : id;
  }

  // A = M * (0.3 / max(1, max|M|)) + (1 + 0.3 n) I: diagonally dominant, so well conditioned (and never steep:
  // dividing by a small max|M| would make A's derivatives huge); its triangles are too.
  int well_conditioned(std::size_t n) {
    const int m = fit(any(), {n, n});
    if (m < 0) return -1;
    Array eye = xt::zeros<double>({n, n});
    for (std::size_t i = 0; i < n; ++i) eye(i, i) = 1 + 0.3 * static_cast<double>(n);
    const int scaled = op_c(Op::mul_c, m, 0.3 / std::max(1.0, static_cast<double>(val(m).max_abs())));
    return op2(Op::add, scaled, constant(eye));
  }

  std::mt19937_64 rng_;
  Graph graph_;
  std::vector<Ref> values_;
};

inline int Generator::build(Op op) {
  switch (op) {
    case Op::input: case Op::constant: return -1;
    case Op::add: case Op::sub: case Op::mul: case Op::maximum: case Op::minimum: case Op::mse: {
      const int x = any();
      return op2(op, x, fit(any(), partner(node(x).shape)));
    }
    case Op::div: {
      const int x = any();
      return op2(op, x, nonzero(fit(any(), partner(node(x).shape))));
    }
    case Op::pow: {
      const int x = bounded(positive(any()), 3);
      if (x < 0) return -1;
      return op2(op, x, bounded(fit(any(), partner(node(x).shape)), 2));
    }
    case Op::where: {
      const int x = any(), y = fit(any(), partner(node(x).shape));
      Array cond = Array::from_shape(partner(node(x).shape));
      for (double& c : cond) c = coin() ? 1.0 : 0.0;
      if (x < 0 || y < 0) return -1;
      return push({.op = op, .args = {x, y}, .value = std::move(cond)});
    }
    case Op::add_c: case Op::sub_c: case Op::rsub_c: case Op::mul_c: return op_c(op, any(), uniform(-2, 2));
    case Op::div_c: return op_c(op, any(), (coin() ? 1 : -1) * uniform(0.5, 2));
    case Op::rdiv_c: return op_c(op, nonzero(any()), uniform(-2, 2));
    case Op::neg: case Op::square: case Op::sin: case Op::cos: case Op::abs: case Op::relu: return op1(op, any());
    case Op::tanh: case Op::sigmoid: case Op::softplus: return op1(op, maybe_large(any()));
    case Op::exp: case Op::expm1: return op1(op, bounded(any(), 3));
    case Op::tan: return op1(op, bounded(any(), 1.2));
    case Op::log: case Op::sqrt: case Op::log1p: return op1(op, positive(any()));
    case Op::pow_c: {
      const double p = std::vector<double>{0, 1, 2, 3, -1, 0.5, 1.5, -0.5}[static_cast<std::size_t>(pick(8))];
      const int x = any();
      if (p == std::floor(p) && p >= 0) return op_c(op, x, p);
      return op_c(op, p == -1 ? nonzero(x) : bounded(positive(x), 4), p);
    }
    case Op::clip: {
      const int x = any();
      const double lo = uniform(-1, 0.5), hi = lo + uniform(0, 1.5);
      return x < 0 ? -1 : push({.op = op, .args = {x}, .lo = lo, .hi = hi});
    }
    case Op::sum_all: case Op::mean_all: case Op::max_all: case Op::min_all: case Op::prod_all: case Op::norm_all:
      return op1(op, any());
    case Op::logsumexp_all: return op1(op, maybe_large(any()));
    case Op::sum: case Op::mean: case Op::max: case Op::min: case Op::prod: case Op::norm: {
      const int x = nd_operand();
      if (x < 0) return -1;
      return push({.op = op, .args = {x}, .axes = random_axes(node(x).shape.size()), .keepdims = coin()});
    }
    case Op::logsumexp: {
      const int x = maybe_large(nd_operand());
      if (x < 0) return -1;
      return push({.op = op, .args = {x}, .keepdims = coin(), .axis = random_axis(node(x).shape.size())});
    }
    case Op::softmax: case Op::log_softmax: {
      const int x = maybe_large(nd_operand());
      if (x < 0) return -1;
      return push({.op = op, .args = {x}, .axis = random_axis(node(x).shape.size())});
    }
    case Op::softmax_cross_entropy: {
      const int x = maybe_large(nd_operand());
      if (x < 0) return -1;
      return push({.op = op, .args = {x, fit(any(), node(x).shape)}, .axis = random_axis(node(x).shape.size())});
    }
    case Op::reshape: {
      const int x = any();
      // A random factorisation of the size into up to three extents.
      std::size_t rest = node(x).shape.empty() ? 1 : ref::count(node(x).shape);
      Shape t;
      while (rest > 1 && t.size() < 2) {
        std::vector<std::size_t> divisors;
        for (std::size_t d = 1; d <= rest; ++d)
          if (rest % d == 0) divisors.push_back(d);
        const std::size_t d = divisors[static_cast<std::size_t>(pick(static_cast<int>(divisors.size())))];
        t.push_back(d);
        rest /= d;
      }
      if (rest > 1 || coin(0.3)) t.push_back(rest);
      return reshape(x, t);
    }
    case Op::transpose: return op1(op, any());
    case Op::permute: {
      const int x = any();
      if (node(x).shape.size() < 2) return -1;
      std::vector<std::size_t> perm(node(x).shape.size());
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng_);
      return push({.op = op, .args = {x}, .perm = perm});
    }
    case Op::squeeze_all: return op1(op, any());
    case Op::squeeze: {
      const int x = any();
      std::vector<std::ptrdiff_t> ones;
      for (std::size_t k = 0; k < node(x).shape.size(); ++k)
        if (node(x).shape[k] == 1) ones.push_back(static_cast<std::ptrdiff_t>(k));
      if (ones.empty()) return -1;
      const auto k = ones[static_cast<std::size_t>(pick(static_cast<int>(ones.size())))];
      return push({.op = op, .args = {x}, .axis = coin() ? k : k - static_cast<std::ptrdiff_t>(node(x).shape.size())});
    }
    case Op::expand_dims: {
      const int x = any();
      const std::size_t nd = node(x).shape.size();
      if (nd >= 3) return -1;
      return push({.op = op, .args = {x}, .axis = random_axis(nd + 1)});
    }
    case Op::broadcast_to: {
      const int x = any();
      Shape t = node(x).shape;
      for (auto& d : t)
        if (d == 1) d = extent();
      if (t.size() < 3 && coin()) t.insert(t.begin(), extent());
      return push({.op = op, .args = {x}, .target = t});
    }
    case Op::sum_to: {
      const int x = nd_operand();
      if (x < 0) return -1;
      Shape t = node(x).shape;
      t.erase(t.begin(), t.begin() + pick(static_cast<int>(t.size()) + 1));
      for (auto& d : t)
        if (coin(0.4)) d = 1;
      return push({.op = op, .args = {x}, .target = t});
    }
    case Op::concatenate: case Op::stack: {
      const int x = nd_operand();
      if (x < 0) return -1;
      const Shape s = node(x).shape;
      const std::size_t nd = op == Op::stack ? s.size() + 1 : s.size();
      Node n{.op = op, .args = {x}, .axis = random_axis(nd)};
      for (int k = pick(3); k >= 0; --k) {
        Shape t = s;
        if (op == Op::concatenate) t[ref::axis_of(n.axis, nd)] = extent();
        n.args.push_back(fit(any(), t));
        if (n.args.back() < 0) return -1;
      }
      return push(std::move(n));
    }
    case Op::slice: {
      const int x = nd_operand();
      if (x < 0) return -1;
      const std::size_t nd = node(x).shape.size();
      const auto axis = random_axis(nd);
      const auto len = static_cast<std::ptrdiff_t>(node(x).shape[ref::axis_of(axis, nd)]);
      auto bound = [&] { return static_cast<std::ptrdiff_t>(pick(static_cast<int>(2 * len + 3))) - len - 1; };
      return push({.op = op, .args = {x}, .axis = axis, .start = bound(), .stop = bound(),
                   .step = std::vector<std::ptrdiff_t>{1, 1, 2, -1, -2}[static_cast<std::size_t>(pick(5))]});
    }
    case Op::take_flat: case Op::take: {
      const int x = op == Op::take ? nd_operand() : any();
      if (x < 0) return -1;
      const std::size_t nd = node(x).shape.size();
      const auto axis = op == Op::take ? random_axis(nd) : 0;
      const auto len = static_cast<std::ptrdiff_t>(op == Op::take ? node(x).shape[ref::axis_of(axis, nd)]
                                                                   : ref::count(node(x).shape));
      Node n{.op = op, .args = {x}, .axis = axis};
      for (int k = 1 + pick(4); k > 0; --k)
        n.indices.push_back(static_cast<std::ptrdiff_t>(pick(static_cast<int>(2 * len))) - len);  // in [-len, len)
      return push(std::move(n));
    }
    case Op::matmul: case Op::dot: {
      const std::size_t m = extent(), k = extent(), n = extent();
      Shape a{m, k}, b{k, n};
      switch (pick(op == Op::dot ? 4 : 6)) {
        case 0: a = {k}; break;
        case 1: b = {k}; break;
        case 2: a = b = {k}; break;
        case 3: if (op == Op::dot) a = {}; break;
        case 4: a.insert(a.begin(), extent()); break;
        default:
          a.insert(a.begin(), {extent(), 1});
          b.insert(b.begin(), extent());
          break;
      }
      const int x = fit(any(), a);
      return op2(op, x, fit(any(), b));
    }
    case Op::linear: {
      const std::size_t in = extent(), out = extent();
      const Shape xs = coin() ? Shape{in} : Shape{extent(), in};
      const int x = fit(any(), xs), w = fit(any(), {in, out}), b = fit(any(), {out});
      return x < 0 || w < 0 || b < 0 ? -1 : push({.op = op, .args = {x, w, b}});
    }
    case Op::outer: {
      const int x = any();
      return op2(op, x, any());
    }
    case Op::solve: case Op::solve_triangular: {
      const std::size_t n = extent();
      const int a = well_conditioned(n);
      if (a < 0) return -1;
      const int b = fit(any(), coin() ? Shape{n} : Shape{n, extent()});
      if (op == Op::solve) return op2(op, a, b);
      return b < 0 ? -1 : push({.op = op, .args = {a, b}, .start = pick(2)});
    }
    case Op::inv: case Op::det: return op1(op, well_conditioned(extent()));
    case Op::einsum: {
      const auto k = pick(static_cast<int>(std::size(einsum_patterns)));
      const std::string sub = einsum_patterns[k];
      std::vector<std::size_t> extent_of(26, 0);
      Node n{.op = op, .start = k};
      std::string term;
      for (std::size_t i = 0; i <= sub.size(); ++i) {
        if (i < sub.size() && sub[i] >= 'a' && sub[i] <= 'z') {
          term += sub[i];
          continue;
        }
        if (!term.empty()) {  // an operand: its shape from its letters' extents
          Shape shape;
          for (char ch : term) {
            auto& e = extent_of[static_cast<std::size_t>(ch - 'a')];
            if (e == 0) e = extent();
            shape.push_back(e);
          }
          const int x = fit(any(), shape);
          if (x < 0) return -1;
          n.args.push_back(x);
          term.clear();
        }
        if (i < sub.size() && sub[i] == '-') break;
      }
      return push(std::move(n));
    }
    case Op::tensordot: {
      const int k = pick(3);
      Shape a, b, shared;
      for (int i = 0; i < k; ++i) shared.push_back(extent());
      for (int i = pick(2); i > 0; --i) a.push_back(extent());
      a.insert(a.end(), shared.begin(), shared.end());
      b = shared;
      for (int i = pick(2); i > 0; --i) b.push_back(extent());
      const int x = fit(any(), a);
      if (x < 0) return -1;
      const int y = fit(any(), b);
      return y < 0 ? -1 : push({.op = op, .args = {x, y}, .start = k});
    }
    case Op::conv2d: {
      const std::size_t N = extent() > 2 ? 2 : 1, C = 1 + static_cast<std::size_t>(pick(2)), O = 1 + static_cast<std::size_t>(pick(2));
      const std::size_t H = 2 + static_cast<std::size_t>(pick(3)), W = 2 + static_cast<std::size_t>(pick(3));
      const std::size_t kh = 1 + static_cast<std::size_t>(pick(2)), kw = 1 + static_cast<std::size_t>(pick(2));
      const int x = fit(any(), {N, C, H, W});
      if (x < 0) return -1;
      const int w = fit(any(), {O, C, kh, kw});
      if (w < 0) return -1;
      const int b = fit(any(), {O});
      if (b < 0) return -1;
      std::vector<std::size_t> o(6);
      for (std::size_t i = 0; i < 2; ++i) o[i] = 1 + static_cast<std::size_t>(pick(2));      // stride
      for (std::size_t i = 2; i < 4; ++i) o[i] = static_cast<std::size_t>(pick(2));          // padding
      for (std::size_t i = 4; i < 6; ++i) o[i] = 1 + static_cast<std::size_t>(pick(2));      // dilation
      return push({.op = op, .args = {x, w, b}, .perm = o});
    }
    case Op::max_pool: case Op::avg_pool: {
      const std::size_t N = 1 + static_cast<std::size_t>(pick(2)), C = 1 + static_cast<std::size_t>(pick(2));
      const int x = fit(any(), {N, C, 2 + static_cast<std::size_t>(pick(3)), 2 + static_cast<std::size_t>(pick(3))});
      if (x < 0) return -1;
      std::vector<std::size_t> p(6);
      for (std::size_t i = 0; i < 2; ++i) p[i] = 1 + static_cast<std::size_t>(pick(3));            // window
      for (std::size_t i = 2; i < 4; ++i) p[i] = static_cast<std::size_t>(pick(3));                // stride (0: window)
      for (std::size_t i = 4; i < 6; ++i) p[i] = static_cast<std::size_t>(pick(static_cast<int>(p[i - 4] / 2 + 1)));
      return push({.op = op, .args = {x}, .perm = p});
    }
    case Op::cholesky: {
      // A = M M^T * (0.5 / max(1, max|M M^T|)) + I: symmetric (cholesky reads one triangle) and positive definite.
      const std::size_t n = extent();
      const int m = fit(any(), {n, n});
      const int mmt = op2(Op::matmul, m, op1(Op::transpose, m));
      if (mmt < 0) return -1;
      const int scaled = op_c(Op::mul_c, mmt, 0.5 / std::max(1.0, static_cast<double>(val(mmt).max_abs())));
      return op1(op, op2(Op::add, scaled, constant(xt::eye<double>(n))));
    }
    case Op::l2: {
      Node n{.op = op};
      for (int k = 1 + pick(3); k > 0; --k) n.args.push_back(any());
      return push(std::move(n));
    }
    case Op::arctan: case Op::arcsinh: case Op::erf: case Op::erfc: case Op::gelu: return op1(op, any());
    case Op::silu: case Op::log_sigmoid: return op1(op, maybe_large(any()));
    case Op::sinh: case Op::cosh: case Op::exp2: return op1(op, bounded(any(), 3));
    case Op::arcsin: case Op::arccos: case Op::arctanh: return op1(op, bounded(any(), 0.9));
    case Op::log2: case Op::log10: case Op::rsqrt: return op1(op, positive(any()));
    case Op::reciprocal: return op1(op, nonzero(any()));
    case Op::logaddexp: {
      const int x = maybe_large(any());
      return x < 0 ? -1 : op2(op, x, fit(any(), partner(node(x).shape)));
    }
    case Op::arctan2: case Op::hypot: {  // atan2 away from its branch cut (x > 0); hypot away from the origin
      const int y = any();
      if (y < 0) return -1;
      const int x = positive(fit(any(), partner(node(y).shape)));
      return op == Op::arctan2 ? op2(op, y, x) : op2(op, x, y);
    }
    case Op::cumsum: case Op::cumprod: case Op::flip: case Op::roll: case Op::repeat: {
      const int x = op == Op::cumprod ? bounded(nd_operand(), 1.5) : nd_operand();
      if (x < 0) return -1;
      Node n{.op = op, .args = {x}, .axis = random_axis(node(x).shape.size())};
      if (op == Op::roll) n.start = pick(7) - 3;
      if (op == Op::repeat) n.start = pick(3);
      return push(std::move(n));
    }
    case Op::sort: {
      const int x = nd_operand();
      return x < 0 ? -1 : push({.op = op, .args = {x}, .axis = random_axis(node(x).shape.size())});
    }
    case Op::diagonal: {
      int x = any();
      if (x >= 0 && node(x).shape.size() < 2) x = fit(x, {extent(), extent()});
      if (x < 0) return -1;
      const auto nd = static_cast<int>(node(x).shape.size());
      const auto a1 = static_cast<std::size_t>(pick(nd));
      const auto a2 = static_cast<std::size_t>((static_cast<int>(a1) + 1 + pick(nd - 1)) % nd);
      return push({.op = op, .args = {x}, .perm = {a1, a2}, .start = pick(5) - 2});
    }
    case Op::pad: case Op::tile: {
      const int x = any();
      if (x < 0) return -1;
      Node n{.op = op, .args = {x}, .scalar = uniform(-1, 1)};
      for (std::size_t d = 0; d < node(x).shape.size(); ++d) {
        if (op == Op::pad) n.perm.push_back(static_cast<std::size_t>(pick(3)));
        n.perm.push_back(static_cast<std::size_t>(op == Op::pad ? pick(3) : 1 + pick(2)));
      }
      return push(std::move(n));
    }
    case Op::triu: case Op::tril: {
      int x = any();
      if (x < 0) return -1;
      if (node(x).shape.size() < 2) x = fit(x, {extent(), extent()});
      if (x < 0) return -1;
      return push({.op = op, .args = {x}, .start = pick(5) - 2});
    }
  }
  return -1;
}

}  // namespace xgrad::fuzz
