// Starting the ranks of a run when tasnap itself was not started by mpirun.
#pragma once

#include <string>
#include <vector>

namespace tasnap::run {

// The worker count used when --workers is not given: physical cores - 1, at
// most 8, at least 1 (one core stays free for the database server).
int default_workers();

// Replaces this process with `mpirun -np workers <this program> args...`,
// adding --oversubscribe when workers exceed the physical cores. Returns only
// by throwing when mpirun cannot be started.
[[noreturn]] void relaunch_under_mpirun(int workers, const std::vector<std::string>& args);

}  // namespace tasnap::run
