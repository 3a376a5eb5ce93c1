// A rank that throws while the others wait in a collective: the job must end (MPI_Abort through dist::Environment),
// with a message naming the rank, not hang. ctest runs it on 2 ranks with a timeout and checks the message.
#include <stdexcept>
#include <xgrad/dist/communicator.hpp>

int main(int argc, char** argv) {
  xgrad::dist::Environment mpi(argc, argv);
  const auto world = xgrad::dist::Communicator::world();
  if (world.rank() == 1) throw std::runtime_error("bad shard on rank 1");
  double x = 1.0;
  world.allreduce_sum(&x, 1);  // rank 0 waits here for a rank that will never come
  return 0;
}
