#include "xgrad/ad/tape.hpp"

#include <atomic>
#include <deque>
#include <limits>
#include <string>

#include "xgrad/ad/access.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad::ad {

namespace {

struct LevelRecord {
  std::size_t start;                                       // first node of the level's forward part
  std::size_t end = std::numeric_limits<std::size_t>::max();  // one past its last forward node, once ended
  std::uint64_t bit;
  bool alive = true;
  std::uint64_t uni = 0;  // union of the masks of the nodes recorded while it was the newest level
};

struct TapeState {
  std::deque<Node> nodes;  // a deque: appending never moves a node (rules hold references while recording)
  std::vector<LevelRecord> levels;
  std::uint64_t alive = 0;      // bits of live levels
  std::uint64_t recording = 0;  // bits recorded right now (alive, minus the level being swept, or 0 under NoGrad)
  std::uint64_t serial_base;
  std::uint64_t counter = 0;

  TapeState() {
    static std::atomic<std::uint64_t> threads{0};
    serial_base = (threads.fetch_add(1) + 1) << 40;  // serials differ across threads: a foreign Tensor is never live
  }
  bool live(const Tensor& x) const {
    const auto& a = Access::node(x);
    return a < nodes.size() && nodes[a].serial == Access::serial(x);
  }
};

thread_local TapeState tape;

[[noreturn]] void escaped(const char* op) {
  throw MisuseError(std::string("xgrad::") + op +
                    ": a Tensor whose transform has ended was used inside another one (it escaped the function "
                    "being differentiated, or comes from another thread); pass it as an argument, or use "
                    "stop_gradient(t) or t.value()");
}

Tensor push(const char* op, Array&& value, std::vector<Tensor>&& inputs, Rule rule, Extra&& extra,
            std::uint64_t mask) {
  Tensor r(std::make_shared<const Array>(std::move(value)));
  Node& n = tape.nodes.emplace_back();
  n.rule = rule;
  n.op = op;
  n.args = std::move(inputs);
  n.extra = std::move(extra);
  n.serial = tape.serial_base | ++tape.counter;
  Access::set(r, mask, n.serial, static_cast<std::uint32_t>(tape.nodes.size() - 1));
  n.result = r;
  if (!tape.levels.empty()) tape.levels.back().uni |= mask;
  return r;
}

}  // namespace

Tensor make(const char* op, Array value, std::vector<Tensor> inputs, Rule rule, Extra extra) {
  std::uint64_t m = 0;
  for (const auto& x : inputs) {
    const std::uint64_t xm = Access::mask(x) & tape.recording;
    if (xm && !tape.live(x)) escaped(op);
    m |= xm;
  }
  if (!m) return Tensor(std::move(value));
  return push(op, std::move(value), std::move(inputs), rule, std::move(extra), m);
}

Tensor make(const char* op, Array value, std::initializer_list<Tensor> inputs, Rule rule, Extra extra) {
  std::uint64_t m = 0;
  for (const auto& x : inputs) m |= Access::mask(x) & tape.recording;
  if (!m) return Tensor(std::move(value));  // the common case outside transforms: no vector, no node
  return make(op, std::move(value), std::vector<Tensor>(inputs), rule, std::move(extra));
}

// ----------------------------------------------------------------------------------------------------------------
// The backward sweep.

struct Sweep {
  std::size_t start, end;
  std::uint64_t bit;
  std::vector<std::optional<Tensor>> adj;  // cotangent of node start + k

  void add(const Tensor& x, const Tensor& g) {
    if (!(Access::mask(x) & bit)) return;  // x does not depend on this level's inputs
    const std::size_t j = Access::node(x);
    if (j < start || j >= end) return;
    auto& slot = adj[j - start];
    if (g.shape() != x.shape())
      throw Error(std::string("xgrad: internal error: the rule of '") + tape.nodes[j].op + "' gave a cotangent of shape " +
                  shape_str(g.shape()) + " for an input of shape " + shape_str(x.shape()));
    if (!slot)
      slot = g;
    else
      slot = *slot + g;
  }
};

void Grads::operator()(std::size_t i, const Tensor& g) { sweep_->add(node_->args[i], g); }

