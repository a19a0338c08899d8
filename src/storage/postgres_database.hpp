// The PostgreSQL backend of the storage interface, on libpq.
//
// One connection per object, and bulk data moves as binary COPY. A chunk read
// is one query message that loads the ticker list into a temporary table and
// copies the bars out. A snapshot upsert streams each batch into a temporary
// staging table and merges it with INSERT ... ON CONFLICT DO UPDATE.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/database.hpp"

struct pg_conn;
struct pg_result;

namespace tasnap::storage {

class PostgresDatabase final : public Database {
 public:
  // Connects with `config.uri` unchanged, so PG* variables and ~/.pgpass apply
  // as libpq documents. Throws DatabaseError naming host, database and the fix.
  explicit PostgresDatabase(const DbConfig& config);
  ~PostgresDatabase() override;

  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  Backend backend() const override { return Backend::postgresql; }
  std::string describe() const override { return description_; }
  void init_schema() override;
  void check_schema() override;
  std::optional<int> free_connections() override;
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
  std::vector<std::pair<SnapshotRow, std::string>> read_snapshots(std::string_view ticker, Date from,
                                                                  Date to) override;

  // Query messages sent to the server since the connection opened; each one
  // costs a round trip. Tests use it to check that a chunk read is one message.
  std::int64_t queries_sent() const { return queries_sent_; }

  // The server process id of the connection (pg_backend_pid), for tests that
  // terminate it from another connection.
  int backend_pid() const;

 private:
  struct ResultDeleter {
    void operator()(pg_result* result) const;
  };
  using Result = std::unique_ptr<pg_result, ResultDeleter>;

  // One piece of bulk data for the COPY ... FROM STDIN statements of a script.
  struct CopyInput {
    std::string_view data;
  };

  // Opens conn_. A failure raises DatabaseError at start and
  // TransientDatabaseError on a reconnect.
  void connect(bool at_start);
  void ensure_connected(std::string_view operation);

  // Runs one statement with text parameters; throws a classified error naming
  // `operation` and `table` when it fails.
  Result exec(std::string_view operation, std::string_view table, const std::string& sql,
              std::initializer_list<std::optional<std::string>> params = {},
              bool binary_result = false);

  // Sends `sql` (one or more statements) as one query message. Each COPY FROM
  // STDIN in it takes the next element of `inputs`; each COPY TO STDOUT passes
  // every row message to `on_row`. Throws like exec() on the first failure.
  void run_script(std::string_view operation, std::string_view table, const std::string& sql,
                  std::initializer_list<CopyInput> inputs,
                  const std::function<void(std::string_view)>& on_row = {});

  [[noreturn]] void fail(std::string_view operation, std::string_view table,
                         const std::string& sql, const pg_result* result);

  // `text` with every known password replaced by "***".
  std::string scrub(std::string text) const;

  void create_staging_tables();

  // Appends a batch by plain COPY under a savepoint. Returns false, with the
  // savepoint rolled back, when a row of the batch is already stored.
  bool copy_new_snapshots(const std::string& data, const std::string& column_names);

  DbConfig config_;
  pg_conn* conn_ = nullptr;
  std::string description_;
  // Passwords from the connection string, PGPASSWORD and libpq, kept only to
  // scrub them from messages.
  std::vector<std::string> secrets_;
  bool read_request_ready_ = false;
  bool staging_ready_ = false;
  bool chunk_open_ = false;
  bool chunk_had_conflict_ = false;  // a batch of the open chunk met stored rows
  std::string last_sqlstate_;        // SQLSTATE of the last failure, empty when it had none
  std::int64_t queries_sent_ = 0;
};

}  // namespace tasnap::storage
