#pragma once
// The optional dist module (built when CMake finds MPI): the process group and collectives on pytrees.
#include "xgrad/dist/collectives.hpp"
#include "xgrad/dist/communicator.hpp"
