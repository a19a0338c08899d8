// tasnap_scaling: runs the tasnap job at several worker counts under mpirun,
// appends every run and every rank's phase times to an HDF5 file, checks that
// all runs produced the same digest, and prints the scaling table.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "core/errors.hpp"
#include "scaling/experiment.hpp"
#include "scaling/hdf5_checked.hpp"

#ifndef TASNAP_SCALING_DEFAULT_TASNAP
#define TASNAP_SCALING_DEFAULT_TASNAP "tasnap"
#endif
#ifndef TASNAP_SCALING_MPIEXEC
#define TASNAP_SCALING_MPIEXEC "mpirun"
#endif
#ifndef TASNAP_SCALING_COMPILER
#define TASNAP_SCALING_COMPILER "unknown"
#endif
#ifndef TASNAP_SCALING_BUILD_TYPE
#define TASNAP_SCALING_BUILD_TYPE "unknown"
#endif
#ifndef TASNAP_GIT_COMMIT
#define TASNAP_GIT_COMMIT "unknown"
#endif

int main(int argc, char** argv) {
  using namespace tasnap;

  scaling::ExperimentOptions options;
  options.tasnap = TASNAP_SCALING_DEFAULT_TASNAP;
  options.mpiexec = TASNAP_SCALING_MPIEXEC;
  options.compiler = TASNAP_SCALING_COMPILER;
  options.build_type = TASNAP_SCALING_BUILD_TYPE;
  options.git_commit = TASNAP_GIT_COMMIT;

  CLI::App app{"tasnap_scaling: scaling curves of the tasnap job across worker counts, recorded in HDF5.\n"
               "Repeats are interleaved (repeat 0 at every worker count, then repeat 1, ...) so that drift in "
               "machine load spreads over all worker counts."};
  std::int64_t chunk_size = 0;
  app.add_option("--db", options.db, "Database URI given to tasnap --db (sqlite:PATH or a PostgreSQL URI)")
      ->required();
  app.add_option("--workers", options.workers, "Comma-separated worker counts M, run in this order, e.g. 1,2,3,4")
      ->delimiter(',')
      ->required();
  app.add_option("--repeats", options.repeats, "Runs per worker count")->capture_default_str();
  auto* chunk_option = app.add_option("--ticker-chunk-size", chunk_size, "Tickers per chunk (default: tasnap's)");
  app.add_option("--date", options.date, "Snapshot date YYYY-MM-DD for --mode run (default: latest trade date)");
  app.add_option("--mode", options.mode, "Job to time: run (one date) or backfill (a date range)")
      ->capture_default_str();
  app.add_option("--from", options.from_date, "First date of the backfill range, YYYY-MM-DD");
  app.add_option("--to", options.to_date, "Last date of the backfill range, YYYY-MM-DD");
  app.add_option("--out", options.out, "HDF5 file; created when missing, else a new experiment group is appended")
      ->capture_default_str();
  app.add_option("--label", options.label, "Suffix of the experiment group name (default: the mode)");
  app.add_option("--tasnap", options.tasnap, "tasnap binary to run")->capture_default_str();
  app.add_option("--mpiexec", options.mpiexec, "mpirun program")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : exit_code::kInvalidInput;
  }
  if (chunk_option->count() > 0) options.chunk_size = chunk_size;

  try {
    scaling::validate_options(options);
    return scaling::run_experiment(options);
  } catch (const InputError& e) {
    spdlog::error("{}", e.what());
    return exit_code::kInvalidInput;
  } catch (const scaling::Hdf5Error& e) {
    spdlog::error("{}", e.what());
    return exit_code::kRunFailed;
  } catch (const std::exception& e) {
    spdlog::critical("Internal error: {}", e.what());
    return exit_code::kInternal;
  }
}
