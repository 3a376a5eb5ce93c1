#pragma once
// The whole AD module.
#include "xgrad/ad/check_grads.hpp"
#include "xgrad/ad/custom.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/linalg.hpp"
#include "xgrad/ad/losses.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/recurrent.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/ad/tensor.hpp"
#include "xgrad/ad/transforms.hpp"
#include "xgrad/ad/value_cache.hpp"
