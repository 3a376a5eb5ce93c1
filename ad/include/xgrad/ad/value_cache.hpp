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
// freed as usual. It is emptied when its thread exits, and by clear_value_cache().
//
//   xgrad::ad::set_value_cache_limit(0);          // turn it off: every array is freed at once
//   xgrad::ad::value_cache_bytes();               // what this thread's cache holds now
#include <cstddef>

namespace xgrad::ad {

/// The largest number of bytes each thread's cache may hold (all threads; default 32 MiB).
std::size_t value_cache_limit();
/// Sets that limit (0 disables caching). Caches holding more are trimmed as arrays come back to them.
void set_value_cache_limit(std::size_t bytes);
/// Bytes held by the calling thread's cache right now.
std::size_t value_cache_bytes();
/// Frees every array in the calling thread's cache.
void clear_value_cache();

}  // namespace xgrad::ad
