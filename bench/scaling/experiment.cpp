#include "scaling/experiment.hpp"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <limits>
#include <set>

#include "core/date.hpp"
#include "core/errors.hpp"
#include "run/system_info.hpp"
#include "scaling/digest_check.hpp"
#include "scaling/run_launcher.hpp"
#include "scaling/run_telemetry.hpp"
#include "scaling/scaling_file.hpp"
#include "storage/database.hpp"

namespace tasnap::scaling {

namespace {

// Repeats are interleaved (repeat 0 at every M, then repeat 1, ...) rather than
// grouped, so a slow drift in machine load spreads over every worker count
// instead of biasing one of them.
constexpr const char* kOrder = "interleaved: for each repeat, every worker count in the order given";

constexpr int kLogTailLines = 20;

// "20261204T213000Z": sorts in time order, and is valid in an HDF5 link name.
std::string compact_utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// The output of `tasnap --version`, e.g. "0.1.0 (1a2b3c4d5e6f)".
std::string read_tasnap_version(const std::filesystem::path& tasnap) {
  const std::string command = "'" + tasnap.string() + "' --version 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "";
  std::array<char, 256> buffer{};
  std::string text;
  while (std::fgets(buffer.data(), buffer.size(), pipe)) text += buffer.data();
  pclose(pipe);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The commit in the parentheses of tasnap --version, else `fallback`.
std::string commit_of_version(const std::string& version, const std::string& fallback) {
  const auto open = version.find('(');
  const auto close = version.find(')', open);
  if (open == std::string::npos || close == std::string::npos) return fallback;
  return version.substr(open + 1, close - open - 1);
}

std::filesystem::path make_work_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tasnap-scaling-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    throw InputError("Cannot create a temporary folder from '" + pattern + "'. Check that TMPDIR is writable.");
  }
  return pattern;
}

std::vector<std::string> job_arguments(const ExperimentOptions& options, const std::filesystem::path& telemetry) {
  std::vector<std::string> args = {options.mode, "--db", options.db, "--telemetry-json", telemetry.string()};
  if (options.chunk_size) {
    args.push_back("--ticker-chunk-size");
    args.push_back(std::to_string(*options.chunk_size));
  }
  if (options.mode == "run" && !options.date.empty()) {
    args.push_back("--date");
    args.push_back(options.date);
  }
  if (options.mode == "backfill") {
    args.insert(args.end(), {"--from", options.from_date, "--to", options.to_date});
  }
  return args;
}

// The outcome of one launch: the HDF5 row, and the telemetry when tasnap wrote a valid one.
struct RunResult {
  RunRecord record;
  std::filesystem::path log_file;
  std::optional<RunTelemetry> telemetry;
  std::string error;
};

RunResult run_once(const ExperimentOptions& options, const std::filesystem::path& work_dir, int workers, int repeat,
                   int cores) {
  const std::string tag = "M" + std::to_string(workers) + "-r" + std::to_string(repeat);
  const std::filesystem::path telemetry_path = work_dir / (tag + ".json");
  Launch launch;
  launch.mpiexec = options.mpiexec;
  launch.workers = workers;
  launch.oversubscribe = workers > cores;
  launch.tasnap = options.tasnap;
  launch.job_args = job_arguments(options, telemetry_path);
  launch.log_file = work_dir / (tag + ".log");

  // The load average before the run separates a slow run on a busy host from a slow tasnap.
  double load_average = std::numeric_limits<double>::quiet_NaN();
  getloadavg(&load_average, 1);
  const LaunchResult launched = run_launch(launch);

  RunResult result;
  result.log_file = launch.log_file;
  RunRecord& record = result.record;
  record.workers = workers;
  record.repeat = repeat;
  record.wall_seconds = launched.wall_seconds;
  record.tasnap_wall_seconds = std::numeric_limits<double>::quiet_NaN();
  record.load_average = load_average;
  record.exit_code = launched.exit_code;
  record.oversubscribed = launch.oversubscribe;

  if (!std::filesystem::exists(telemetry_path)) {
    record.status = "no-telemetry";
    result.error = "tasnap exited with code " + std::to_string(launched.exit_code) +
                   " without writing telemetry; its output is in " + launch.log_file.string();
    return result;
  }
  try {
    result.telemetry = read_run_telemetry(telemetry_path);
  } catch (const InputError& e) {
    record.status = "invalid-telemetry";
    result.error = e.what();
    return result;
  }

  const RunTelemetry& telemetry = *result.telemetry;
  record.status = telemetry.status;
  record.digest = telemetry.digest;
  record.run_id = telemetry.run_id;
  record.tasnap_wall_seconds = telemetry.wall_seconds;
  record.ranks = telemetry.ranks;
  result.error = telemetry.error;

  // A run that reports success must also have exited cleanly with M ranks.
  if (record.status == kStatusSucceeded && launched.exit_code != 0) {
    record.status = "exit-code-" + std::to_string(launched.exit_code);
    result.error = "tasnap reported success but exited with code " + std::to_string(launched.exit_code);
  } else if (record.status == kStatusSucceeded &&
             (telemetry.workers != workers || static_cast<int>(telemetry.ranks.size()) != workers)) {
    record.status = "wrong-rank-count";
    result.error = "mpirun -np " + std::to_string(workers) + " gave a run with workers " +
                   std::to_string(telemetry.workers) + " and " + std::to_string(telemetry.ranks.size()) +
                   " rank entries";
  }
  if (record.ranks.size() > static_cast<std::size_t>(workers)) record.ranks.resize(workers);
  return result;
}

void warn_about_timings(const ExperimentOptions& options, int cores) {
  if (options.build_type == "Debug") {
    spdlog::warn("***WARNING*** the harness was built as Debug: timings of a debug tasnap are not representative");
  }
  for (int workers : options.workers) {
    if (workers > cores) {
      spdlog::warn("***WARNING*** M={} exceeds the {} physical cores: mpirun gets --oversubscribe, so ranks share "
                   "cores and the timings at M={} measure contention, not scaling",
                   workers, cores, workers);
    }
  }
}

ExperimentInfo describe_experiment(const ExperimentOptions& options, int cores) {
  ExperimentInfo info;
  info.label = options.label;
  info.host = run::host_name();
  info.physical_cores = cores;
  info.tasnap_version = read_tasnap_version(options.tasnap);
  info.git_commit = commit_of_version(info.tasnap_version, options.git_commit);
  info.compiler = options.compiler;
  info.build_type = options.build_type;
  info.mode = options.mode;
  info.chunk_size = options.chunk_size.value_or(0);
  info.date = options.date;
  info.from_date = options.from_date;
  info.to_date = options.to_date;
  info.workers = options.workers;
  info.repeats = options.repeats;
  info.order = kOrder;
  info.created_at = run::utc_timestamp();
  return info;
}

RunFacts run_facts_of(const RunTelemetry& telemetry) {
  RunFacts facts;
  facts.database = telemetry.database;
  facts.database_kind = storage::backend_of(telemetry.database) == storage::Backend::sqlite ? "sqlite" : "postgresql";
  facts.as_of_date = telemetry.as_of_date;
  facts.chunk_size = telemetry.chunk_size;
  facts.tickers = telemetry.tickers;
  facts.bars = telemetry.bars_read();
  facts.rows = telemetry.rows;
  return facts;
}

}  // namespace

