#pragma once
// Collectives on pytrees across the ranks of an MPI job: each is one MPI call on the raveled tree (all leaves in one
// contiguous buffer), never one per leaf.
//
//   auto g = dist::allreduce_mean(grad(loss)(params, my_shard));     // the same mean gradient on every rank
//   params = dist::broadcast(params);                                 // rank 0's parameters everywhere
//   auto vg = dist::mean_over_ranks(value_and_grad(loss));            // a data-parallel value_and_grad
//
// Every rank must pass a tree of the same structure and leaf shapes (the buffers must have equal lengths).
#include <functional>
#include <utility>

#include "xgrad/core/array.hpp"
#include "xgrad/core/tree.hpp"
#include "xgrad/dist/communicator.hpp"

namespace xgrad::dist {

/// The leafwise sum over the ranks of `comm` of each rank's `tree`, on every rank.
template <class T>
T allreduce_sum(const T& tree, const Communicator& comm = Communicator::world()) {
  auto [flat, unravel] = tree::ravel(tree);
  comm.allreduce_sum(flat.data(), flat.size());
  return unravel(flat);
}

/// The leafwise mean over the ranks of `comm` of each rank's `tree`, on every rank.
template <class T>
T allreduce_mean(const T& tree, const Communicator& comm = Communicator::world()) {
  auto [flat, unravel] = tree::ravel(tree);
  comm.allreduce_sum(flat.data(), flat.size());
  flat *= 1.0 / static_cast<double>(comm.size());
  return unravel(flat);
}

/// Rank `root`'s tree on every rank (the others' values are replaced; their structure and shapes must match).
template <class T>
T broadcast(const T& tree, int root = 0, const Communicator& comm = Communicator::world()) {
  auto [flat, unravel] = tree::ravel(tree);
  comm.broadcast(flat.data(), flat.size(), root);
  return unravel(flat);
}

/// Data parallelism: `vg(params, args...)` returns {value, grad} for this rank's shard of the data (args); the
/// returned function returns the means over the ranks of both, the same on every rank, so that every rank applies
/// the same update and the parameters stay equal everywhere. One allreduce per call (value and gradient together).
/// With shards of equal size and a loss that is a mean over examples, the result is the full batch's.
template <class VG>
auto mean_over_ranks(VG vg, Communicator comm = Communicator::world()) {
  return [vg = std::move(vg), comm](const auto& params, const auto&... args) {
    auto r = vg(params, args...);
    using V = std::remove_cvref_t<decltype(r.first)>;
    using G = std::remove_cvref_t<decltype(r.second)>;
    return allreduce_mean(std::pair<V, G>(std::move(r.first), std::move(r.second)), comm);
  };
}

/// A function that sums a flat Array over the ranks of `comm` (what learn::MetaOptions::sum_over_processes takes:
/// data-parallel meta-training, each rank on its own tasks).
inline std::function<Array(Array)> sum_over_ranks(Communicator comm = Communicator::world()) {
  return [comm](Array a) {
    comm.allreduce_sum(a.data(), a.size());
    return a;
  };
}

}  // namespace xgrad::dist
