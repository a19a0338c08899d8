#include "parallel/chunk_plan.hpp"
