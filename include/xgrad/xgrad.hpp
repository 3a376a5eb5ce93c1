#pragma once
// The whole public API of xgrad.
#include "xgrad/core/core.hpp"
#include "xgrad/ad/ad.hpp"
#include "xgrad/optim/optim.hpp"
#include "xgrad/implicit/implicit.hpp"
#include "xgrad/learn/learn.hpp"
