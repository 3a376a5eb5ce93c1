#pragma once
// Independent work on all cores, with results that do not depend on how many there are.
//
//   auto grads = parallel::map(tasks.size(), [&](std::size_t i) { return grad(loss)(params, tasks[i]); });
//   auto total = parallel::map_reduce(tasks.size(), [&](std::size_t i) { ... return g_i; });   // g_0 + g_1 + ...
//
// Each piece i runs on some thread of a persistent pool (the caller's thread takes part), so each thread keeps its
// own tape and value cache warm between calls. Results are stored by index and reduced on the caller's thread in
// index order, so they are the same bit for bit with 1 thread or 64. Pieces must be independent: they may read shared
// data (Tensors are safe to share for reading) but not write it. A Tensor traced on one thread is a constant on
// another: differentiate inside the piece. Nested calls, and calls while the pool is busy with another caller, run
// serially on the calling thread.
#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::parallel {

/// The number of threads used when a call passes 0: the environment variable XGRAD_NUM_THREADS if it is a positive
/// integer, else the machine's hardware threads.
std::size_t default_threads();

/// Runs body(i) for i in [0, n) on up to `threads` threads (0: default_threads()), the caller's among them, and
/// returns when all are done. While it runs with more than one thread, OpenBLAS is held to one thread per caller (no
/// oversubscription) and restored after. If bodies throw, the exception of the lowest index is rethrown after every
/// piece has finished.
void for_each_index(std::size_t n, const std::function<void(std::size_t)>& body, std::size_t threads = 0);

/// {f(0), ..., f(n - 1)}, computed on up to `threads` threads; the vector is in index order.
template <class F>
auto map(std::size_t n, F&& f, std::size_t threads = 0) {
  using R = std::remove_cvref_t<std::invoke_result_t<F&, std::size_t>>;
  std::vector<std::optional<R>> slots(n);
  for_each_index(n, [&](std::size_t i) { slots[i].emplace(f(i)); }, threads);
  std::vector<R> out;
  out.reserve(n);
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

/// The leafwise sum of pytrees, left to right: ((t_0 + t_1) + t_2) + ... (the fixed order that makes map_reduce
/// reproducible). Leaves are added as values, in one pass per leaf (no temporary per addition), and large leaves are
/// cut into pieces summed side by side on up to `threads` threads; each element is still added in index order, so
/// the result is the same bit for bit on any number of threads. The result is a constant tree. Throws ValueError
/// for no trees and ShapeError when the trees' structures or leaf shapes differ.
template <class T>
T sum_trees(const std::vector<T>& trees, std::size_t threads = 0) {
  if (trees.empty()) throw ValueError("xgrad::parallel::sum_trees: no trees to add");
  std::vector<std::vector<const double*>> terms;  // terms[leaf][tree]: the leaf's values in each tree
  std::vector<Array> sums;
  tree::for_each([&](const auto& leaf) { sums.push_back(Array::from_shape(tree::leaf_value(leaf).shape())); },
                 trees.front());
  terms.resize(sums.size());
  for (const T& t : trees) {
    std::size_t k = 0;
    tree::for_each(
        [&](const auto& first, const auto& leaf) {
          const Array& v = tree::leaf_value(leaf);
          if (v.shape() != tree::leaf_value(first).shape())
            throw ShapeError("xgrad::parallel::sum_trees: leaf " + std::to_string(k) + " has shape " +
                             shape_str(shape_of(v)) + " in one tree and " +
                             shape_str(shape_of(tree::leaf_value(first))) + " in the first");
          terms[k++].push_back(v.data());
        },
        trees.front(), t);
  }
  // Pieces of about 64k elements: enough work per piece to be worth a thread.
  constexpr std::size_t piece = std::size_t{1} << 16;
  struct Range {
    std::size_t leaf, begin, end;
  };
  std::vector<Range> ranges;
  for (std::size_t k = 0; k < sums.size(); ++k)
    for (std::size_t b = 0; b < sums[k].size(); b += piece) ranges.push_back({k, b, std::min(b + piece, sums[k].size())});
  for_each_index(
      ranges.size(),
      [&](std::size_t r) {
        const auto [k, b, e] = ranges[r];
        double* __restrict out = sums[k].data() + b;  // a fresh Array: it aliases no term
        const std::size_t m = e - b;
        std::copy(terms[k][0] + b, terms[k][0] + e, out);
        for (std::size_t i = 1; i < terms[k].size(); ++i) {
          const double* __restrict in = terms[k][i] + b;
          for (std::size_t j = 0; j < m; ++j) out[j] += in[j];
        }
      },
      threads);
  std::size_t k = 0;
  return tree::map([&](const auto&) { return std::move(sums[k++]); }, trees.front());
}

/// f(0) + f(1) + ... + f(n - 1) for pytree-valued f, computed on up to `threads` threads and added in index order.
template <class F>
auto map_reduce(std::size_t n, F&& f, std::size_t threads = 0) {
  return sum_trees(map(n, std::forward<F>(f), threads), threads);
}

}  // namespace xgrad::parallel
