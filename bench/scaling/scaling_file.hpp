// The HDF5 file of scaling experiments. Each experiment is one group,
// /experiments/<UTC timestamp>_<label>, with attributes describing the machine,
// build and job, one row per run in extendible datasets, per-rank phase times
// in (runs x max ranks) datasets, and a summary/ subgroup of derived figures.
// The layout is described field by field in results/README.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/telemetry.hpp"
#include "scaling/hdf5_checked.hpp"
#include "scaling/scaling_summary.hpp"

namespace tasnap::scaling {

// Version of the experiment group layout, stored as its schema_version attribute.
inline constexpr int kLayoutVersion = 1;

// Attributes known before the first run starts.
struct ExperimentInfo {
  std::string label;
  std::string host;
  int physical_cores = 0;
  std::string git_commit;
  std::string tasnap_version;  // output of tasnap --version
  std::string compiler;
  std::string build_type;
  std::string mode;            // "run" or "backfill"
  std::int64_t chunk_size = 0;
  std::string date;            // requested --date; empty means the latest trade date
  std::string from_date;       // backfill only
  std::string to_date;         // backfill only
  std::vector<int> workers;    // worker counts in the order given
  int repeats = 0;
  std::string order;           // how repeats and worker counts were ordered
  std::string created_at;      // UTC, ISO 8601
};

// Attributes taken from the first successful run's telemetry.
struct RunFacts {
  std::string database;       // redacted URI
  std::string database_kind;  // "sqlite" or "postgresql"
  std::string as_of_date;
  std::int64_t chunk_size = 0;
  std::int64_t tickers = 0;
  std::int64_t bars = 0;      // sum of bars_read over the ranks
  std::int64_t rows = 0;
};

// One row of the per-run datasets.
struct RunRecord {
  int workers = 0;
  int repeat = 0;
  double wall_seconds = 0;         // measured by the harness around mpirun
  double tasnap_wall_seconds = 0;  // reported by tasnap; NaN without telemetry
  double load_average = 0;         // the host's 1-minute load average just before the run
  int exit_code = 0;
  bool oversubscribed = false;
  std::string status;
  std::string digest;
  std::string run_id;
  std::vector<RankTelemetry> ranks;  // in rank order; at most the experiment's max ranks
};

class ExperimentWriter;

class ScalingFile {
 public:
  // Opens `path` read-write, or creates it when missing (without world-write
  // permission). An existing file is never truncated. Throws InputError when
  // the file exists but is not HDF5, and Hdf5Error when HDF5 fails.
  explicit ScalingFile(const std::filesystem::path& path);

  // Creates the group /experiments/<name> with `info` as attributes and empty
  // datasets sized for up to `max_ranks` ranks per run. Throws InputError when
  // the group already exists. Older groups are never touched.
  ExperimentWriter add_experiment(const std::string& name, const ExperimentInfo& info, int max_ranks);

  // Flushes and closes the file, throwing Hdf5Error on failure.
  void close();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  Hid file_;
};

class ExperimentWriter {
 public:
  ExperimentWriter(Hid group, std::string path, int max_ranks);

  // Writes the attributes taken from a run's telemetry. A later call overwrites them.
  void set_run_facts(const RunFacts& facts);

  // Appends one run to every per-run and per-rank dataset, then flushes the file,
  // so the runs written so far survive a crash of the harness.
  void append_run(const RunRecord& run);

  // Writes summary/ with one entry per worker count, replacing an earlier summary.
  void write_summary(const std::vector<WorkerSummary>& summaries);

  // Closes the group, throwing Hdf5Error on failure.
  void close() { group_.close(); }

  const std::string& path() const { return path_; }
  std::int64_t runs() const { return runs_; }

 private:
  Hid group_;
  std::string path_;
  int max_ranks_ = 0;
  std::int64_t runs_ = 0;
};

}  // namespace tasnap::scaling
