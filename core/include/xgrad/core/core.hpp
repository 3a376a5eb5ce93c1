#pragma once
// The whole core module: Array and shapes, errors, pytrees and their flat view, PRNG keys, pytree archives, the
// parallel map.
#include "xgrad/core/array.hpp"
#include "xgrad/core/archive.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/core/tree.hpp"
