#include "value_cache.hpp"

#include <atomic>
#include <cstddef>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

namespace xgrad::ad {

namespace {

std::atomic<std::size_t> limit{std::size_t{32} << 20};

// The calling thread's T, created on first use; nullptr once its thread_local has been destroyed at thread exit
// (what other thread_locals release after that is simply freed). The fast path is one TLS load.
template <class T>
struct PerThread {
  static inline thread_local T* ptr = nullptr;  // trivially destructible: still readable during thread exit
  static inline thread_local bool gone = false;
  struct Owner {
    T obj;
    Owner() { ptr = &obj; }
    ~Owner() {
      ptr = nullptr;
      gone = true;
    }
  };
  static T* get() {
    if (ptr) [[likely]] return ptr;
    if (gone) return nullptr;
    thread_local Owner owner;
    return ptr;
  }
};

std::size_t footprint(std::size_t elements) { return sizeof(Array) + elements * sizeof(double); }

// One thread's cached arrays, binned by element count: a direct table for small sizes, a map for the rest.
struct Cache {
  static constexpr std::size_t small_sizes = 1024;
  std::vector<std::vector<Array*>> small{small_sizes};
  std::unordered_map<std::size_t, std::vector<Array*>> large;
  std::size_t bytes = 0;

  std::vector<Array*>* bin(std::size_t n, bool create) {
    if (n < small_sizes) return &small[n];
    if (create) return &large[n];
    auto it = large.find(n);
    return it == large.end() ? nullptr : &it->second;
  }
  Array* pop(std::size_t n) {
    std::vector<Array*>* b = bin(n, false);
    if (!b || b->empty()) return nullptr;
    Array* a = b->back();
    b->pop_back();
    bytes -= footprint(n);
    return a;
  }
  void push(Array* a) {
    const std::size_t fp = footprint(a->size());
    if (bytes + fp > limit.load(std::memory_order_relaxed)) {
      delete a;
      return;
    }
    bin(a->size(), true)->push_back(a);
    bytes += fp;
  }
  void clear() {
    for (auto& b : small)
      for (Array* a : b) delete a;
    for (auto& [n, b] : large)
      for (Array* a : b) delete a;
    small.assign(small_sizes, {});
    large.clear();
    bytes = 0;
  }
  ~Cache() { clear(); }
};


// The shared_ptr control blocks of cached arrays (one small block per value) come from a per-thread free list of
// blocks of their size: malloc and free of these were the largest cost left per op once arrays were recycled.
struct Free {
  Free* next;
};
template <std::size_t Size>
struct Blocks {
  static constexpr std::size_t max_count = std::size_t{1} << 16;
  Free* head = nullptr;
  std::size_t count = 0;
  ~Blocks() {
    while (head) ::operator delete(std::exchange(head, head->next));
  }
};

template <class T>
struct BlockAlloc {
  static_assert(sizeof(T) >= sizeof(Free) && alignof(T) <= alignof(std::max_align_t));
  using value_type = T;
  using List = PerThread<Blocks<sizeof(T)>>;
  BlockAlloc() = default;
  template <class U>
  BlockAlloc(const BlockAlloc<U>&) {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) {
    if (auto* b = n == 1 ? List::get() : nullptr; b && b->head) {
      --b->count;
      return reinterpret_cast<T*>(std::exchange(b->head, b->head->next));
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) {
    if (auto* b = n == 1 ? List::get() : nullptr; b && b->count < b->max_count) {
      b->head = ::new (static_cast<void*>(p)) Free{b->head};
      ++b->count;
      return;
    }
    ::operator delete(p);
  }
  friend bool operator==(const BlockAlloc&, const BlockAlloc&) { return true; }
};

// The deleter of every cached array: back to the releasing thread's cache (any thread's cache may take any array).
struct Recycle {
  void operator()(Array* a) const {
    if (Cache* c = PerThread<Cache>::get())
      c->push(a);
    else
      delete a;
  }
};

bool same_shape(const Array::shape_type& a, const Array::shape_type& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

namespace cache {

std::shared_ptr<Array> take(const Array::shape_type& s) {
  std::size_t n = 1;
  for (auto e : s) n *= e;
  Array* a = nullptr;
  if (Cache* c = PerThread<Cache>::get()) {
    if (c->bytes > limit.load(std::memory_order_relaxed)) c->clear();  // the limit was lowered
    a = c->pop(n);
  }
  if (!a)
    a = new Array(s);
  else if (!same_shape(a->shape(), s))
    a->resize(s);  // same size: keeps the buffer, recomputes the strides
  return std::shared_ptr<Array>(a, Recycle{}, BlockAlloc<Array>{});
}

}  // namespace cache

std::size_t value_cache_limit() { return limit.load(std::memory_order_relaxed); }

void set_value_cache_limit(std::size_t bytes) {
  limit.store(bytes, std::memory_order_relaxed);
  if (Cache* c = PerThread<Cache>::get(); c && c->bytes > bytes) c->clear();
}

std::size_t value_cache_bytes() {
  const Cache* c = PerThread<Cache>::get();
  return c ? c->bytes : 0;
}

void clear_value_cache() {
  if (Cache* c = PerThread<Cache>::get()) c->clear();
}

}  // namespace xgrad::ad
