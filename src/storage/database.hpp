// The storage interface shared by the PostgreSQL and SQLite backends.
//
// It is split by role, so the run depends only on what it uses. A PriceSource
// reads price history per chunk; a faster history source, such as a packed
// per-ticker cache, can implement just this role. A SnapshotSink upserts
// snapshot rows chunk by chunk, and a RunLog keeps the run and rank records.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bars.hpp"
#include "core/date.hpp"
#include "core/snapshot_row.hpp"
#include "core/telemetry.hpp"

namespace tasnap::storage {

// Table names; every one can be changed on the command line and is quoted as
// an identifier wherever it appears in SQL.
struct TableNames {
  std::string prices = "daily_prices";
  std::string snapshots = "ta_snapshots";
  std::string runs = "tasnap_runs";
  std::string run_ranks = "tasnap_run_ranks";
  std::string run_tickers = "tasnap_run_tickers";
};

// Connection settings. `uri` is "sqlite:PATH", a "postgresql://" or
// "postgres://" URI, or a libpq key=value string.
struct DbConfig {
  std::string uri;
  TableNames tables;

  // Whether a missing SQLite file is created. The run, backfill and compare
  // commands set it to false, so a mistyped path fails without leaving a file.
  bool create_if_missing = true;
};

enum class Backend { sqlite, postgresql };

// One input bar as loaded into the price table.
struct PriceRow {
  std::string ticker;
  Date trade_date;
  double open = 0, high = 0, low = 0, close = 0;
  std::optional<double> adj_close;
  std::int64_t volume = 0;
  std::optional<double> split_factor;
};

class PriceSource {
 public:
  virtual ~PriceSource() = default;

  // Latest trade_date in the price table, or nullopt when it is empty.
  virtual std::optional<Date> latest_trade_date() = 0;

  // Distinct tickers with at least one bar (valid or not) in [from, to],
  // sorted by byte value.
  virtual std::vector<std::string> tickers_with_bars_between(Date from, Date to) = 0;

  // Reads the bars of `tickers` with history_start <= trade_date <= to in one
  // round trip, replacing the content of `out`. Bars are grouped by ticker and
  // sorted by trade_date within a ticker; tickers without bars are omitted and
  // the ticker order is unspecified.
  virtual void read_bars(std::span<const std::string> tickers, std::optional<Date> history_start,
                         Date to, BarChunk& out) = 0;
};

class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;

  // Opens the transaction of one chunk. Rows written until commit_chunk() become
  // visible together or not at all.
  virtual void begin_chunk() = 0;

  // Upserts rows on (ticker, as_of_date), recording run_id as their writer. May
  // be called many times per chunk with bounded batches.
  virtual void write_rows(std::span<const SnapshotRow> rows, std::string_view run_id) = 0;

  virtual void commit_chunk() = 0;

  // Rolls the open chunk back; safe to call when none is open or the connection is lost.
  virtual void rollback_chunk() noexcept = 0;
};

// One row of the runs table.
struct RunRecord {
  std::string run_id;
  std::string mode = "run";  // "run" or "backfill"
  std::string started_at;    // ISO 8601 UTC
  std::string finished_at;   // empty while running
  std::string status;        // running, succeeded, failed, abandoned
  Date as_of_date;           // the run's date; for a backfill, the end of the range
  std::optional<Date> from_date;  // backfill only
  std::optional<Date> history_start;
  int workers = 0;
  std::int64_t chunk_size = 0;
  std::int64_t tickers = 0;
  std::int64_t rows = 0;
  std::string error;
  std::string digest;
  std::string version;
  std::string params_hash;
  std::string host;
  std::int64_t pid = 0;
};

class RunLog {
 public:
  virtual ~RunLog() = default;

  virtual void insert_run(const RunRecord& run) = 0;

  // Writes the final state of a run, its per-rank telemetry and its per-ticker
  // digests in one transaction.
  virtual void finish_run(const RunRecord& run, std::span<const RankTelemetry> ranks,
                          std::span<const TickerDigest> tickers) = 0;

  virtual std::vector<RunRecord> runs_with_status(std::string_view status) = 0;
  virtual void set_run_status(std::string_view run_id, std::string_view status,
                              std::string_view error) = 0;

  virtual std::optional<RunRecord> find_run(std::string_view run_id) = 0;
  virtual std::vector<RankTelemetry> run_ranks(std::string_view run_id) = 0;
  virtual std::vector<TickerDigest> run_tickers(std::string_view run_id) = 0;

  // Stored snapshot rows of one ticker in [from, to], by as_of_date, each with
  // the run_id that last wrote it.
  virtual std::vector<std::pair<SnapshotRow, std::string>> read_snapshots(std::string_view ticker,
                                                                          Date from, Date to) = 0;
};

// A connection to one database: one per process, opened at start and closed at exit.
class Database : public PriceSource, public SnapshotSink, public RunLog {
 public:
  virtual Backend backend() const = 0;

  // Host, database or file and user, never the password; for logs and errors.
  virtual std::string describe() const = 0;

  // Creates the missing tables, then checks every table has the expected columns.
  virtual void init_schema() = 0;

  // Throws DatabaseError naming the first missing table or column and the fix.
  virtual void check_schema() = 0;

  // Connections the server would still accept (PostgreSQL), or nullopt when
  // there is no limit (SQLite).
  virtual std::optional<int> free_connections() = 0;

  // Drops the current connection and opens a new one (after a transient error).
  virtual void reconnect() = 0;

  virtual void close() noexcept = 0;

  // Upserts price bars on (ticker, trade_date) in one transaction.
  virtual void upsert_prices(std::span<const PriceRow> rows) = 0;
};

Backend backend_of(std::string_view uri);

// Opens the database of `config`; throws InputError for an unknown scheme and
// DatabaseError when it cannot connect.
std::unique_ptr<Database> open_database(const DbConfig& config);

// The URI with any password replaced by "***", safe to log.
std::string redact_uri(std::string_view uri);

}  // namespace tasnap::storage
