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

// Levels destroyed on another thread than their own (a pullback moved there) leave their bits here; the owner
// thread frees them the next time it opens or closes a level. Shared, so it outlives either thread.
struct Orphans {
  std::atomic<std::uint64_t> bits{0};
};

namespace {

struct LevelRecord {
  std::size_t start;                                       // first node of its range (up to the next record's start)
  std::size_t end = std::numeric_limits<std::size_t>::max();  // one past its last forward node, once ended
  std::uint64_t bit;
  bool alive = true;
  std::uint64_t uni = 0;  // bits of live levels that nodes of its range carry (a dead level's nodes are kept while
                          // this is not 0: an enclosing level will differentiate through them)
};

// Nodes in fixed-size chunks of raw storage, indexed by a number that only grows while the tape is non-empty: a node
// never moves (rules record new nodes while they hold a reference to the one they run). Nodes of a dead level below
// a live one are destroyed in place (a hole: serial 0, no values); holes at either end are given back, so a program
// that keeps only its latest pullback runs in constant memory.
class Arena {
 public:
  static constexpr std::size_t chunk = 512;
  ~Arena() {
    truncate(first_);
    release(0);
  }
  std::size_t begin() const { return first_; }
  std::size_t size() const { return n_; }  // one past the last node's index
  std::size_t live() const { return live_; }  // nodes, not holes
  Node& operator[](std::size_t i) { return chunks_[i / chunk - base_][i % chunk]; }
  const Node& operator[](std::size_t i) const { return chunks_[i / chunk - base_][i % chunk]; }
  Node* slot() {  // storage for the next node; the caller constructs it, then calls commit()
    if (n_ == (base_ + chunks_.size()) * chunk) chunks_.push_back(std::allocator<Node>().allocate(chunk));
    return chunks_[n_ / chunk - base_] + n_ % chunk;
  }
  void commit() {
    ++n_;
    ++live_;
  }
  // Destroy the nodes [from, to): the top of the tape is popped, nodes below a live one become holes.
  void clear(std::size_t from, std::size_t to) {
    from = std::max(from, first_);
    to = std::min(to, n_);
    if (to == n_) return truncate(from);
    for (std::size_t i = to; i-- > from;) {
      Node& n = (*this)[i];
      if (!n.serial) continue;
      --live_;
      std::destroy_at(&n);
      ::new (static_cast<void*>(&n)) Node{};
    }
    while (first_ < n_ && !(*this)[first_].serial) {  // holes at the bottom: give back whole chunks
      std::destroy_at(&(*this)[first_++]);
      if (first_ % chunk == 0) {  // the chunk below first_ is empty: reuse it at the top
        std::rotate(chunks_.begin(), chunks_.begin() + 1, chunks_.end());
        ++base_;
      }
    }
    if (first_ == n_) truncate(n_);
  }

 private:
  void truncate(std::size_t size) {
    size = std::max(size, first_);
    while (n_ > size) {
      live_ -= (*this)[--n_].serial != 0;
      std::destroy_at(&(*this)[n_]);
    }
    while (n_ > first_ && !(*this)[n_ - 1].serial) std::destroy_at(&(*this)[--n_]);
    if (n_ > first_) return;
    // An empty tape starts again at index 0 and keeps its chunks for the next transform, up to the value cache's
    // limit (at least one): chunks are larger than malloc's mmap threshold, so each one freed would cost page faults
    // when next used.
    n_ = first_ = base_ = 0;
    release(std::max<std::size_t>(1, value_cache_limit() / (chunk * sizeof(Node))));
  }
  void release(std::size_t keep) {
    while (chunks_.size() > keep) {
      std::allocator<Node>().deallocate(chunks_.back(), chunk);
      chunks_.pop_back();
    }
  }
  std::vector<Node*> chunks_;  // chunks_[k] holds the nodes [(base_ + k) * chunk, (base_ + k + 1) * chunk)
  std::size_t base_ = 0;
  std::size_t first_ = 0;  // index of the lowest node still constructed
  std::size_t live_ = 0;   // constructed nodes that are not holes
  std::size_t n_ = 0;
};

struct TapeState {
  Arena nodes;
  std::vector<LevelRecord> levels;
  std::uint64_t alive = 0;      // bits of live levels
  std::uint64_t recording = 0;  // bits recorded right now (alive, minus the level being swept, or 0 under NoGrad)
  std::uint64_t serial_base;
  std::uint64_t counter = 0;
  std::shared_ptr<Orphans> orphans = std::make_shared<Orphans>();