bool Grads::needs(std::size_t i) const {
  const Tensor& x = node_->args[i];
  const std::size_t j = Access::node(x);
  return (Access::mask(x) & sweep_->bit) && j >= sweep_->start && j < sweep_->end;
}

Level::Level() {
  if (tape.alive == ~std::uint64_t{0})
    throw MisuseError("xgrad: more than 64 transforms are alive at once (nested, or pullbacks kept)");
  bit_ = ~tape.alive & (tape.alive + 1);  // lowest free bit
  tape.alive |= bit_;
  tape.recording |= bit_;
  index_ = tape.levels.size();
  tape.levels.push_back({tape.nodes.size(), std::numeric_limits<std::size_t>::max(), bit_});
}

Level::~Level() {
  tape.levels[index_].alive = false;
  tape.alive &= ~bit_;
  tape.recording &= ~bit_;
  // Pop dead levels off the top. A level's nodes are kept while a live level still traces one of them.
  while (!tape.levels.empty() && !tape.levels.back().alive) {
    LevelRecord rec = tape.levels.back();
    tape.levels.pop_back();
    if (rec.uni & tape.alive) {
      if (!tape.levels.empty()) tape.levels.back().uni |= rec.uni;
    } else {
      while (tape.nodes.size() > rec.start) tape.nodes.pop_back();
    }
  }
}

Tensor Level::input(const Tensor& x) {
  const std::uint64_t xm = Access::mask(x) & tape.recording;
  if (xm && !tape.live(x)) escaped("input");
  Array v = x.value();
  return push("input", std::move(v), {x}, [](const Node&, const Tensor& g, Grads& d) { d(0, g); }, {},
              xm | bit_);
}

void Level::end_forward() { tape.levels[index_].end = tape.nodes.size(); }

Tensor Level::output(const Tensor& y) const {
  Tensor r = y;
  Access::set(r, Access::mask(y) & ~bit_, Access::serial(y), Access::node(y));
  return r;
}

std::vector<std::optional<Tensor>> Level::backward(const std::vector<Tensor>& outputs,
                                                   const std::vector<Tensor>& cotangents,
                                                   const std::vector<Tensor>& inputs) const {
  const LevelRecord& rec = tape.levels[index_];
  Sweep s{rec.start, std::min(rec.end, tape.nodes.size()), bit_, {}};
  s.adj.resize(s.end - s.start);
  for (std::size_t i = 0; i < outputs.size(); ++i) s.add(outputs[i], cotangents[i]);

  std::vector<char> is_input(s.adj.size(), 0);
  for (const auto& x : inputs)
    if ((Access::mask(x) & bit_) && Access::node(x) >= s.start && Access::node(x) < s.end)
      is_input[Access::node(x) - s.start] = 1;

  struct Restore {
    std::uint64_t saved = tape.recording;
    ~Restore() { tape.recording = saved; }
  } restore;
  tape.recording &= ~bit_;  // this level's own derivative is not recorded: no perturbation confusion

  for (std::size_t k = s.adj.size(); k-- > 0;) {
    if (!s.adj[k] || is_input[k]) continue;
    const Node& n = tape.nodes[s.start + k];
    Tensor g = std::move(*s.adj[k]);
    s.adj[k].reset();  // release cotangents as soon as they are used
    Grads d;
    d.sweep_ = &s;
    d.node_ = &n;
    n.rule(n, g, d);
  }
  std::vector<std::optional<Tensor>> out;
  out.reserve(inputs.size());
  for (const auto& x : inputs) {
    const bool mine = (Access::mask(x) & bit_) && Access::node(x) >= s.start && Access::node(x) < s.end;
    out.push_back(mine ? s.adj[Access::node(x) - s.start] : std::nullopt);
  }
  return out;
}

NoGrad::NoGrad() : saved_(tape.recording) { tape.recording = 0; }
NoGrad::~NoGrad() { tape.recording = saved_; }

std::size_t tape_size() { return tape.nodes.size(); }
std::size_t live_levels() { return static_cast<std::size_t>(__builtin_popcountll(tape.alive)); }

// ----------------------------------------------------------------------------------------------------------------
// Tensor members that need the tape.

bool tensor_is_traced(const Tensor& t) { return (Access::mask(t) & tape.alive) && tape.live(t); }

}  // namespace xgrad::ad
