#pragma once
// MPI for xgrad (optional module xgrad::dist, built when CMake finds MPI): the process group and its collectives on
// flat buffers. The pytree collectives are in xgrad/dist/collectives.hpp. mpi.h is not included here: a program
// links xgrad::dist and never needs MPI's headers itself.
//
//   int main(int argc, char** argv) {
//     xgrad::dist::Environment mpi(argc, argv);        // MPI_Init_thread ... MPI_Finalize
//     const auto world = xgrad::dist::Communicator::world();
//     std::printf("rank %d of %d\n", world.rank(), world.size());
//   }
//
// Run with `mpirun -np 4 ./program` (as root add --allow-run-as-root; more ranks than cores: --oversubscribe), or
// across machines with `mpirun -np 64 --hostfile hosts ./program`, or under Slurm with `srun ./program`.
#include <cstddef>
#include <string>

namespace xgrad::dist {

/// MPI for the lifetime of this object (one per process, in main): MPI_Init_thread (funneled: only the thread that
/// made it calls MPI; the parallel map's pool threads never do) and MPI_Finalize. If the process leaves main with an
/// exception, or calls std::terminate, every rank is aborted with a message naming this rank, instead of leaving
/// the others waiting in a collective forever.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

/// True between MPI_Init and MPI_Finalize.
bool initialized();

/// Aborts every rank of the job (MPI_Abort) after printing "xgrad::dist: rank r: <message>" to stderr.
[[noreturn]] void abort(const std::string& message, int code = 1);

/// A group of processes (an MPI communicator): its size, this process's rank, and the collectives xgrad needs, on
/// contiguous buffers of doubles. Copies refer to the same communicator.
class Communicator {
 public:
  /// Every process of the job (MPI_COMM_WORLD).
  static Communicator world();
  int rank() const;
  int size() const;
  /// Waits until every rank has called it.
  void barrier() const;
  /// data[i] = sum over ranks of data[i], on every rank (MPI_Allreduce, in place). The reduction order is MPI's:
  /// the same on every rank of one run, not necessarily the left-to-right sum.
  void allreduce_sum(double* data, std::size_t n) const;
  /// data = root's data, on every rank (MPI_Bcast).
  void broadcast(double* data, std::size_t n, int root = 0) const;
  /// The sub-group of the ranks that pass the same color, ordered by their rank here (MPI_Comm_split).
  Communicator split(int color) const;

 private:
  explicit Communicator(int handle) : handle_(handle) {}
  int handle_;  // the communicator as MPI's Fortran handle (MPI_Comm_c2f): an int, so mpi.h stays in the source
};

}  // namespace xgrad::dist
