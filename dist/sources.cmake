# xgrad::dist — optional: collectives on pytrees over MPI (Debian's OpenMPI), built when CMake finds MPI.
find_package(MPI COMPONENTS CXX QUIET)
if(MPI_CXX_FOUND)
  xgrad_module(dist
    SOURCES dist/src/communicator.cpp
    DEPS xgrad::core)
  target_link_libraries(xgrad_dist PRIVATE MPI::MPI_CXX)  # mpi.h stays out of the public headers
  set(XGRAD_HAVE_DIST ON)
  message(STATUS "xgrad: MPI ${MPI_CXX_VERSION} found, building xgrad::dist")
else()
  set(XGRAD_HAVE_DIST OFF)
  message(STATUS "xgrad: MPI not found, xgrad::dist skipped (apt-get install libopenmpi-dev openmpi-bin)")
endif()
