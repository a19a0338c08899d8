#include "run/job.hpp"

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <random>

#include <unistd.h>

#include "core/digest.hpp"
#include "core/errors.hpp"
#include "parallel/chunk_plan.hpp"
#include "run/chunk_worker.hpp"
#include "run/run_summary.hpp"
#include "run/system_info.hpp"
#include "storage/database.hpp"
#include "storage/schema.hpp"

#ifndef TASNAP_GIT_COMMIT
#define TASNAP_GIT_COMMIT "unknown"
#endif

namespace tasnap::run {

namespace {

// The plan rank 0 makes before any work. Other ranks see it only through
// RunSetup and their chunk lists.
struct Plan {
  storage::RunRecord record;
  std::vector<parallel::Chunk> chunks;
};

std::string make_run_id() {
  std::random_device device;
  const std::string stamp = utc_timestamp();  // 2026-12-04T21:12:08.123Z
  std::string compact;
  for (const char c : stamp.substr(0, 19)) {
    if (c != '-' && c != ':') compact += c;
  }
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%06x", device() & 0xffffffu);
  return compact + "Z-" + suffix;
}

// Hash of the parameters that affect the values written: two runs with equal
// hashes over the same prices must write equal rows. Worker count and chunk
// size are deliberately left out because they never change a value.
std::string params_hash(const RunOptions& options, const storage::RunRecord& record) {
  std::string canonical = "v1|" + record.mode + "|" + format_date(record.as_of_date);
  canonical += "|from=" + (record.from_date ? format_date(*record.from_date) : std::string("-"));
  canonical += "|history_start=" + (options.history_start ? format_date(*options.history_start) : std::string("-"));
  canonical += "|tickers=";
  for (const std::string& ticker : options.tickers) {
    canonical += std::to_string(ticker.size()) + ":" + ticker;
  }
  char text[24];
  std::snprintf(text, sizeof text, "%016" PRIx64, static_cast<std::uint64_t>(XXH3_64bits(canonical.data(), canonical.size())));
  return text;
}

// Marks runs left "running" by a process that no longer exists as abandoned.
void mark_abandoned_runs(storage::RunLog& log) {
  const std::string this_host = host_name();
  for (const storage::RunRecord& stale : log.runs_with_status("running")) {
    if (stale.host != this_host) {
      spdlog::warn("run {} on host {} is still marked running; it is left alone because its process "
                   "cannot be checked from {}",
                   stale.run_id, stale.host, this_host);
      continue;
    }
    if (tasnap_process_alive(stale.pid)) continue;

    log.set_run_status(stale.run_id, "abandoned",
                       "the process (pid " + std::to_string(stale.pid) + ") ended without finishing the run");
    spdlog::warn("run {} (pid {}, started {}) ended without finishing; marked abandoned", stale.run_id,
                 stale.pid, stale.started_at);
  }
}

// Rank 0: resolves the dates and the universe, plans the chunks and records the run.
Plan plan_run(storage::Database& database, const RunOptions& options, int world_size) {
  Plan plan;
  storage::RunRecord& record = plan.record;

  // Check the setup before anything is written.
  database.check_schema();
  if (const auto free = database.free_connections(); free && *free < world_size - 1) {
    throw DatabaseError("The database at " + database.describe() + " accepts " + std::to_string(*free) +
                        " more connections, but this run needs " + std::to_string(world_size - 1) +
                        " (one per rank besides rank 0). Use fewer workers or raise max_connections.");
  }

  const auto latest = database.latest_trade_date();
  if (!latest) {
    throw InputError("The price table '" + options.db.tables.prices + "' in " + database.describe() +
                     " holds no bars. Load bars with 'tasnap load' or 'tasnap gen' first.");
  }

  // Resolve the date range.
  Date from;
  if (options.mode == Mode::run) {
    record.as_of_date = options.as_of.value_or(*latest);
    from = record.as_of_date;
    if (!options.as_of) spdlog::info("no --date given: using the latest trade date {}", format_date(*latest));
  } else {
    from = *options.from;
    record.as_of_date = *options.to;
    record.from_date = from;
  }
  if (options.history_start && *options.history_start > from) {
    throw InputError("The history start " + format_date(*options.history_start) + " is after " +
                     (options.mode == Mode::run ? "the run date " : "the start of the range ") + format_date(from) +
                     ". Give a --history-start on or before it.");
  }

  // The universe: the given tickers, or every ticker with a bar in the range.
  std::vector<std::string> universe = options.tickers;
  if (universe.empty()) {
    universe = database.tickers_with_bars_between(from, record.as_of_date);
    if (universe.empty()) {
      const std::string range_text = options.mode == Mode::run ? "on " + format_date(from)
                                                         : "between " + format_date(from) + " and " +
                                                               format_date(record.as_of_date);
      throw InputError("No ticker has a bar " + range_text + ". The latest date with bars is " + format_date(*latest) +
                       ". Give a date that has bars.");
    }
  }
  parallel::sort_universe(universe);
  plan.chunks = parallel::plan_chunks(universe, options.chunk_size);

  // Close out runs that died, then record this one.
  mark_abandoned_runs(database);
  record.run_id = make_run_id();
  record.mode = options.mode == Mode::run ? "run" : "backfill";
  record.started_at = utc_timestamp();
  record.status = "running";
  record.history_start = options.history_start;
  record.workers = world_size;
  record.chunk_size = options.chunk_size;
  record.tickers = static_cast<std::int64_t>(universe.size());
  record.version = TASNAP_GIT_COMMIT;
  record.params_hash = params_hash(options, record);
  record.host = host_name();
  record.pid = process_id();
  database.insert_run(record);
  return plan;
}

int exit_code_of(const std::exception& error) {
  if (dynamic_cast<const InputError*>(&error)) return exit_code::kInvalidInput;
  if (dynamic_cast<const DatabaseError*>(&error)) return exit_code::kDatabase;
  return exit_code::kInternal;
}

// Rank 0: follows the progress notes of every rank. On a terminal it redraws
// one status line; otherwise (a log file, a pipe) it logs a line per chunk.
class ProgressTracker {
 public:
  ProgressTracker(std::int64_t chunk_count, double started)
      : chunk_count_(chunk_count), started_(started), on_terminal_(isatty(STDERR_FILENO) == 1) {}

