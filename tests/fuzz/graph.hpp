#pragma once
// The expression graphs of the differential fuzzer: a list of nodes in creation order, each an op applied to
// earlier nodes with named attributes, and a readable dump of it.
#include <cstddef>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <xgrad/ad/ad.hpp>

namespace xgrad::fuzz {

// Every differentiable op of the library, in the order of its headers. `input` and `constant` are the leaves:
// inputs are differentiated, constants are not (a where condition, an identity added to make a matrix definite).
#define XGRAD_FUZZ_OPS(X)                                                                                        \
  X(input, 0) X(constant, 0)                                                                                     \
  X(add, 2) X(sub, 2) X(mul, 2) X(div, 2) X(pow, 2) X(maximum, 2) X(minimum, 2) X(where, 2)                      \
  X(add_c, 1) X(sub_c, 1) X(rsub_c, 1) X(mul_c, 1) X(div_c, 1) X(rdiv_c, 1)                                      \
  X(neg, 1) X(exp, 1) X(log, 1) X(log1p, 1) X(expm1, 1) X(sqrt, 1) X(square, 1) X(pow_c, 1) X(abs, 1) X(sin, 1) \
  X(cos, 1) X(tan, 1) X(tanh, 1) X(sigmoid, 1) X(relu, 1) X(softplus, 1) X(clip, 1)                              \
  X(sum_all, 1) X(sum, 1) X(mean_all, 1) X(mean, 1) X(max_all, 1) X(max, 1) X(min_all, 1) X(min, 1)              \
  X(prod_all, 1) X(prod, 1) X(logsumexp_all, 1) X(logsumexp, 1) X(norm_all, 1) X(norm, 1) X(softmax, 1)          \
  X(log_softmax, 1)                                                                                              \
  X(reshape, 1) X(transpose, 1) X(permute, 1) X(squeeze_all, 1) X(squeeze, 1) X(expand_dims, 1)                  \
  X(broadcast_to, 1) X(sum_to, 1) X(concatenate, -1) X(stack, -1) X(slice, 1) X(take_flat, 1) X(take, 1)         \
  X(matmul, 2) X(linear, 3) X(dot, 2) X(outer, 2) X(solve, 2) X(cholesky, 1)                                     \
  X(mse, 2) X(softmax_cross_entropy, 2) X(l2, -1)                                                                \
  X(arcsin, 1) X(arccos, 1) X(arctan, 1) X(sinh, 1) X(cosh, 1) X(arcsinh, 1) X(arctanh, 1) X(erf, 1) X(erfc, 1)   \
  X(log2, 1) X(log10, 1) X(exp2, 1) X(reciprocal, 1) X(rsqrt, 1) X(silu, 1) X(log_sigmoid, 1) X(gelu, 1)         \
  X(arctan2, 2) X(hypot, 2) X(logaddexp, 2)                                                                      \
  X(cumsum, 1) X(cumprod, 1) X(flip, 1) X(roll, 1) X(repeat, 1) X(triu, 1) X(tril, 1) X(sort, 1) X(diagonal, 1)  \
  X(pad, 1) X(tile, 1)                                                                                           \
  X(einsum, -1) X(tensordot, 2) X(solve_triangular, 2) X(inv, 1) X(det, 1)                                       \
  X(conv2d, 3) X(max_pool, 1) X(avg_pool, 1)

enum class Op {
#define XGRAD_FUZZ_ENUM(name, arity) name,
  XGRAD_FUZZ_OPS(XGRAD_FUZZ_ENUM)
#undef XGRAD_FUZZ_ENUM
};

struct OpInfo {
  const char* name;
  int arity;  // -1: a list of any length
};
inline constexpr OpInfo op_info[] = {
#define XGRAD_FUZZ_INFO(name, arity) {#name, arity},
    XGRAD_FUZZ_OPS(XGRAD_FUZZ_INFO)
#undef XGRAD_FUZZ_INFO
};
inline constexpr std::size_t op_count = sizeof(op_info) / sizeof(op_info[0]);
inline const OpInfo& info(Op op) { return op_info[static_cast<std::size_t>(op)]; }

// The subscripts einsum is drawn with (Node::start picks one): products, contractions, transposes, diagonals,
// traces and sums, with one or two operands.
inline constexpr const char* einsum_patterns[] = {"ij,jk->ik", "ij,ij->", "bij,bjk->bik", "ij,kj->ik", "i,j->ij",
                                                  "ij->ji",    "ii->i",   "ii->",         "ijk->kj",   "ij,jk"};

struct Node {
  Op op = Op::input;
  std::vector<int> args{};                  // earlier nodes
  Shape shape{};                          // of the result
  double scalar = 0;                      // the c of x + c, c - x, x / c, ..., the exponent of pow_c
  double lo = 0, hi = 0;                  // clip bounds
  Axes axes{};                            // sum, mean, max, min, prod, norm
  bool keepdims = false;
  std::ptrdiff_t axis = 0;                // logsumexp, softmax, squeeze, expand_dims, concatenate, stack, slice, take
  std::vector<std::ptrdiff_t> dims{};     // reshape's target, possibly with one -1
  std::vector<std::size_t> perm{};        // permute
  Shape target{};                         // broadcast_to, sum_to
  std::ptrdiff_t start = 0, stop = 0, step = 1;  // slice
  std::vector<std::ptrdiff_t> indices{};  // take
  Array value{};                          // an input's value at the base point; a constant; where's condition
};

struct Graph {
  std::uint64_t seed = 0;
  std::vector<Node> nodes;
  std::vector<int> inputs;  // the input nodes, in the order of the differentiated vector
  int output = -1;          // the node whose value, jvp, gradient and hvp are checked
  Array weights;            // the scalar function is sum(weights * output)
};

namespace detail {
template <class V>
std::string list(const V& v) {
  std::ostringstream os;
  os << "{";
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os.str() + "}";
}
inline std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}
inline std::string values(const Array& a) {
  std::string out = "{";
  for (std::size_t i = 0; i < a.size(); ++i) out += (i ? ", " : "") + number(a.data()[i]);
  return out + "}";
}
}  // namespace detail

