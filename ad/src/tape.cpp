#include "xgrad/ad/tape.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <limits>
#include <string>

#include "kernels.hpp"
#include "xgrad/ad/access.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/value_cache.hpp"
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

// Nodes in fixed-size chunks of raw storage: a node never moves (rules record new nodes while they hold a
// reference to the one they run), and none is constructed until it is recorded.
class Arena {
 public:
  static constexpr std::size_t chunk = 512;
  ~Arena() {
    truncate(0);
    release();
  }
  std::size_t size() const { return n_; }
  Node& operator[](std::size_t i) { return chunks_[i / chunk][i % chunk]; }
  const Node& operator[](std::size_t i) const { return chunks_[i / chunk][i % chunk]; }
  Node* slot() {  // storage for the next node; the caller constructs it, then calls commit()
    if (n_ == chunks_.size() * chunk) chunks_.push_back(std::allocator<Node>().allocate(chunk));
    return chunks_[n_ / chunk] + n_ % chunk;
  }
  void commit() { ++n_; }
  void truncate(std::size_t size) {
    while (n_ > size) std::destroy_at(&(*this)[--n_]);
    // An empty tape keeps its chunks for the next transform, up to the value cache's limit (at least one):
    // chunks are larger than malloc's mmap threshold, so each one freed would cost page faults when next used.
    if (n_ == 0) release(std::max<std::size_t>(1, value_cache_limit() / (chunk * sizeof(Node))));
  }

 private:
  void release(std::size_t keep = 0) {
    while (chunks_.size() > keep) {
      std::allocator<Node>().deallocate(chunks_.back(), chunk);
      chunks_.pop_back();
    }
  }
  std::vector<Node*> chunks_;
  std::size_t n_ = 0;
};

struct TapeState {
  Arena nodes;
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
  std::string msg = "xgrad::";
  msg += op;
  msg += ": a Tensor whose transform has ended was used inside another one (it escaped the function being "
         "differentiated, or comes from another thread); pass it as an argument, or use stop_gradient(t) or "
         "t.value()";
  throw MisuseError(msg);
}

template <class It>
Tensor push(const char* op, std::shared_ptr<const Array>&& value, It first, It last, Rule rule, Extra&& extra,
            std::uint64_t mask) {
  const auto count = static_cast<std::size_t>(last - first);
  Node* n = tape.nodes.slot();
  std::array<Tensor, 3> arg{count > 0 ? *first : Access::null(), count > 1 ? first[1] : Access::null(),
                            count > 2 ? first[2] : Access::null()};
  std::vector<Tensor> more;
  if (count > 3) more.assign(first + 3, last);
  Tensor r(std::move(value));
  const std::uint64_t serial = tape.serial_base | ++tape.counter;
  Access::set(r, mask, serial, static_cast<std::uint32_t>(tape.nodes.size()));
  ::new (static_cast<void*>(n))
      Node{rule, op, r, std::move(arg), static_cast<std::uint32_t>(count), std::move(more), std::move(extra), serial};
  tape.nodes.commit();
  if (!tape.levels.empty()) tape.levels.back().uni |= mask;
  return r;
}

template <class It>
std::uint64_t mask_of(const char* op, It first, It last) {
  std::uint64_t m = 0;
  for (It it = first; it != last; ++it) {
    const std::uint64_t xm = Access::mask(*it) & tape.recording;
    if (xm && !tape.live(*it)) escaped(op);
    m |= xm;
  }
  return m;
}

}  // namespace

std::vector<Tensor> Node::inputs() const {
  std::vector<Tensor> v;
  for (std::size_t i = 0; i < nargs; ++i) v.push_back(in(i));
  return v;
}

Tensor make(const char* op, std::shared_ptr<const Array> value, std::initializer_list<Tensor> inputs, Rule rule,
            Extra extra) {
  const std::uint64_t m = mask_of(op, inputs.begin(), inputs.end());
  if (!m) return Tensor(std::move(value));  // the common case outside transforms: no node
  return push(op, std::move(value), inputs.begin(), inputs.end(), rule, std::move(extra), m);
}
Tensor make(const char* op, std::shared_ptr<const Array> value, std::vector<Tensor> inputs, Rule rule, Extra extra) {
  const std::uint64_t m = mask_of(op, inputs.begin(), inputs.end());
  if (!m) return Tensor(std::move(value));
  return push(op, std::move(value), inputs.begin(), inputs.end(), rule, std::move(extra), m);
}
Tensor make(const char* op, Array value, std::initializer_list<Tensor> inputs, Rule rule, Extra extra) {
  return make(op, std::make_shared<Array>(std::move(value)), inputs, rule, std::move(extra));
}
Tensor make(const char* op, Array value, std::vector<Tensor> inputs, Rule rule, Extra extra) {
  return make(op, std::make_shared<Array>(std::move(value)), std::move(inputs), rule, std::move(extra));
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
    if (!kernels::same_shape(g.value(), x.value()))
    {
      std::string msg = "xgrad: internal error: the rule of '";
      msg += tape.nodes[j].op;
      msg += "' gave a cotangent of shape ";
      msg += shape_str(g.shape());
      msg += " for an input of shape ";
      msg += shape_str(x.shape());
      throw Error(msg);
    }
    if (!slot) {
      slot = g;
    } else if (!tape.recording && slot->shared_value().use_count() == 1) {
      // Sole owner of a plain array: accumulate in place (nothing else can observe the old value).
      Array& acc = const_cast<Array&>(slot->value());
      const double* src = g.value().data();
      double* dst = acc.data();
      for (std::size_t i = 0, n = acc.size(); i < n; ++i) dst[i] += src[i];
    } else {
      slot = *slot + g;
    }
  }
};

void Grads::operator()(std::size_t i, const Tensor& g) { sweep_->add(node_->in(i), g); }

bool Grads::recording() const { return tape.recording != 0; }

bool Grads::needs(std::size_t i) const {
  const Tensor& x = node_->in(i);
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
      tape.nodes.truncate(rec.start);
    }
  }
}

Tensor Level::input(const Tensor& x) {
  const std::uint64_t xm = Access::mask(x) & tape.recording;
  if (xm && !tape.live(x)) escaped("input");
  const Tensor ins[1] = {x};
  return push("input", std::shared_ptr<const Array>(x.shared_value()), ins, ins + 1,
              [](const Node&, const Tensor& g, Grads& d) { d(0, g); }, {}, xm | bit_);
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
