#include "xgrad/dist/communicator.hpp"

#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "xgrad/core/error.hpp"

namespace xgrad::dist {

namespace {

MPI_Comm comm_of(int handle) { return MPI_Comm_f2c(handle); }

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("xgrad::dist: ") + call + " failed: " + std::string(text, static_cast<std::size_t>(len)));
}

int world_rank() {
  int r = -1;
  if (initialized()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

std::terminate_handler previous_terminate = nullptr;

[[noreturn]] void terminate_all() {
  std::string what = "terminate called";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = std::string("uncaught exception: ") + ex.what();
    } catch (...) {
      what = "uncaught exception of unknown type";
    }
  }
  abort(what + "; aborting every rank");
}

// MPI counts are ints: send a long buffer in pieces.
template <class Fn>
void in_chunks(double* data, std::size_t n, Fn fn) {
  constexpr std::size_t most = INT_MAX / 2;
  for (std::size_t off = 0; off < n; off += most) fn(data + off, static_cast<int>(std::min(most, n - off)));
}

}  // namespace

Environment::Environment(int& argc, char**& argv) {
  if (initialized()) throw MisuseError("xgrad::dist::Environment: MPI is already initialized (one per process)");
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (turned into exceptions above) rather than killing the job silently.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  previous_terminate = std::set_terminate(terminate_all);
}

Environment::~Environment() {
  if (std::uncaught_exceptions() > 0) abort("an exception is leaving main; aborting every rank");
  std::set_terminate(previous_terminate);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

bool initialized() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

void abort(const std::string& message, int code) {
  std::fprintf(stderr, "xgrad::dist: rank %d: %s\n", world_rank(), message.c_str());
  std::fflush(stderr);
  if (initialized()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

Communicator Communicator::world() {
  if (!initialized())
    throw MisuseError("xgrad::dist::Communicator::world: MPI is not initialized (make a dist::Environment in main)");
  return Communicator(static_cast<int>(MPI_Comm_c2f(MPI_COMM_WORLD)));
}

int Communicator::rank() const {
  int r = 0;
  check(MPI_Comm_rank(comm_of(handle_), &r), "MPI_Comm_rank");
  return r;
}

int Communicator::size() const {
  int s = 0;
  check(MPI_Comm_size(comm_of(handle_), &s), "MPI_Comm_size");
  return s;
}

void Communicator::barrier() const { check(MPI_Barrier(comm_of(handle_)), "MPI_Barrier"); }

void Communicator::allreduce_sum(double* data, std::size_t n) const {
  in_chunks(data, n, [&](double* p, int k) {
    check(MPI_Allreduce(MPI_IN_PLACE, p, k, MPI_DOUBLE, MPI_SUM, comm_of(handle_)), "MPI_Allreduce");
  });
}

void Communicator::broadcast(double* data, std::size_t n, int root) const {
  if (root < 0 || root >= size())
    throw ValueError("xgrad::dist::broadcast: root " + std::to_string(root) + " is not a rank of a group of " +
                     std::to_string(size()));
  in_chunks(data, n, [&](double* p, int k) { check(MPI_Bcast(p, k, MPI_DOUBLE, root, comm_of(handle_)), "MPI_Bcast"); });
}

Communicator Communicator::split(int color) const {
  MPI_Comm out;
  check(MPI_Comm_split(comm_of(handle_), color, rank(), &out), "MPI_Comm_split");
  MPI_Comm_set_errhandler(out, MPI_ERRORS_RETURN);
  return Communicator(static_cast<int>(MPI_Comm_c2f(out)));
}

}  // namespace xgrad::dist
