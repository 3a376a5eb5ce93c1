#pragma once
// Internal: how ops get arrays from the value cache (xgrad/ad/value_cache.hpp says what it is).
#include <memory>

#include "xgrad/ad/value_cache.hpp"
#include "xgrad/core/array.hpp"

namespace xgrad::ad::cache {

/// An array of shape `s`, recycled when one of that size is cached; its contents are unspecified.
std::shared_ptr<Array> take(const Array::shape_type& s);

}  // namespace xgrad::ad::cache
