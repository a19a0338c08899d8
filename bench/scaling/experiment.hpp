// One scaling experiment: the same tasnap job run at several worker counts,
// several times each, recorded in the HDF5 file and checked for equal digests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tasnap::scaling {

struct ExperimentOptions {
  std::string db;                          // database URI passed to tasnap --db
  std::vector<int> workers;                // worker counts, in the order given
  int repeats = 1;
  std::optional<std::int64_t> chunk_size;  // tasnap's default when unset
  std::string date;                        // run mode; empty = latest trade date
  std::string mode = "run";                // "run" or "backfill"
  std::string from_date;                   // backfill only
  std::string to_date;                     // backfill only
  std::filesystem::path out = "results/scaling.h5";
  std::string label;                       // defaults to the mode
  std::filesystem::path tasnap;
  std::string mpiexec = "mpirun";

  // Facts about the build that made the harness and, by default, tasnap.
  std::string compiler;
  std::string build_type;
  std::string git_commit;
};

// Throws InputError naming the first invalid option and the fix; fills the label default.
void validate_options(ExperimentOptions& options);

// Runs the experiment and returns the process exit code: 0 when every run
// succeeded with the same digest, 1 (after recording the bad run) otherwise.
int run_experiment(const ExperimentOptions& options);

}  // namespace tasnap::scaling
