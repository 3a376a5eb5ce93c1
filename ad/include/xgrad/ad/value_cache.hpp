#pragma once
// The value cache: arrays that xgrad's ops allocated are recycled, per thread, when their last Tensor lets go.
//
// Every op allocates its result, and every backward rule its cotangents; on small arrays malloc, the xarray
// constructor and free cost more than the arithmetic, and on large ones the kernel zeroes fresh pages on first touch.
// So an op's array is not freed when its last Tensor (or shared_value() copy) is destroyed: it goes to a per-thread
// cache, and the next op on that thread that needs an array of the same number of elements takes it back (contents
// overwritten, shape reset). Arrays you build yourself (Tensor(Array), Tensor(double)) are never cached.
//
// The cache holds at most value_cache_limit() bytes per thread (data plus array metadata); beyond that, arrays are
// freed as usual. A thread that has not run an op yet has no cache: what it releases is freed. The cache is emptied
// when its thread exits, and by clear_value_cache(). Between transforms the tape keeps its node storage up to the same
// number of bytes (separately).
//
// A backward pass may also overwrite a cotangent array that it holds the only reference to (first-order sweeps):
// hand xgrad owning pointers only (Tensor(std::shared_ptr<const Array>) with a non-owning deleter is not supported).
//
//   xgrad::ad::set_value_cache_limit(0);          // turn it off: every array is freed at once
//   xgrad::ad::value_cache_bytes();               // what this thread's cache holds now
#include <cstddef>

namespace xgrad::ad {

/// The largest number of bytes each thread's cache may hold (all threads; default 32 MiB).
std::size_t value_cache_limit();
/// Sets that limit (0 disables caching). The calling thread's cache is emptied at once if it holds more; other
/// threads' caches are emptied at their next op.
void set_value_cache_limit(std::size_t bytes);
/// Bytes held by the calling thread's cache right now.
std::size_t value_cache_bytes();
/// Frees every array (and spare control block) in the calling thread's cache.
void clear_value_cache();

}  // namespace xgrad::ad
