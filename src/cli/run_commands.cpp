// The run, backfill and compare subcommands.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <limits>
#include <memory>

#include "cli/common.hpp"
#include "core/errors.hpp"
#include "parallel/world.hpp"
#include "run/compare.hpp"
#include "run/job.hpp"
#include "run/launcher.hpp"
#include "run/run_options.hpp"
#include "run/system_info.hpp"

namespace tasnap::cli {

namespace {

constexpr int kWorkersNotGiven = std::numeric_limits<int>::min();

// Flags as typed, converted and checked once the command line is complete.
struct JobFlags {
  std::string date;
  std::string from;
  std::string to;
  std::string history_start;
  std::int64_t chunk_size = 250;
  std::string tickers;
  std::string tickers_file;
  std::string telemetry_json;
  int max_retries = 3;
  int workers = kWorkersNotGiven;
};

run::RunOptions to_run_options(const JobFlags& flags, const GlobalOptions& global, run::Mode mode) {
  run::RunOptions options;
  options.mode = mode;
  options.db = global.db;
  options.db.uri = resolve_db_uri(global.db.uri);
  options.db.create_if_missing = false;
  storage::backend_of(options.db.uri);  // an unknown scheme fails here, before mpirun starts

  if (!flags.date.empty()) options.as_of = parse_date_or_throw(flags.date, "--date");
  if (!flags.from.empty()) options.from = parse_date_or_throw(flags.from, "--from");
  if (!flags.to.empty()) options.to = parse_date_or_throw(flags.to, "--to");
  if (!flags.history_start.empty()) options.history_start = parse_date_or_throw(flags.history_start, "--history-start");
  if (mode == run::Mode::backfill && *options.from > *options.to) {
    throw InputError("The backfill range is empty: --from " + flags.from + " is after --to " + flags.to +
                     ". Give --from on or before --to.");
  }

  if (flags.chunk_size < 1) {
    throw InputError("Invalid --ticker-chunk-size " + std::to_string(flags.chunk_size) +
                     ". Give a whole number of tickers per chunk, at least 1 (default 250).");
  }
  options.chunk_size = flags.chunk_size;

  if (!flags.tickers.empty()) options.tickers = run::split_tickers(flags.tickers);
  if (!flags.tickers_file.empty()) options.tickers = run::read_tickers_file(flags.tickers_file);

  if (flags.max_retries < 0) {
    throw InputError("Invalid --max-retries " + std::to_string(flags.max_retries) + ". Give 0 or more.");
  }
  options.max_retries = flags.max_retries;
  options.telemetry_json = flags.telemetry_json;
  if (flags.workers != kWorkersNotGiven) {
    if (flags.workers < 1) {
      throw InputError("Invalid --workers " + std::to_string(flags.workers) + ". Give 1 or more ranks.");
    }
    options.workers = flags.workers;
  }
  return options;
}

void add_job_flags(CLI::App& command, JobFlags& flags) {
  command.add_option("--ticker-chunk-size", flags.chunk_size, "Tickers per chunk (read, computed and upserted together)")
      ->capture_default_str();
  command.add_option("--history-start", flags.history_start,
                     "First trade date (YYYY-MM-DD) of the history used; default: all stored bars");
  auto* tickers = command.add_option("--tickers", flags.tickers, "Comma-separated tickers instead of the whole universe");
  command.add_option("--tickers-file", flags.tickers_file, "File with one ticker per line instead of the whole universe")
      ->excludes(tickers);
  command.add_option("--telemetry-json", flags.telemetry_json, "Also write the run summary and per-rank telemetry here");
  command.add_option("--max-retries", flags.max_retries, "Retries of a chunk after a transient database error")
      ->capture_default_str();
  command.add_option("--workers", flags.workers,
                     "Ranks to start through mpirun when not already under mpirun (default: physical cores - 1, "
                     "at most 8); under mpirun it must equal the world size");
}

// Starts the MPI ranks when needed, then runs the job on this rank.
int launch_job(const run::RunOptions& options, GlobalOptions& global) {
  if (!run::started_by_mpirun()) {
    const int workers = options.workers.value_or(run::default_workers());
    if (workers > 1) {
      setup_logging(global.log_level);
      run::relaunch_under_mpirun(workers, std::vector<std::string>(global.argv + 1, global.argv + global.argc));
    }
  }

  parallel::World world(global.argc, global.argv);
  setup_logging(global.log_level, world.rank());
  if (options.workers && *options.workers != world.size()) {
    if (world.is_root()) {
      spdlog::error("--workers {} disagrees with the {} ranks mpirun started. Drop --workers under mpirun, or give "
                    "the same number to mpirun -np.",
                    *options.workers, world.size());
    }
    return exit_code::kInvalidInput;
  }
  return run::run_job(world, options);
}

}  // namespace

void register_run_commands(CLI::App& app, GlobalOptions& options, int& exit_status) {
  // run
  auto run_flags = std::make_shared<JobFlags>();
  CLI::App* run = app.add_subcommand("run", "Compute and upsert the snapshot of every ticker for one date");
  add_db_options(*run, options);
  run->add_option("--date", run_flags->date, "Snapshot date YYYY-MM-DD (default: latest trade date in the prices)");
  add_job_flags(*run, *run_flags);
  run->callback([run_flags, &options, &exit_status] {
    exit_status = launch_job(to_run_options(*run_flags, options, run::Mode::run), options);
  });

  // backfill
  auto backfill_flags = std::make_shared<JobFlags>();
  CLI::App* backfill =
      app.add_subcommand("backfill", "Compute and upsert the snapshots of every date in a range, in one pass per ticker");
  add_db_options(*backfill, options);
  backfill->add_option("--from", backfill_flags->from, "First date of the range, YYYY-MM-DD")->required();
  backfill->add_option("--to", backfill_flags->to, "Last date of the range, YYYY-MM-DD")->required();
  add_job_flags(*backfill, *backfill_flags);
  backfill->callback([backfill_flags, &options, &exit_status] {
    exit_status = launch_job(to_run_options(*backfill_flags, options, run::Mode::backfill), options);
  });

  // compare
  auto compare_flags = std::make_shared<std::array<std::string, 3>>();
  CLI::App* compare = app.add_subcommand("compare", "Compare two runs ticker by ticker and rank by rank");
  add_db_options(*compare, options);
  compare->add_option("RUN_A", (*compare_flags)[0], "First run id")->required();
  compare->add_option("RUN_B", (*compare_flags)[1], "Second run id")->required();
  compare->add_option("--db-b", (*compare_flags)[2], "Database of RUN_B when it differs from --db");
  compare->callback([compare_flags, &options, &exit_status] {
    setup_logging(options.log_level);
    storage::DbConfig config_a = options.db;
    config_a.uri = resolve_db_uri(options.db.uri);
    config_a.create_if_missing = false;
    auto database_a = storage::open_database(config_a);
    std::unique_ptr<storage::Database> database_b;
    if (!(*compare_flags)[2].empty()) {
      storage::DbConfig config_b = options.db;
      config_b.uri = (*compare_flags)[2];
      config_b.create_if_missing = false;
      database_b = storage::open_database(config_b);
    }
    const bool identical = run::compare_runs(*database_a, (*compare_flags)[0], database_b ? *database_b : *database_a,
                                             (*compare_flags)[1], std::cout);
    exit_status = identical ? exit_code::kSuccess : exit_code::kRunFailed;
  });
}

}  // namespace tasnap::cli
