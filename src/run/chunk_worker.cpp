#include "run/chunk_worker.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/errors.hpp"
#include "run/system_info.hpp"

namespace tasnap::run {

namespace {

// Bad bars and skipped tickers are logged for this many tickers per rank;
// later ones are only counted.
constexpr std::int64_t kMaxTickersWithBadBarsLogged = 20;
constexpr std::int64_t kMaxTickersSkippedLogged = 20;

std::string describe_skip(engine::SkipReason reason, const ChunkContext& context) {
  const std::string range = context.mode == Mode::run
                                ? "on " + format_date(context.as_of)
                                : "between " + format_date(context.from) + " and " + format_date(context.as_of);
  switch (reason) {
    case engine::SkipReason::no_bars: return "no bars up to " + format_date(context.as_of) + " in the price table";
    case engine::SkipReason::no_valid_bars: return "every bar up to " + format_date(context.as_of) + " is invalid";
    case engine::SkipReason::no_bar_on_date: return "no valid bar " + range;
    case engine::SkipReason::none: break;
  }
  return "no row";
}

std::string describe_bad_bars(const engine::BadBarReport& report) {
  std::string text;
  for (const auto& entry : report.first) {
    if (!text.empty()) text += ", ";
    text += format_date(entry.trade_date) + " (" + entry.reason + ")";
  }
  return text;
}

}  // namespace

ChunkWorker::ChunkWorker(storage::Database& database, ChunkContext context)
    : database_(database), context_(std::move(context)) {
  telemetry_.rank = context_.rank;
  telemetry_.host = host_name();
  telemetry_.pid = process_id();
}

ChunkOutcome ChunkWorker::process(const parallel::Chunk& chunk) {
  for (int attempt_number = 0;; ++attempt_number) {
    ChunkTally tally;
    try {
      attempt(chunk, tally);
      merge(tally);
      return ChunkOutcome::written;
    } catch (const TransientDatabaseError& e) {
      database_.rollback_chunk();
      last_error_ = e.what();
      if (attempt_number >= context_.max_retries) {
        spdlog::error("rank={} chunk={} failed after {} retries: {}", context_.rank, chunk.index,
                      context_.max_retries, e.what());
        return ChunkOutcome::connection_lost;
      }

      // Back off 0.2 s, 0.4 s, 0.8 s ... before a new connection and a full rerun of the chunk.
      const auto delay = std::chrono::milliseconds(200) * (1 << std::min(attempt_number, 6));
      ++telemetry_.retries;
      spdlog::warn("rank={} chunk={} retry {}/{} in {} ms after a transient database error: {}",
                   context_.rank, chunk.index, attempt_number + 1, context_.max_retries, delay.count(),
                   e.what());
      std::this_thread::sleep_for(delay);
      try {
        database_.reconnect();
      } catch (const DatabaseError& reconnect_error) {
        last_error_ = reconnect_error.what();
        spdlog::warn("rank={} chunk={} reconnect failed: {}", context_.rank, chunk.index,
                     reconnect_error.what());
      }
    } catch (const DatabaseError& e) {
      database_.rollback_chunk();
      last_error_ = e.what();
      spdlog::error("rank={} chunk={} failed and was rolled back: {}", context_.rank, chunk.index, e.what());
      return ChunkOutcome::failed;
    }
  }
}

void ChunkWorker::attempt(const parallel::Chunk& chunk, ChunkTally& tally) {
  // Read the whole chunk's history in one round trip.
  double start = monotonic_seconds();
  database_.read_bars(chunk.tickers, context_.history_start, context_.as_of, bars_);
  tally.read_seconds += monotonic_seconds() - start;
  tally.bars_read = static_cast<std::int64_t>(bars_.bar_count());

  // The backend returns tickers in its own order; compute them in chunk order.
  std::unordered_map<std::string_view, std::size_t> bars_of_ticker;
  for (std::size_t i = 0; i < bars_.ticker_count(); ++i) bars_of_ticker.emplace(bars_.ticker(i), i);

  rows_.clear();
  bool transaction_open = false;
  for (const std::string& ticker : chunk.tickers) {
    start = monotonic_seconds();
    const std::size_t rows_before = rows_.size();
    engine::SkipReason skip = engine::SkipReason::no_bars;
    bad_bars_.clear();

    if (const auto found = bars_of_ticker.find(ticker); found != bars_of_ticker.end()) {
      const RawBarsView bars = bars_.bars(found->second);
      const engine::HistoryRange range{.as_of = context_.as_of, .history_start = context_.history_start};
      if (context_.mode == Mode::run) {
        rows_.emplace_back();
        skip = engine_.compute_row(ticker, bars, range, rows_.back(), bad_bars_);
        if (skip != engine::SkipReason::none) rows_.pop_back();
      } else {
        skip = engine_.compute_rows(ticker, bars, context_.from, range, rows_, bad_bars_);
      }
    }

    // Count the ticker and digest its rows.
    ++tally.tickers;
    tally.invalid_bars += bad_bars_.count;
    if (bad_bars_.count > 0) log_bad_bars(chunk, ticker);
    if (skip != engine::SkipReason::none) log_skipped_ticker(chunk, ticker, skip);
    TickerDigest ticker_digest;
    ticker_digest.ticker = ticker;
    ticker_digest.rank = context_.rank;
    ticker_digest.chunk = chunk.index;
    ticker_digest.invalid_bars = bad_bars_.count;
    Digest digest;
    for (std::size_t i = rows_before; i < rows_.size(); ++i) digest.add(rows_[i]);
    tally.digest.merge(digest);
    tally.rows += static_cast<std::int64_t>(digest.rows);
    ticker_digest.rows = static_cast<std::int64_t>(digest.rows);
    ticker_digest.digest = digest.rows > 0 ? digest.to_string() : "skipped:" + std::string(engine::to_string(skip));
    tally.tickers_digests.push_back(std::move(ticker_digest));
    switch (skip) {
      case engine::SkipReason::none: break;
      case engine::SkipReason::no_bars: ++tally.skipped_no_bars; break;
      case engine::SkipReason::no_valid_bars: ++tally.skipped_no_valid_bars; break;
      case engine::SkipReason::no_bar_on_date: ++tally.skipped_no_bar_on_date; break;
    }
    tally.compute_seconds += monotonic_seconds() - start;

    // A backfill chunk can hold millions of rows: stream them out in bounded batches.
    if (static_cast<std::int64_t>(rows_.size()) >= context_.write_batch_rows) flush_rows(tally, transaction_open);
  }

  flush_rows(tally, transaction_open);
  start = monotonic_seconds();
  if (!transaction_open) database_.begin_chunk();
  database_.commit_chunk();
  tally.write_seconds += monotonic_seconds() - start;
}

void ChunkWorker::flush_rows(ChunkTally& tally, bool& transaction_open) {
  if (rows_.empty()) return;
  const double start = monotonic_seconds();
  if (!transaction_open) {
    database_.begin_chunk();
    transaction_open = true;
  }
  database_.write_rows(rows_, context_.run_id);
  rows_.clear();
  tally.write_seconds += monotonic_seconds() - start;
}

void ChunkWorker::log_bad_bars(const parallel::Chunk& chunk, const std::string& ticker) {
  ++tickers_with_bad_bars_logged_;
  if (tickers_with_bad_bars_logged_ > kMaxTickersWithBadBarsLogged) return;

  spdlog::warn("rank={} chunk={} ticker={} dropped {} invalid bars, first: {}", context_.rank, chunk.index,
               ticker, bad_bars_.count, describe_bad_bars(bad_bars_));
  if (tickers_with_bad_bars_logged_ == kMaxTickersWithBadBarsLogged) {
    spdlog::warn("rank={} further tickers with invalid bars are counted in telemetry but not logged",
                 context_.rank);
  }
}

void ChunkWorker::log_skipped_ticker(const parallel::Chunk& chunk, const std::string& ticker,
                                     engine::SkipReason reason) {
  ++tickers_skipped_logged_;
  if (tickers_skipped_logged_ > kMaxTickersSkippedLogged) return;

  spdlog::warn("rank={} chunk={} ticker={} skipped: {}", context_.rank, chunk.index, ticker,
               describe_skip(reason, context_));
  if (tickers_skipped_logged_ == kMaxTickersSkippedLogged) {
    spdlog::warn("rank={} further skipped tickers are counted in telemetry but not logged", context_.rank);
  }
}

void ChunkWorker::merge(const ChunkTally& tally) {
  ++telemetry_.chunks_done;
  telemetry_.tickers += tally.tickers;
  telemetry_.bars_read += tally.bars_read;
  telemetry_.invalid_bars += tally.invalid_bars;
  telemetry_.rows_upserted += tally.rows;
  telemetry_.skipped_no_bars += tally.skipped_no_bars;
  telemetry_.skipped_no_valid_bars += tally.skipped_no_valid_bars;
  telemetry_.skipped_no_bar_on_date += tally.skipped_no_bar_on_date;
  telemetry_.tickers_skipped += tally.skipped_no_bars + tally.skipped_no_valid_bars + tally.skipped_no_bar_on_date;
  telemetry_.read_seconds += tally.read_seconds;
  telemetry_.compute_seconds += tally.compute_seconds;
  telemetry_.write_seconds += tally.write_seconds;
  digest_.merge(tally.digest);
  ticker_digests_.insert(ticker_digests_.end(), tally.tickers_digests.begin(), tally.tickers_digests.end());
}

}  // namespace tasnap::run