  TapeState() {
    static std::atomic<std::uint64_t> threads{0};
    serial_base = (threads.fetch_add(1) + 1) << 40;  // serials differ across threads: a foreign Tensor is never live
  }
  bool live(const Tensor& x) const {
    const auto a = Access::node(x);
    return a >= nodes.begin() && a < nodes.size() && nodes[a].serial == Access::serial(x);
  }
  LevelRecord& record(std::uint64_t bit) {
    for (std::size_t i = levels.size(); i-- > 0;)
      if (levels[i].alive && levels[i].bit == bit) return levels[i];
    throw MisuseError("xgrad: internal error: no live level has bit " + std::to_string(bit));
  }
  // Level `bit` has ended: free the nodes of every dead level that no live level traces any more.
  void retire(std::uint64_t bit) {
    alive &= ~bit;
    recording &= ~bit;
    for (auto& r : levels) {
      if (r.bit == bit) r.alive = false;
      r.uni &= alive;  // the bit may be reused by a new level, which cannot trace these nodes
    }
    for (std::size_t i = levels.size(); i-- > 0;) {
      if (levels[i].alive || levels[i].uni) continue;
      nodes.clear(levels[i].start, i + 1 < levels.size() ? levels[i + 1].start : nodes.size());
      levels.erase(levels.begin() + static_cast<std::ptrdiff_t>(i));  // its range joins the level below's
    }
  }
  void reap_orphans() {
    if (!orphans->bits.load(std::memory_order_relaxed)) return;
    for (std::uint64_t b = orphans->bits.exchange(0); b; b &= b - 1) retire(b & -b);
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
  Access::set(r, mask, serial, tape.nodes.size());
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

Level::Level() : owner_(tape.orphans) {
  tape.reap_orphans();
  if (tape.alive == ~std::uint64_t{0})
    throw MisuseError("xgrad: more than 64 transforms are alive at once (nested, or pullbacks kept)");
  bit_ = ~tape.alive & (tape.alive + 1);  // lowest free bit
  tape.alive |= bit_;
  tape.recording |= bit_;
  tape.levels.push_back({tape.nodes.size(), std::numeric_limits<std::size_t>::max(), bit_});
}

Level::~Level() {
  if (owner_ != tape.orphans) {  // destroyed on another thread: the owner frees it (never touch its tape here)
    owner_->bits.fetch_or(bit_);
    return;
  }
  tape.retire(bit_);
  tape.reap_orphans();
}

void Level::check_thread(const char* what) const {
  if (owner_ != tape.orphans)
    throw MisuseError(std::string("xgrad::") + what +
                      ": used on another thread than the one that created it (a pullback and the tape it reads "
                      "belong to one thread; call it there, or compute the derivative on this thread)");
}

Tensor Level::input(const Tensor& x) {
  check_thread("input");
  const std::uint64_t xm = Access::mask(x) & tape.recording;
  if (xm && !tape.live(x)) escaped("input");
  const Tensor ins[1] = {x};
  return push("input", std::shared_ptr<const Array>(x.shared_value()), ins, ins + 1,
              [](const Node&, const Tensor& g, Grads& d) { d(0, g); }, {}, xm | bit_);
}

void Level::end_forward() {
  check_thread("end_forward");
  tape.record(bit_).end = tape.nodes.size();
}

Tensor Level::output(const Tensor& y) const {
  Tensor r = y;
  Access::set(r, Access::mask(y) & ~bit_, Access::serial(y), Access::node(y));
  return r;
}

std::vector<std::optional<Tensor>> Level::backward(const std::vector<Tensor>& outputs,
                                                   const std::vector<Tensor>& cotangents,
                                                   const std::vector<Tensor>& inputs) const {
  check_thread("vjp: the pullback");
  const LevelRecord& rec = tape.record(bit_);
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

std::size_t tape_size() {
  tape.reap_orphans();
  return tape.nodes.live();
}
std::size_t live_levels() {
  tape.reap_orphans();
  return static_cast<std::size_t>(__builtin_popcountll(tape.alive));
}

// ----------------------------------------------------------------------------------------------------------------
// Tensor members that need the tape.

bool tensor_is_traced(const Tensor& t) { return (Access::mask(t) & tape.alive) && tape.live(t); }

}  // namespace xgrad::ad
