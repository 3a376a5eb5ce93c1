#pragma once
// The tape: a flat record of nodes in execution order, one per tensor operation, on each thread.
//
// Every transform (grad, vjp, ...) opens a *level* with its own bit; a Tensor carries the bits of the levels that
// trace it. An operation records a node only if one of its inputs is traced by a live level, so code outside any
// transform runs on plain arrays. A level's backward sweep walks its part of the tape once, in reverse, calling each
// node's rule; the rules are written with Tensor operations, so when other levels are alive the sweep is itself
// recorded (grad of grad, hvp). While sweeping level L, L's own bit is not recorded: no perturbation confusion.
//
// Writing an operation: compute the value, then `make(op, value, {inputs}, rule, extra)`:
//
//   Tensor exp(const Tensor& x) {
//     return ad::make("exp", xt::exp(x.value()), {x},
//                     [](const ad::Node& n, const Tensor& g, ad::Grads& d) { d(0, g * n.out()); });
//   }
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "xgrad/ad/tensor.hpp"

namespace xgrad::ad {

/// A backward rule: given the node and the cotangent g of its output, add each input's cotangent with d(i, ...).
using Rule = void (*)(const Node& n, const Tensor& g, Grads& d);

/// What an operation's rule may need besides its inputs and output.
struct Extra {
  double param = 0.0;                // a scalar parameter (an exponent, a bound)
  std::vector<std::ptrdiff_t> ints{};  // axes, a shape, a permutation
  std::shared_ptr<const void> data{};        // anything else (custom rules keep their closures here)
};

/// One recorded operation. Nodes live in a chunked arena (never moved); the first three inputs are stored inline.
struct Node {
  Rule rule = nullptr;
  const char* op = "";
  Tensor result;                 // the output (rules like exp and tanh reuse it)
  std::array<Tensor, 3> arg;     // the first inputs, as handles (they keep the values the rule needs alive)
  std::uint32_t nargs = 0;
  std::vector<Tensor> more;      // inputs beyond three (concatenate, custom rules)
  Extra extra;
  std::uint64_t serial = 0;

  const Tensor& in(std::size_t i) const { return i < 3 ? arg[i] : more[i - 3]; }
  std::size_t num_inputs() const { return nargs; }
  std::vector<Tensor> inputs() const;
  const Tensor& out() const { return result; }
  double param() const { return extra.param; }
  const std::vector<std::ptrdiff_t>& ints() const { return extra.ints; }
};

/// Record `value` as the result of `op` on `inputs`. Returns a constant when no live level traces any input.
/// The value may be given as an Array (moved in) or, cheaper, as the shared pointer the op allocated it in.
Tensor make(const char* op, std::shared_ptr<const Array> value, std::initializer_list<Tensor> inputs, Rule rule,
            Extra extra = {});
Tensor make(const char* op, std::shared_ptr<const Array> value, std::vector<Tensor> inputs, Rule rule,
            Extra extra = {});
Tensor make(const char* op, Array value, std::initializer_list<Tensor> inputs, Rule rule, Extra extra = {});
Tensor make(const char* op, Array value, std::vector<Tensor> inputs, Rule rule, Extra extra = {});

/// Passed to a rule: d(i, g_i) adds g_i (which must have input i's shape) to input i's cotangent.
class Grads {
 public:
  void operator()(std::size_t i, const Tensor& g);
  /// Whether input i needs a cotangent in this sweep (rules may skip the work when not).
  bool needs(std::size_t i) const;
  /// Whether this sweep is itself being recorded (for higher order). When not, a rule may compute its cotangents
  /// with one fused loop on plain arrays instead of a chain of Tensor ops.
  bool recording() const;

 private:
  friend struct Access;
  friend class Level;
  struct Sweep* sweep_ = nullptr;
  const Node* node_ = nullptr;
};

struct Orphans;

/// A transform level (RAII). Open it, lift the inputs, run the function, sweep backward, release. A level belongs to
/// the thread that opened it: using it on another thread throws MisuseError; destroying it there is safe (its nodes
/// are freed by its own thread later).
class Level {
 public:
  Level();
  ~Level();
  Level(const Level&) = delete;
  Level& operator=(const Level&) = delete;

  /// x as an input of this level: a new node that this level traces, through which outer levels still see x.
  Tensor input(const Tensor& x);
  /// Ends the forward part: nodes recorded from now on are not part of this level's sweep.
  void end_forward();
  /// The cotangents of `inputs` (tensors returned by input()) given cotangents of `outputs`; std::nullopt for
  /// an input the outputs do not depend on. May be called several times (vjp's pullback, jacobian rows).
  std::vector<std::optional<Tensor>> backward(const std::vector<Tensor>& outputs,
                                              const std::vector<Tensor>& cotangents,
                                              const std::vector<Tensor>& inputs) const;
  /// y without this level's trace (what a transform returns to its caller).
  Tensor output(const Tensor& y) const;

 private:
  void check_thread(const char* what) const;
  std::uint64_t bit_ = 0;
  std::shared_ptr<Orphans> owner_;  // the owning thread's mailbox for levels that die elsewhere
};

/// Run `f` with no level recording anything (its results are constants).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  std::uint64_t saved_;
};

/// Introspection for tests and benchmarks: nodes currently held on this thread's tape, and live levels.
std::size_t tape_size();
std::size_t live_levels();

}  // namespace xgrad::ad
