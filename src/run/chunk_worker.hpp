// One rank's work on its chunks: read the chunk's bars, compute every
// snapshot row, upsert the chunk in one transaction, retrying transient
// database errors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bars.hpp"
#include "core/digest.hpp"
#include "core/snapshot_row.hpp"
#include "core/telemetry.hpp"
#include "engine/snapshot.hpp"
#include "parallel/chunk_plan.hpp"
#include "run/run_options.hpp"
#include "storage/database.hpp"

namespace tasnap::run {

struct ChunkContext {
  Mode mode = Mode::run;
  Date as_of;                 // run: D; backfill: end of the range
  Date from;                  // backfill: start of the range; run: equal to as_of
  std::optional<Date> history_start;
  std::string run_id;
  int rank = 0;
  int max_retries = 3;
  std::int64_t write_batch_rows = 20'000;
};

enum class ChunkOutcome {
  written,
  failed,           // the chunk's transaction failed; later chunks may still succeed
  connection_lost,  // retries did not restore the database; the rank must stop
};

class ChunkWorker {
 public:
  ChunkWorker(storage::Database& database, ChunkContext context);

  // Processes one chunk, retrying transient errors up to max_retries times.
  // Counters, digests and timings of a chunk are kept only once it is written.
  ChunkOutcome process(const parallel::Chunk& chunk);

  // The message of the error that failed the last chunk.
  const std::string& last_error() const { return last_error_; }

  RankTelemetry& telemetry() { return telemetry_; }
  const Digest& digest() const { return digest_; }
  std::vector<TickerDigest>& ticker_digests() { return ticker_digests_; }

 private:
  // Counts and digests of one attempt at a chunk, merged into the totals only
  // once the chunk is committed.
  struct ChunkTally {
    std::int64_t tickers = 0;
    std::int64_t bars_read = 0;
    std::int64_t invalid_bars = 0;
    std::int64_t rows = 0;
    std::int64_t skipped_no_bars = 0;
    std::int64_t skipped_no_valid_bars = 0;
    std::int64_t skipped_no_bar_on_date = 0;
    double read_seconds = 0;
    double compute_seconds = 0;
    double write_seconds = 0;
    Digest digest;
    std::vector<TickerDigest> tickers_digests;
  };

  void attempt(const parallel::Chunk& chunk, ChunkTally& tally);
  void flush_rows(ChunkTally& tally, bool& transaction_open);
  void log_bad_bars(const parallel::Chunk& chunk, const std::string& ticker);
  void log_skipped_ticker(const parallel::Chunk& chunk, const std::string& ticker, engine::SkipReason reason);
  void merge(const ChunkTally& tally);

  storage::Database& database_;
  ChunkContext context_;
  engine::SnapshotEngine engine_;

  // Reused from chunk to chunk so the steady state does not allocate.
  BarChunk bars_;
  std::vector<SnapshotRow> rows_;
  engine::BadBarReport bad_bars_;

  RankTelemetry telemetry_;
  Digest digest_;
  std::vector<TickerDigest> ticker_digests_;
  std::string last_error_;
  std::int64_t tickers_with_bad_bars_logged_ = 0;
  std::int64_t tickers_skipped_logged_ = 0;
};

}  // namespace tasnap::run