  ~ProgressTracker() {
    if (line_drawn_) std::fputc('\n', stderr);
  }

  void record(const parallel::ChunkProgress& progress) {
    ++finished_;
    rows_ += progress.rows;
    const double elapsed = monotonic_seconds() - started_;
    const double rate = elapsed > 0 ? static_cast<double>(rows_) / elapsed : 0.0;
    const double left = elapsed * static_cast<double>(chunk_count_ - finished_) / static_cast<double>(finished_);

    if (progress.failed) {
      if (line_drawn_) std::fputc('\n', stderr);
      line_drawn_ = false;
      spdlog::error("chunk {} on rank {} failed ({}/{} chunks finished)", progress.chunk, progress.rank, finished_,
                    chunk_count_);
      return;
    }
    if (on_terminal_) {
      constexpr int kBarWidth = 30;
      const int filled = static_cast<int>(kBarWidth * finished_ / std::max<std::int64_t>(chunk_count_, 1));
      std::fprintf(stderr, "\r[%-*s] %lld/%lld chunks  %lld rows  %.0f rows/s  ~%.0f s left   ", kBarWidth,
                   std::string(static_cast<std::size_t>(filled), '#').c_str(), static_cast<long long>(finished_),
                   static_cast<long long>(chunk_count_), static_cast<long long>(rows_), rate, left);
      std::fflush(stderr);
      line_drawn_ = true;
      return;
    }
    spdlog::info("chunk {} done on rank {}: {} tickers, {} rows ({}/{} chunks, {} rows, {:.0f} rows/s, ~{:.1f} s left)",
                 progress.chunk, progress.rank, progress.tickers, progress.rows, finished_, chunk_count_, rows_, rate,
                 left);
  }

