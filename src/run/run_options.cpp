#include "run/run_options.hpp"
