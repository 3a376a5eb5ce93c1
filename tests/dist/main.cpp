// doctest's main under MPI: every rank runs every test case in the same order, so collectives line up.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <xgrad/dist/communicator.hpp>

int main(int argc, char** argv) {
  xgrad::dist::Environment mpi(argc, argv);
  doctest::Context context(argc, argv);
  const int failed = context.run();
  // Every rank's verdict counts: a failure on one rank fails the run on all.
  double bad = failed ? 1.0 : 0.0;
  xgrad::dist::Communicator::world().allreduce_sum(&bad, 1);
  return bad > 0 ? 1 : 0;
}