/// One line per node: `%3 = maximum(%1, %2) -> (2,3)`, with the attributes the op uses; inputs with their values.
inline std::string dump(const Graph& g) {
  using detail::list;
  std::ostringstream os;
  os << "graph of seed " << g.seed << " (output %" << g.output << "):\n";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    os << "  %" << i << " = " << info(n.op).name << "(";
    for (std::size_t k = 0; k < n.args.size(); ++k) os << (k ? ", %" : "%") << n.args[k];
    std::string attrs;
    auto attr = [&](const std::string& s) { attrs += (attrs.empty() && n.args.empty() ? "" : ", ") + s; };
    switch (n.op) {
      case Op::input: case Op::constant: case Op::where: attr("value " + detail::values(n.value)); break;
      case Op::add_c: case Op::sub_c: case Op::rsub_c: case Op::mul_c: case Op::div_c: case Op::rdiv_c:
      case Op::pow_c: attr("c " + detail::number(n.scalar)); break;
      case Op::clip: attr("lo " + detail::number(n.lo) + ", hi " + detail::number(n.hi)); break;
      case Op::sum: case Op::mean: case Op::max: case Op::min: case Op::prod: case Op::norm:
        attr("axes " + list(n.axes) + (n.keepdims ? ", keepdims" : "")); break;
      case Op::logsumexp: attr("axis " + std::to_string(n.axis) + (n.keepdims ? ", keepdims" : "")); break;
      case Op::softmax: case Op::log_softmax: case Op::squeeze: case Op::expand_dims: case Op::concatenate:
      case Op::stack: case Op::softmax_cross_entropy: attr("axis " + std::to_string(n.axis)); break;
      case Op::reshape: attr("dims " + list(n.dims)); break;
      case Op::permute: attr("perm " + list(n.perm)); break;
      case Op::broadcast_to: case Op::sum_to: attr("shape " + shape_str(n.target)); break;
      case Op::slice:
        attr("axis " + std::to_string(n.axis) + ", " + std::to_string(n.start) + ":" + std::to_string(n.stop) + ":" +
             std::to_string(n.step));
        break;
      case Op::take_flat: attr("indices " + list(n.indices)); break;
      case Op::take: attr("indices " + list(n.indices) + ", axis " + std::to_string(n.axis)); break;
      case Op::cumsum: case Op::cumprod: case Op::flip: case Op::sort: attr("axis " + std::to_string(n.axis)); break;
      case Op::diagonal: attr("offset " + std::to_string(n.start) + ", axes " + list(n.perm)); break;
      case Op::pad: attr("widths " + list(n.perm) + ", c " + detail::number(n.scalar)); break;
      case Op::tile: attr("reps " + list(n.perm)); break;
      case Op::roll: attr("shift " + std::to_string(n.start) + ", axis " + std::to_string(n.axis)); break;
      case Op::repeat: attr("repeats " + std::to_string(n.start) + ", axis " + std::to_string(n.axis)); break;
      case Op::triu: case Op::tril: attr("k " + std::to_string(n.start)); break;
      case Op::einsum: attr(std::string("\"") + einsum_patterns[n.start] + "\""); break;
      case Op::tensordot: attr("axes " + std::to_string(n.start)); break;
      case Op::solve_triangular: attr(n.start ? "lower" : "upper"); break;
      case Op::conv2d: attr("stride, padding, dilation " + list(n.perm)); break;
      case Op::max_pool: case Op::avg_pool: attr("window, stride, padding " + list(n.perm)); break;
      default: break;
    }
    os << attrs << ") -> " << shape_str(n.shape) << "\n";
  }
  os << "  weights " << detail::values(g.weights) << "\n";
  return os.str();
}

}  // namespace xgrad::fuzz