 private:
  std::int64_t chunk_count_;
  double started_;
  bool on_terminal_;
  bool line_drawn_ = false;
  std::int64_t finished_ = 0;
  std::int64_t rows_ = 0;
};

// Runs this rank's chunks in order. After a chunk whose database could not be
// restored the rank takes no new chunk, but it still reports, so no rank waits forever.
parallel::RankReport work_through_chunks(parallel::World& world, storage::Database& database,
                                         const ChunkContext& context, const std::vector<parallel::Chunk>& chunks,
                                         std::int64_t chunk_count, double started) {
  ChunkWorker worker(database, context);
  RankTelemetry& telemetry = worker.telemetry();
  telemetry.chunks_assigned = static_cast<std::int64_t>(chunks.size());

  ProgressTracker tracker(chunk_count, started);
  int ranks_done = 0;  // rank 0: ranks whose "no chunk left" note has arrived
  bool stopped = false;
  for (const parallel::Chunk& chunk : chunks) {
    if (stopped) {
      telemetry.failed_chunks.push_back(chunk.index);
      continue;
    }

    const std::int64_t rows_before = telemetry.rows_upserted;
    const ChunkOutcome outcome = worker.process(chunk);
    parallel::ChunkProgress progress{.rank = context.rank,
                                     .chunk = chunk.index,
                                     .tickers = static_cast<std::int64_t>(chunk.tickers.size()),
                                     .rows = telemetry.rows_upserted - rows_before,
                                     .failed = outcome == ChunkOutcome::written ? 0 : 1};
    if (outcome != ChunkOutcome::written) {
      telemetry.failed_chunks.push_back(chunk.index);
      if (telemetry.error.empty()) telemetry.error = "chunk " + std::to_string(chunk.index) + ": " + worker.last_error();
    }
    if (outcome == ChunkOutcome::connection_lost) {
      stopped = true;
      spdlog::error("rank={} stops taking new chunks: the database at {} could not be restored", context.rank,
                    database.describe());
    }

    // Rank 0 logs its own progress and whatever the other ranks sent meanwhile.
    if (world.is_root()) {
      tracker.record(progress);
      while (const auto note = world.poll_progress()) {
        if (note->chunk >= 0) tracker.record(*note);
        else ++ranks_done;
      }
    } else {
      world.send_progress(progress);
    }
  }

  if (world.is_root()) {
    // Wait for the "no chunk left" note of every other rank.
    int ranks_left = world.size() - 1 - ranks_done;
    while (ranks_left > 0) {
      const parallel::ChunkProgress note = world.wait_progress();
      if (note.chunk >= 0) tracker.record(note);
      else --ranks_left;
    }
  } else {
    world.send_progress({.rank = context.rank, .chunk = -1});
  }

  telemetry.digest = worker.digest().to_string();
  return parallel::RankReport{.telemetry = telemetry, .tickers = std::move(worker.ticker_digests())};
}

// The report of a rank that could not connect: every chunk it was given failed.
RankTelemetry failed_rank_telemetry(int rank, const std::vector<parallel::Chunk>& chunks, const std::string& error) {
  RankTelemetry telemetry;
  telemetry.rank = rank;
  telemetry.host = host_name();
  telemetry.pid = process_id();
  telemetry.chunks_assigned = static_cast<std::int64_t>(chunks.size());
  for (const parallel::Chunk& chunk : chunks) telemetry.failed_chunks.push_back(chunk.index);
  telemetry.error = "could not connect: " + error;
  telemetry.digest = Digest{}.to_string();
  return telemetry;
}

// Rank 0: records the outcome in the run log, prints the telemetry table and
// writes the JSON. Returns the exit code of the run.
int finish_run(storage::Database& database, const RunOptions& options, storage::RunRecord record,
               std::vector<parallel::RankReport>& reports, double started) {
  Digest digest;
  std::vector<RankTelemetry> ranks;
  std::vector<TickerDigest> tickers;
  std::vector<std::int64_t> failed_chunks;
  std::string errors;
  for (parallel::RankReport& report : reports) {
    const auto rank_digest = Digest::parse(report.telemetry.digest);
    if (!rank_digest) throw InternalError("rank " + std::to_string(report.telemetry.rank) +
                                          " sent an unreadable digest '" + report.telemetry.digest + "'");
    digest.merge(*rank_digest);
    failed_chunks.insert(failed_chunks.end(), report.telemetry.failed_chunks.begin(),
                         report.telemetry.failed_chunks.end());
    if (!report.telemetry.error.empty()) {
      if (!errors.empty()) errors += "; ";
      errors += "rank " + std::to_string(report.telemetry.rank) + ": " + report.telemetry.error;
    }
    tickers.insert(tickers.end(), std::make_move_iterator(report.tickers.begin()),
                   std::make_move_iterator(report.tickers.end()));
    ranks.push_back(std::move(report.telemetry));
  }
  std::sort(failed_chunks.begin(), failed_chunks.end());

  record.finished_at = utc_timestamp();
  record.rows = static_cast<std::int64_t>(digest.rows);
  record.digest = digest.to_string();
  record.status = failed_chunks.empty() ? "succeeded" : "failed";
  if (!failed_chunks.empty()) {
    record.error = "chunks not written: " + storage::schema::format_chunk_list(failed_chunks) + " (" + errors +
                   "). Rerun the same command to complete them.";
  }

  // The run log needs a working connection even when chunks lost theirs.
  bool recorded = false;
  for (int attempt = 0; attempt < 2 && !recorded; ++attempt) {
    try {
      if (attempt > 0) database.reconnect();
      database.finish_run(record, ranks, tickers);
      recorded = true;
    } catch (const DatabaseError& e) {
      spdlog::error("could not record run {} as {} in the run log (attempt {}): {}", record.run_id, record.status,
                    attempt + 1, e.what());
    }
  }
  if (!recorded) {
    std::cerr << "tasnap: run " << record.run_id << " " << record.status
              << " but could not be recorded in the run log; it stays marked running until the next run marks it "
                 "abandoned.\n";
  }

  const RunSummary summary{.run = record,
                           .database = storage::redact_uri(options.db.uri),
                           .wall_seconds = monotonic_seconds() - started,
                           .ranks = ranks};
  print_telemetry_table(std::cout, summary);
  if (!options.telemetry_json.empty()) write_telemetry_json(options.telemetry_json, summary);

  if (record.status == "succeeded" && recorded) {
    spdlog::info("run {} succeeded: {} rows, digest {}, {:.2f} s", record.run_id, record.rows, record.digest,
                 summary.wall_seconds);
    return exit_code::kSuccess;
  }
  spdlog::error("run {} failed: {}", record.run_id, record.error.empty() ? "the run log write failed" : record.error);
  return exit_code::kRunFailed;
}

}  // namespace

int run_job(parallel::World& world, const RunOptions& options) {
  const double started = monotonic_seconds();
  std::unique_ptr<storage::Database> database;
  Plan plan;
  parallel::RunSetup setup;
  double connect_seconds = 0;

  // Rank 0 connects, checks and plans; a failure here stops every rank before any work.
  if (world.is_root()) {
    try {
      const double connect_start = monotonic_seconds();
      database = storage::open_database(options.db);
      connect_seconds = monotonic_seconds() - connect_start;
      plan = plan_run(*database, options, world.size());
      setup.ok = true;
      setup.run_id = plan.record.run_id;
      setup.chunk_count = static_cast<std::int64_t>(plan.chunks.size());
      setup.tickers = plan.record.tickers;
      setup.as_of_days = plan.record.as_of_date.days;
      setup.from_days = plan.record.from_date.value_or(plan.record.as_of_date).days;
      spdlog::info("run {} started: mode={} date={}{} tickers={} chunks={} chunk_size={} ranks={} db={}",
                   setup.run_id, plan.record.mode, format_date(plan.record.as_of_date),
                   plan.record.from_date ? " from=" + format_date(*plan.record.from_date) : std::string(),
                   setup.tickers, setup.chunk_count, options.chunk_size, world.size(), database->describe());
    } catch (const std::exception& e) {
      setup.ok = false;
      setup.error = e.what();
      setup.exit_code = exit_code_of(e);
    }
  }
  setup = world.broadcast_setup(setup);
  if (!setup.ok) {
    if (world.is_root()) spdlog::error("{}", setup.error);
    return setup.exit_code;
  }

  const std::vector<parallel::Chunk> my_chunks = world.scatter_chunks(assign_chunks(plan.chunks, world.size()));

  // Every other rank opens its own connection.
  std::string rank_error;
  if (!world.is_root()) {
    try {
      const double connect_start = monotonic_seconds();
      database = storage::open_database(options.db);
      connect_seconds = monotonic_seconds() - connect_start;
    } catch (const std::exception& e) {
      rank_error = e.what();
      spdlog::error("rank={} could not connect: {}", world.rank(), e.what());
    }
  }

  ChunkContext context;
  context.mode = options.mode;
  context.as_of = Date{setup.as_of_days};
  context.from = Date{setup.from_days};
  context.history_start = options.history_start;
  context.run_id = setup.run_id;
  context.rank = world.rank();
  context.max_retries = options.max_retries;
  context.write_batch_rows = options.write_batch_rows;

  parallel::RankReport report;
  if (database) {
    report = work_through_chunks(world, *database, context, my_chunks, setup.chunk_count, started);
  } else {
    report.telemetry = failed_rank_telemetry(world.rank(), my_chunks, rank_error);
    if (!world.is_root()) world.send_progress({.rank = world.rank(), .chunk = -1});
  }
  report.telemetry.connect_seconds = connect_seconds;
  report.telemetry.total_seconds = monotonic_seconds() - started;
  report.telemetry.peak_rss_kib = peak_rss_kib();

  // Rank 0 collects every report and records the outcome, then broadcasts the exit code.
  std::vector<parallel::RankReport> reports = world.gather_reports(report);
  int code = exit_code::kSuccess;
  if (world.is_root()) code = finish_run(*database, options, plan.record, reports, started);
  return world.broadcast_exit_code(code);
}

}  // namespace tasnap::run