void validate_options(ExperimentOptions& options) {
  if (options.db.empty()) throw InputError("Missing --db. Give the database URI, e.g. --db sqlite:prices.db.");
  if (options.workers.empty()) throw InputError("Missing --workers. Give worker counts, e.g. --workers 1,2,3,4.");
  std::set<int> seen;
  for (int workers : options.workers) {
    if (workers < 1) {
      throw InputError("Invalid worker count " + std::to_string(workers) + " in --workers. Give counts of 1 or more.");
    }
    if (!seen.insert(workers).second) {
      throw InputError("Worker count " + std::to_string(workers) + " appears twice in --workers. List each once "
                       "and use --repeats for repetitions.");
    }
  }
  if (options.repeats < 1) {
    throw InputError("Invalid --repeats " + std::to_string(options.repeats) + ". Give 1 or more.");
  }
  if (options.chunk_size && *options.chunk_size < 1) {
    throw InputError("Invalid --ticker-chunk-size " + std::to_string(*options.chunk_size) + ". Give 1 or more.");
  }

  if (options.mode == "run") {
    if (!options.from_date.empty() || !options.to_date.empty()) {
      throw InputError("--from and --to apply to --mode backfill only. Drop them, or add --mode backfill.");
    }
    if (!options.date.empty()) parse_date_or_throw(options.date, "--date");
  } else if (options.mode == "backfill") {
    if (options.from_date.empty() || options.to_date.empty()) {
      throw InputError("--mode backfill needs --from and --to (YYYY-MM-DD).");
    }
    if (!options.date.empty()) throw InputError("--date applies to --mode run only; backfill uses --from and --to.");
    parse_date_or_throw(options.from_date, "--from");
    parse_date_or_throw(options.to_date, "--to");
  } else {
    throw InputError("Invalid --mode '" + options.mode + "'. Give run or backfill.");
  }

  if (options.label.empty()) options.label = options.mode;
  const bool label_ok = std::all_of(options.label.begin(), options.label.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (!label_ok) {
    throw InputError("Invalid --label '" + options.label + "'. Use letters, digits, '-', '_' and '.' only; it "
                     "becomes part of an HDF5 group name.");
  }

  if (!std::filesystem::exists(options.tasnap)) {
    throw InputError("tasnap binary '" + options.tasnap.string() + "' not found. Build the tasnap target or give "
                     "its path with --tasnap.");
  }
  const std::filesystem::path out_dir = std::filesystem::absolute(options.out).parent_path();
  if (!std::filesystem::is_directory(out_dir)) {
    throw InputError("Folder '" + out_dir.string() + "' of --out does not exist. Create it or give another path.");
  }
}

int run_experiment(const ExperimentOptions& options) {
  if (allow_mpirun_as_root()) {
    spdlog::info("running as root: set OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 for mpirun");
  }
  const int cores = run::physical_cores();
  warn_about_timings(options, cores);

  const int max_ranks = *std::max_element(options.workers.begin(), options.workers.end());
  const std::string name = compact_utc_timestamp() + "_" + options.label;
  ScalingFile file(options.out);
  ExperimentWriter experiment = file.add_experiment(name, describe_experiment(options, cores), max_ranks);
  const std::filesystem::path work_dir = make_work_dir();
  spdlog::info("experiment {} started: workers {}, {} repeats, {} order, output {}", experiment.path(),
               fmt::join(options.workers, ","), options.repeats, "interleaved", options.out.string());

  DigestCheck check;
  std::vector<WallSample> samples;
  const int total_runs = options.repeats * static_cast<int>(options.workers.size());
  int run_number = 0;
  bool facts_written = false;
  for (int repeat = 0; repeat < options.repeats && check.problems().empty(); ++repeat) {
    for (int workers : options.workers) {
      ++run_number;
      spdlog::info("run {}/{} started: M={} repeat {}", run_number, total_runs, workers, repeat);
      RunResult result = run_once(options, work_dir, workers, repeat, cores);
      experiment.append_run(result.record);

      if (result.telemetry && result.record.status == kStatusSucceeded && !facts_written) {
        experiment.set_run_facts(run_facts_of(*result.telemetry));
        facts_written = true;
      }

      const auto problem = check.add(
          {workers, repeat, result.record.status, result.record.digest, result.error});
      if (problem) {
        spdlog::error("run {}/{} failed the check: {}", run_number, total_runs, *problem);
        spdlog::error("last lines of {}:\n{}", result.log_file.string(),
                      tail_of_file(result.log_file, kLogTailLines));
        break;
      }
      samples.push_back({workers, result.record.wall_seconds, repeat});
      spdlog::info("run {}/{} finished: M={} repeat {} wall {:.3f} s (tasnap {:.3f} s, load {:.1f}) digest {} "
                   "run_id {}",
                   run_number, total_runs, workers, repeat, result.record.wall_seconds,
                   result.record.tasnap_wall_seconds, result.record.load_average, result.record.digest,
                   result.record.run_id);
    }
  }

  const std::vector<WorkerSummary> summaries = summarize(samples, options.workers);
  experiment.write_summary(summaries);
  std::cout << "experiment " << options.out.string() << ":" << experiment.path() << "\n";
  print_summary_table(std::cout, summaries);
  experiment.close();
  file.close();

  if (!check.problems().empty()) {
    spdlog::error("experiment {} failed: {} (runs recorded with their status; logs kept in {})", experiment.path(),
                  check.problems().front(), work_dir.string());
    return exit_code::kRunFailed;
  }
  std::filesystem::remove_all(work_dir);
  spdlog::info("experiment {} finished: {} runs, digest {}", experiment.path(), experiment.runs(),
               check.reference() ? check.reference()->digest : "");
  return exit_code::kSuccess;
}

}  // namespace tasnap::scaling
