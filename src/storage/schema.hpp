// The tables tasnap reads and writes, described once for both backends.
//
//   daily_prices       ticker text, trade_date date, open, high, low, close double,
//                      adj_close double NULL, volume bigint, split_factor double NULL DEFAULT 1;
//                      PRIMARY KEY (ticker, trade_date)
//   ta_snapshots       ticker text, as_of_date date, bars_used integer, the 47 double
//                      columns of kColumnNames (NULL allowed), run_id text;
//                      PRIMARY KEY (ticker, as_of_date)
//   tasnap_runs        one row per run (RunRecord); PRIMARY KEY (run_id)
//   tasnap_run_ranks   one row per rank of a run (RankTelemetry); PRIMARY KEY (run_id, rank)
//   tasnap_run_tickers one row per ticker of a run (TickerDigest); PRIMARY KEY (run_id, ticker)
//
// SQLite stores dates as 'YYYY-MM-DD' text and timestamps as ISO 8601 text;
// PostgreSQL uses date and timestamptz.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tasnap::storage::schema {

inline constexpr std::array<std::string_view, 9> kPriceColumns = {
    "ticker", "trade_date", "open", "high", "low", "close", "adj_close", "volume", "split_factor"};

inline constexpr std::array<std::string_view, 18> kRunColumns = {
    "run_id", "mode", "started_at", "finished_at", "status", "as_of_date", "from_date",
    "history_start", "workers", "chunk_size", "tickers", "rows", "error", "digest", "version",
    "params_hash", "host", "pid"};

inline constexpr std::array<std::string_view, 24> kRunRankColumns = {
    "run_id", "rank", "host", "pid", "chunks_assigned", "chunks_done", "tickers", "bars_read",
    "invalid_bars", "rows_upserted", "tickers_skipped", "skipped_no_bars", "skipped_no_valid_bars",
    "skipped_no_bar_on_date", "retries", "connect_seconds", "read_seconds", "compute_seconds",
    "write_seconds", "total_seconds", "peak_rss_kib", "digest", "error", "failed_chunks"};

inline constexpr std::array<std::string_view, 7> kRunTickerColumns = {
    "run_id", "ticker", "rank", "chunk", "rows", "invalid_bars", "digest"};

// The failed_chunks column of the run ranks table: chunk indices joined by
// commas, e.g. "3,7,11"; empty when none failed.
std::string format_chunk_list(const std::vector<std::int64_t>& chunks);
std::vector<std::int64_t> parse_chunk_list(std::string_view text);

}  // namespace tasnap::storage::schema
