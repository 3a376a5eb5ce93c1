#include "value_cache.hpp"

#include <atomic>
#include <cstddef>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// A cached array's data is poisoned while it waits in the cache: a stale reference to a released value is still
// reported by AddressSanitizer, as it would be if the array had been freed.
#define XGRAD_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define XGRAD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define XGRAD_POISON(p, n) ((void)(p), (void)(n))
#define XGRAD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace xgrad::ad {

namespace {

std::atomic<std::size_t> limit{std::size_t{32} << 20};

// The calling thread's T. get() creates it on first use; peek() only looks (releases use it: a thread that never
// allocated gets no cache, and nothing is created during thread or process exit). Both return nullptr once the
// thread_local has been destroyed at thread exit; what is released after that is simply freed.
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
  static T* peek() { return ptr; }
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
    XGRAD_UNPOISON(a->data(), n * sizeof(double));
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
    XGRAD_POISON(a->data(), a->size() * sizeof(double));
  }
  static void destroy(Array* a) {
    XGRAD_UNPOISON(a->data(), a->size() * sizeof(double));
    delete a;
  }
  void clear() {
    for (auto& b : small)
      for (Array* a : b) destroy(a);
    for (auto& [n, b] : large)
      for (Array* a : b) destroy(a);
    small.assign(small_sizes, {});
    large.clear();
    bytes = 0;
  }
  ~Cache() { clear(); }
};

// The shared_ptr control blocks of cached arrays (one small block per value) come from a per-thread free list:
// malloc and free of these were the largest cost left per op once arrays were recycled. The list holds blocks of
// one size, the first one asked for (the control block type); other sizes go to operator new.
struct Blocks {
  struct Free {
    Free* next;
  };
  static constexpr std::size_t max_count = std::size_t{1} << 16;
  Free* head = nullptr;
  std::size_t size = 0, count = 0;
  void clear() {
    while (head) ::operator delete(std::exchange(head, head->next));
    count = 0;
  }
  ~Blocks() { clear(); }
};

template <class T>
struct BlockAlloc {
  static_assert(sizeof(T) >= sizeof(Blocks::Free) && alignof(T) <= alignof(std::max_align_t));
  using value_type = T;
  BlockAlloc() = default;
  template <class U>
  BlockAlloc(const BlockAlloc<U>&) {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) {
    if (Blocks* b = n == 1 ? PerThread<Blocks>::get() : nullptr; b && b->head && b->size == sizeof(T)) {
      --b->count;
      return reinterpret_cast<T*>(std::exchange(b->head, b->head->next));
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) {
    Blocks* b = n == 1 ? PerThread<Blocks>::peek() : nullptr;
    if (b && b->size == 0) b->size = sizeof(T);
    if (b && b->size == sizeof(T) && b->count < Blocks::max_count) {
      b->head = ::new (static_cast<void*>(p)) Blocks::Free{b->head};
      ++b->count;
      return;
    }
    ::operator delete(p);
  }
  friend bool operator==(const BlockAlloc&, const BlockAlloc&) { return true; }
};

// The deleter of every cached array: back to the releasing thread's cache (any thread's cache may take any array),
// or freed when that thread has none.
struct Recycle {
  void operator()(Array* a) const {
    if (Cache* c = PerThread<Cache>::peek())
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
  if (Cache* c = PerThread<Cache>::peek(); c && c->bytes > bytes) c->clear();
}

std::size_t value_cache_bytes() {
  const Cache* c = PerThread<Cache>::peek();
  return c ? c->bytes : 0;
}

void clear_value_cache() {
  if (Cache* c = PerThread<Cache>::peek()) c->clear();
  if (Blocks* b = PerThread<Blocks>::peek()) b->clear();
}

}  // namespace xgrad::ad
