#pragma once
// xgrad::learn — learned optimizers (learned.hpp), their task distributions (tasks.hpp), meta-gradients by truncated
// backpropagation through unrolled optimization (meta.hpp) or by evolution strategies (evolution_strategies.hpp), and
// meta-training (meta_train.hpp) (issues 6 and 12; a module of its own since issue 14).
// Dependency order: core <- ad <- optim <- learn.
#include "xgrad/learn/evolution_strategies.hpp"
#include "xgrad/learn/learned.hpp"
#include "xgrad/learn/meta.hpp"
#include "xgrad/learn/meta_train.hpp"
#include "xgrad/learn/tasks.hpp"
