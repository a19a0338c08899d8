// The SQLite backend: one connection per process to a file in WAL mode, with a
// busy timeout and BEGIN IMMEDIATE for every write transaction so concurrent
// writers wait for each other instead of failing.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/database.hpp"

namespace tasnap::storage {

class SqliteDatabase;

// One prepared statement, finalized by the destructor. Bind indexes start at 1
// and column indexes at 0, as in the SQLite C API.
class SqliteStatement {
 public:
  SqliteStatement(SqliteDatabase& database, std::string_view sql, std::string_view action);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Text is bound without a copy, so it must outlive the next step().
  void bind_text(int index, std::string_view text);
  void bind_double(int index, double value);
  void bind_int64(int index, std::int64_t value);
  void bind_null(int index);
  void bind_optional_double(int index, const std::optional<double>& value);

  // Returns true while a row is available; throws on any error.
  bool step();

  // Runs a statement that returns no rows (or ignores them).
  void run();

  // Resets the statement and clears its bindings for the next execution.
  void reset();

  bool is_null(int column) const;
  bool is_text(int column) const;
  double column_double(int column) const;
  std::int64_t column_int64(int column) const;
  std::string_view column_text(int column) const;

 private:
  SqliteDatabase& database_;
  sqlite3_stmt* statement_ = nullptr;
  std::string action_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(DbConfig config, std::string path);
  ~SqliteDatabase() override;

  Backend backend() const override { return Backend::sqlite; }
  std::string describe() const override;
  void init_schema() override;
  void check_schema() override;
  std::optional<int> free_connections() override { return std::nullopt; }
  void reconnect() override;
  void close() noexcept override;
  void upsert_prices(std::span<const PriceRow> rows) override;

  std::optional<Date> latest_trade_date() override;
  std::vector<std::string> tickers_with_bars_between(Date from, Date to) override;
  void read_bars(std::span<const std::string> tickers, std::optional<Date> history_start, Date to,
                 BarChunk& out) override;

  void begin_chunk() override;
  void write_rows(std::span<const SnapshotRow> rows, std::string_view run_id) override;
  void commit_chunk() override;
  void rollback_chunk() noexcept override;

  void insert_run(const RunRecord& run) override;
  void finish_run(const RunRecord& run, std::span<const RankTelemetry> ranks,
                  std::span<const TickerDigest> tickers) override;
  std::vector<RunRecord> runs_with_status(std::string_view status) override;
  void set_run_status(std::string_view run_id, std::string_view status,
                      std::string_view error) override;
  std::optional<RunRecord> find_run(std::string_view run_id) override;
  std::vector<RankTelemetry> run_ranks(std::string_view run_id) override;
  std::vector<TickerDigest> run_tickers(std::string_view run_id) override;
  std::vector<std::pair<SnapshotRow, std::string>> read_snapshots(std::string_view ticker,
                                                                  Date from, Date to) override;

  // Throws TransientDatabaseError for SQLITE_BUSY/SQLITE_LOCKED and
  // DatabaseError otherwise, naming the file, the failed action and the fix.
  [[noreturn]] void throw_error(int code, std::string_view action) const;

  sqlite3* handle() const { return connection_; }

 private:
  void switch_to_wal();
  void open();
  void execute(std::string_view sql, std::string_view action);
  void begin_immediate(std::string_view action);
  void upsert_run(const RunRecord& run);
  RunRecord read_run(const SqliteStatement& statement) const;

  // Returns the cached statement in `slot`, preparing it on first use.
  SqliteStatement& prepared(std::unique_ptr<SqliteStatement>& slot, const std::string& sql,
                            std::string_view action);
  void drop_statements();

  DbConfig config_;
  std::string path_;
  sqlite3* connection_ = nullptr;

  std::unique_ptr<SqliteStatement> read_bars_;
  std::unique_ptr<SqliteStatement> write_rows_;
  std::unique_ptr<SqliteStatement> upsert_price_;
  std::unique_ptr<SqliteStatement> upsert_run_;
  std::unique_ptr<SqliteStatement> insert_rank_;
  std::unique_ptr<SqliteStatement> insert_ticker_;
};

}  // namespace tasnap::storage
