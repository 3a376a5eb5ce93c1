#include "xgrad/ad/tape.hpp"
