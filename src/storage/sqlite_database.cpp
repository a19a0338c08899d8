#include "storage/sqlite_database.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <utility>

#include "core/errors.hpp"
#include "storage/backends.hpp"
#include "storage/schema.hpp"
#include "storage/sql_text.hpp"

namespace tasnap::storage {

namespace {

// Writers wait this long for another process's write transaction to end.
constexpr int kBusyTimeoutMs = 60'000;

// Writes "YYYY-MM-DD" into `text` (10 characters, no terminator). It is faster
// than format_date() for the millions of bars a load or a generator writes.
void write_date(Date date, char* text) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{date.days}}};
  const int year = static_cast<int>(ymd.year());
  const unsigned month = static_cast<unsigned>(ymd.month());
  const unsigned day = static_cast<unsigned>(ymd.day());
  text[0] = static_cast<char>('0' + year / 1000 % 10);
  text[1] = static_cast<char>('0' + year / 100 % 10);
  text[2] = static_cast<char>('0' + year / 10 % 10);
  text[3] = static_cast<char>('0' + year % 10);
  text[4] = '-';
  text[5] = static_cast<char>('0' + month / 10);
  text[6] = static_cast<char>('0' + month % 10);
  text[7] = '-';
  text[8] = static_cast<char>('0' + day / 10);
  text[9] = static_cast<char>('0' + day % 10);
}

struct DateText {
  explicit DateText(Date date) { write_date(date, text.data()); }
  std::string_view view() const { return {text.data(), text.size()}; }
  std::array<char, 10> text;
};

std::string join_columns(std::span<const std::string_view> columns) {
  std::string sql;
  for (const auto column : columns) {
    if (!sql.empty()) sql += ", ";
    sql += quote_identifier(column);
  }
  return sql;
}

std::string placeholders(std::size_t count) {
  std::string sql;
  for (std::size_t i = 1; i <= count; ++i) {
    if (i > 1) sql += ", ";
    sql += "?" + std::to_string(i);
  }
  return sql;
}

// "col = excluded.col, ..." for every column after the first `key_count`.
std::string update_from_excluded(std::span<const std::string_view> columns, std::size_t key_count) {
  std::string sql;
  for (std::size_t i = key_count; i < columns.size(); ++i) {
    if (!sql.empty()) sql += ", ";
    const std::string quoted = quote_identifier(columns[i]);
    sql += quoted + " = excluded." + quoted;
  }
  return sql;
}

// Column declarations "name TYPE, ..." from parallel name and type lists.
template <std::size_t N>
std::string column_definitions(const std::array<std::string_view, N>& names,
                               const std::array<std::string_view, N>& types) {
  std::string sql;
  for (std::size_t i = 0; i < N; ++i) {
    if (!sql.empty()) sql += ", ";
    sql += quote_identifier(names[i]);
    if (!types[i].empty()) sql += " " + std::string(types[i]);
  }
  return sql;
}

std::vector<std::string_view> snapshot_columns() {
  std::vector<std::string_view> columns = {"ticker", "as_of_date", "bars_used"};
  columns.insert(columns.end(), kColumnNames.begin(), kColumnNames.end());
  columns.push_back("run_id");
  return columns;
}

constexpr std::array<std::string_view, 9> kPriceTypes = {
    "TEXT NOT NULL", "TEXT NOT NULL", "REAL", "REAL", "REAL", "REAL", "REAL", "INTEGER",
    "REAL DEFAULT 1"};

constexpr std::array<std::string_view, 18> kRunTypes = {
    "TEXT NOT NULL PRIMARY KEY", "TEXT NOT NULL", "TEXT NOT NULL", "TEXT", "TEXT NOT NULL",
    "TEXT NOT NULL", "TEXT", "TEXT", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "TEXT", "TEXT",
    "TEXT", "TEXT", "TEXT", "INTEGER"};

constexpr std::array<std::string_view, 24> kRunRankTypes = {
    "TEXT NOT NULL", "INTEGER NOT NULL", "TEXT", "INTEGER", "INTEGER", "INTEGER", "INTEGER",
    "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER",
    "REAL", "REAL", "REAL", "REAL", "REAL", "INTEGER", "TEXT", "TEXT", "TEXT"};

constexpr std::array<std::string_view, 7> kRunTickerTypes = {
    "TEXT NOT NULL", "TEXT NOT NULL", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "TEXT"};

// A JSON array of strings, for json_each(): one bound parameter carries any
// number of tickers.
std::string json_string_array(std::span<const std::string> values) {
  std::string json = "[";
  for (const auto& value : values) {
    if (json.size() > 1) json += ',';
    json += '"';
    for (const char c : value) {
      if (c == '"' || c == '\\') {
        json += '\\';
        json += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
        json += escaped;
      } else {
        json += c;
      }
    }
    json += '"';
  }
  json += ']';
  return json;
}

std::string_view hint_for(int primary_code) {
  switch (primary_code) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "Another process held the database lock longer than the busy timeout; retry when "
             "it has finished.";
    case SQLITE_CANTOPEN:
      return "Check that the directory exists and is writable, or pass another --db sqlite:PATH.";
    case SQLITE_NOTADB:
      return "The file is not a SQLite database; pass the path of a tasnap database or of a new "
             "file.";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return "Check the permissions of the file and its directory.";
    case SQLITE_FULL:
      return "The disk is full; free space and rerun.";
    case SQLITE_CORRUPT:
      return "The file is damaged; restore it from a backup.";
    default:
      return "If a table or column is missing, run 'tasnap init' with the same --db and table "
             "options.";
  }
}

}  // namespace

// ---------------------------------------------------------------- statement

SqliteStatement::SqliteStatement(SqliteDatabase& database, std::string_view sql,
                                 std::string_view action)
    : database_(database), action_(action) {
  const int code = sqlite3_prepare_v3(database.handle(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement_, nullptr);
  if (code != SQLITE_OK) database.throw_error(code, action_);
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(statement_); }

void SqliteStatement::bind_text(int index, std::string_view text) {
  sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void SqliteStatement::bind_double(int index, double value) {
  // SQLite would store a NaN as NULL anyway; binding NULL makes that explicit.
  if (tasnap::is_null(value)) {
    sqlite3_bind_null(statement_, index);
  } else {
    sqlite3_bind_double(statement_, index, value);
  }
}

void SqliteStatement::bind_int64(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_, index, value);
}

void SqliteStatement::bind_null(int index) { sqlite3_bind_null(statement_, index); }

void SqliteStatement::bind_optional_double(int index, const std::optional<double>& value) {
  if (value) {
    bind_double(index, *value);
  } else {
    bind_null(index);
  }
}

bool SqliteStatement::step() {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  sqlite3_reset(statement_);
  database_.throw_error(code, action_);
}

void SqliteStatement::run() {
  while (step()) {
  }
  reset();
}

void SqliteStatement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

bool SqliteStatement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

bool SqliteStatement::is_text(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_TEXT;
}

double SqliteStatement::column_double(int column) const {
  return sqlite3_column_double(statement_, column);
}

std::int64_t SqliteStatement::column_int64(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string_view SqliteStatement::column_text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  if (!text) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
}

// ---------------------------------------------------------------- connection

std::unique_ptr<Database> open_sqlite(const DbConfig& config, const std::string& path) {
  return std::make_unique<SqliteDatabase>(config, path);
}

SqliteDatabase::SqliteDatabase(DbConfig config, std::string path)
    : config_(std::move(config)), path_(std::move(path)) {
  open();
}

SqliteDatabase::~SqliteDatabase() { close(); }

std::string SqliteDatabase::describe() const { return "sqlite:" + path_; }

void SqliteDatabase::throw_error(int code, std::string_view action) const {
  const int primary = code & 0xff;
  const char* detail = connection_ ? sqlite3_errmsg(connection_) : sqlite3_errstr(code);
  const std::string message = "SQLite database '" + path_ + "': failed to " + std::string(action) +
                              ": " + detail + ". " + std::string(hint_for(primary));
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) throw TransientDatabaseError(message);
  throw DatabaseError(message);
}

void SqliteDatabase::open() {
  // SQLite creates a new file with mode 0644 less the umask and never
  // truncates an existing one.
  if (!config_.create_if_missing && !std::filesystem::exists(path_)) {
    throw DatabaseError("SQLite database file '" + path_ + "' does not exist. Check the path, or create the "
                        "database with: tasnap init --db sqlite:" + path_);
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (config_.create_if_missing) flags |= SQLITE_OPEN_CREATE;
  const int code = sqlite3_open_v2(path_.c_str(), &connection_, flags, nullptr);
  if (code != SQLITE_OK) {
    const std::string detail = connection_ ? sqlite3_errmsg(connection_) : sqlite3_errstr(code);
    sqlite3_close(connection_);
    connection_ = nullptr;
    throw DatabaseError("Failed to open SQLite database '" + path_ + "': " + detail + ". " +
                        std::string(hint_for(code & 0xff)));
  }
  sqlite3_extended_result_codes(connection_, 1);
  sqlite3_busy_timeout(connection_, kBusyTimeoutMs);

  // WAL lets readers run while one writer commits. synchronous=NORMAL is
  // durable against application crashes in WAL mode and much faster than FULL.
  // The first statement also fails here when the file is not a database.
  try {
    switch_to_wal();
    execute("PRAGMA synchronous = NORMAL", "set synchronous = NORMAL");
    execute("PRAGMA cache_size = -65536", "set the page cache size");
  } catch (...) {
    close();
    throw;
  }
  spdlog::debug("Opened SQLite database {}", path_);
}

void SqliteDatabase::switch_to_wal() {
  // Two processes switching a new file to WAL at once can get SQLITE_BUSY at
  // once: SQLite skips the busy handler where waiting could deadlock. Retry
  // until the busy timeout has passed; the first switch makes the others no-ops.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    try {
      execute("PRAGMA journal_mode = WAL", "switch the journal to WAL mode");
      return;
    } catch (const TransientDatabaseError&) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void SqliteDatabase::close() noexcept {
  drop_statements();
  if (connection_) {
    if (sqlite3_get_autocommit(connection_) == 0) {
      sqlite3_exec(connection_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    sqlite3_close_v2(connection_);
    connection_ = nullptr;
  }
}

void SqliteDatabase::reconnect() {
  spdlog::info("Reconnecting to SQLite database {}", path_);
  close();
  open();
}

void SqliteDatabase::drop_statements() {
  read_bars_.reset();
  write_rows_.reset();
  upsert_price_.reset();
  upsert_run_.reset();
  insert_rank_.reset();
  insert_ticker_.reset();
}

SqliteStatement& SqliteDatabase::prepared(std::unique_ptr<SqliteStatement>& slot,
                                          const std::string& sql, std::string_view action) {
  if (!slot) slot = std::make_unique<SqliteStatement>(*this, sql, action);
  return *slot;
}

void SqliteDatabase::execute(std::string_view sql, std::string_view action) {
  if (!connection_) {
    throw TransientDatabaseError("SQLite database '" + path_ + "' is closed; reconnect and retry.");
  }
  SqliteStatement statement(*this, sql, action);
  statement.run();
}

void SqliteDatabase::begin_immediate(std::string_view action) {
  // A deferred BEGIN that reads first and writes later fails with SQLITE_BUSY
  // without waiting when another connection wrote meanwhile. IMMEDIATE takes
  // the write lock up front, so the busy timeout applies.
  execute("BEGIN IMMEDIATE", action);
}

// ---------------------------------------------------------------- schema

void SqliteDatabase::init_schema() {
  const TableNames& t = config_.tables;

  std::string snapshot_definitions = "\"ticker\" TEXT NOT NULL, \"as_of_date\" TEXT NOT NULL, "
                                     "\"bars_used\" INTEGER NOT NULL";
  // The doubles are declared without a type (BLOB affinity) so SQLite keeps
  // each as an 8-byte float: with REAL affinity it writes integral values as
  // integers, which turns -0.0 into 0.
  for (const auto name : kColumnNames) snapshot_definitions += ", " + quote_identifier(name);
  snapshot_definitions += ", \"run_id\" TEXT";

  begin_immediate("start the schema transaction");
  try {
    execute("CREATE TABLE IF NOT EXISTS " + quote_identifier(t.prices) + " (" +
                column_definitions(schema::kPriceColumns, kPriceTypes) +
                ", PRIMARY KEY (\"ticker\", \"trade_date\")) WITHOUT ROWID",
            "create table " + t.prices);
    execute("CREATE TABLE IF NOT EXISTS " + quote_identifier(t.snapshots) + " (" +
                snapshot_definitions + ", PRIMARY KEY (\"ticker\", \"as_of_date\"))",
            "create table " + t.snapshots);
    execute("CREATE TABLE IF NOT EXISTS " + quote_identifier(t.runs) + " (" +
                column_definitions(schema::kRunColumns, kRunTypes) + ")",
            "create table " + t.runs);
    execute("CREATE TABLE IF NOT EXISTS " + quote_identifier(t.run_ranks) + " (" +
                column_definitions(schema::kRunRankColumns, kRunRankTypes) +
                ", PRIMARY KEY (\"run_id\", \"rank\"))",
            "create table " + t.run_ranks);
    execute("CREATE TABLE IF NOT EXISTS " + quote_identifier(t.run_tickers) + " (" +
                column_definitions(schema::kRunTickerColumns, kRunTickerTypes) +
                ", PRIMARY KEY (\"run_id\", \"ticker\"))",
            "create table " + t.run_tickers);
    commit_chunk();
  } catch (...) {
    rollback_chunk();
    throw;
  }

  check_schema();
  spdlog::info("Schema ready in SQLite database {}", path_);
}

void SqliteDatabase::check_schema() {
  const TableNames& t = config_.tables;
  const auto snapshot = snapshot_columns();
  const std::vector<std::pair<std::string, std::vector<std::string_view>>> tables = {
      {t.prices, {schema::kPriceColumns.begin(), schema::kPriceColumns.end()}},
      {t.snapshots, snapshot},
      {t.runs, {schema::kRunColumns.begin(), schema::kRunColumns.end()}},
      {t.run_ranks, {schema::kRunRankColumns.begin(), schema::kRunRankColumns.end()}},
      {t.run_tickers, {schema::kRunTickerColumns.begin(), schema::kRunTickerColumns.end()}},
  };

  SqliteStatement columns(*this, "SELECT name FROM pragma_table_info(?1)", "read the table columns");
  for (const auto& [table, expected] : tables) {
    columns.bind_text(1, table);
    std::vector<std::string> present;
    while (columns.step()) present.emplace_back(columns.column_text(0));
    columns.reset();

    if (present.empty()) {
      throw DatabaseError("Table '" + table + "' is missing in SQLite database '" + path_ +
                          "'. Run 'tasnap init' with the same --db and table options to create it.");
    }
    for (const auto column : expected) {
      if (std::find(present.begin(), present.end(), column) == present.end()) {
        throw DatabaseError("Table '" + table + "' in SQLite database '" + path_ +
                            "' has no column '" + std::string(column) +
                            "'. It was not created by this version of tasnap: add the column, "
                            "or pass another table name or a new database file.");
      }
    }
  }
}

// ---------------------------------------------------------------- prices

void SqliteDatabase::upsert_prices(std::span<const PriceRow> rows) {
  const std::string table = quote_identifier(config_.tables.prices);
  auto& statement = prepared(
      upsert_price_,
      "INSERT INTO " + table + " (" + join_columns(schema::kPriceColumns) + ") VALUES (" +
          placeholders(schema::kPriceColumns.size()) +
          ") ON CONFLICT (\"ticker\", \"trade_date\") DO UPDATE SET " +
          update_from_excluded(schema::kPriceColumns, 2),
      "upsert into table " + config_.tables.prices);

  begin_immediate("start the price upsert transaction");
  try {
    // SQLite stores a NaN REAL as NULL, and a NULL adj_close means "no
    // adjustment" where a NaN marks an invalid bar. So a NaN input value is
    // stored as the text 'NaN' and read back as NaN.
    const auto bind_price = [&statement](int index, double value) {
      if (std::isnan(value)) {
        statement.bind_text(index, "NaN");
      } else {
        statement.bind_double(index, value);
      }
    };
    for (const auto& row : rows) {
      const DateText date(row.trade_date);
      statement.bind_text(1, row.ticker);
      statement.bind_text(2, date.view());
      bind_price(3, row.open);
      bind_price(4, row.high);
      bind_price(5, row.low);
      bind_price(6, row.close);
      if (row.adj_close) {
        bind_price(7, *row.adj_close);
      } else {
        statement.bind_null(7);
      }
      statement.bind_int64(8, row.volume);
      if (row.split_factor) {
        bind_price(9, *row.split_factor);
      } else {
        statement.bind_null(9);
      }
      statement.run();
    }
    commit_chunk();
  } catch (...) {
    rollback_chunk();
    throw;
  }
}

std::optional<Date> SqliteDatabase::latest_trade_date() {
  // A loose index scan: the latest date of each ticker comes from the primary
  // key, so this touches one page path per ticker instead of every bar.
  const std::string table = quote_identifier(config_.tables.prices);
  SqliteStatement statement(
      *this,
      "WITH RECURSIVE t(ticker) AS (SELECT min(ticker) FROM " + table +
          " UNION ALL SELECT (SELECT min(ticker) FROM " + table +
          " WHERE ticker > t.ticker) FROM t WHERE t.ticker IS NOT NULL) "
          "SELECT max((SELECT max(trade_date) FROM " + table +
          " p WHERE p.ticker = t.ticker)) FROM t WHERE t.ticker IS NOT NULL",
      "read the latest trade_date of table " + config_.tables.prices);
  if (!statement.step() || statement.is_null(0)) return std::nullopt;

  const auto text = statement.column_text(0);
  const auto date = parse_date(text);
  if (!date) {
    throw DatabaseError("Invalid trade_date '" + std::string(text) + "' in table '" +
                        config_.tables.prices + "' of SQLite database '" + path_ +
                        "'. Dates must be stored as YYYY-MM-DD text; reload the prices.");
  }
  return date;
}

std::vector<std::string> SqliteDatabase::tickers_with_bars_between(Date from, Date to) {
  const std::string table = quote_identifier(config_.tables.prices);
  SqliteStatement statement(
      *this,
      "WITH RECURSIVE t(ticker) AS (SELECT min(ticker) FROM " + table +
          " UNION ALL SELECT (SELECT min(ticker) FROM " + table +
          " WHERE ticker > t.ticker) FROM t WHERE t.ticker IS NOT NULL) "
          "SELECT ticker FROM t WHERE ticker IS NOT NULL AND EXISTS (SELECT 1 FROM " + table +
          " p WHERE p.ticker = t.ticker AND p.trade_date BETWEEN ?1 AND ?2) ORDER BY ticker",
      "list the tickers of table " + config_.tables.prices);
  const DateText from_text(from);
  const DateText to_text(to);
  statement.bind_text(1, from_text.view());
  statement.bind_text(2, to_text.view());

  std::vector<std::string> tickers;
  while (statement.step()) tickers.emplace_back(statement.column_text(0));
  return tickers;
}

void SqliteDatabase::read_bars(std::span<const std::string> tickers,
                               std::optional<Date> history_start, Date to, BarChunk& out) {
  out.clear();
  if (tickers.empty()) return;

  // One statement per chunk: the tickers travel as one JSON array parameter.
  // Without a history start, ?3 is '' and every date compares greater.
  const std::string table = quote_identifier(config_.tables.prices);
  auto& statement = prepared(
      read_bars_,
      "SELECT ticker, trade_date, open, high, low, close, adj_close, volume, split_factor FROM " +
          table +
          " WHERE ticker IN (SELECT value FROM json_each(?1)) AND trade_date <= ?2 AND "
          "trade_date >= ?3 ORDER BY ticker, trade_date",
      "read bars from table " + config_.tables.prices);

  const std::string ticker_list = json_string_array(tickers);
  const DateText to_text(to);
  const std::optional<DateText> start_text =
      history_start ? std::optional<DateText>(DateText(*history_start)) : std::nullopt;
  statement.bind_text(1, ticker_list);
  statement.bind_text(2, to_text.view());
  statement.bind_text(3, start_text ? start_text->view() : std::string_view(""));

  std::string current_ticker;
  try {
    while (statement.step()) {
      const auto ticker = statement.column_text(0);
      if (out.ticker_count() == 0 || ticker != current_ticker) {
        current_ticker.assign(ticker);
        out.begin_ticker(current_ticker);
      }

      const auto date_text = statement.column_text(1);
      const auto date = parse_date(date_text);
      if (!date) {
        throw DatabaseError("Invalid trade_date '" + std::string(date_text) + "' for ticker '" +
                            current_ticker + "' in table '" + config_.tables.prices +
                            "' of SQLite database '" + path_ +
                            "'. Dates must be stored as YYYY-MM-DD text; reload the prices.");
      }

      std::uint8_t nulls = 0;
      const auto value = [&](int column, std::uint8_t bit) {
        if (statement.is_null(column)) {
          nulls |= bit;
          return 0.0;
        }
        // Text in a price column is a NaN stored by upsert_prices (or foreign
        // text): either way the bar is invalid, so it reads as NaN.
        if (statement.is_text(column)) return std::numeric_limits<double>::quiet_NaN();
        return statement.column_double(column);
      };
      const double open = value(2, null_bit::kOpen);
      const double high = value(3, null_bit::kHigh);
      const double low = value(4, null_bit::kLow);
      const double close = value(5, null_bit::kClose);
      const double adj_close = value(6, null_bit::kAdjClose);
      std::int64_t volume = 0;
      if (statement.is_null(7)) {
        nulls |= null_bit::kVolume;
      } else {
        volume = statement.column_int64(7);
      }
      const double split_factor = value(8, null_bit::kSplitFactor);

      out.add_bar(*date, open, high, low, close, adj_close, volume, split_factor, nulls);
    }
  } catch (...) {
    statement.reset();
    throw;
  }
  statement.reset();
}

// ---------------------------------------------------------------- snapshots

void SqliteDatabase::begin_chunk() { begin_immediate("start the chunk transaction"); }

void SqliteDatabase::write_rows(std::span<const SnapshotRow> rows, std::string_view run_id) {
  const auto columns = snapshot_columns();
  auto& statement = prepared(
      write_rows_,
      "INSERT INTO " + quote_identifier(config_.tables.snapshots) + " (" + join_columns(columns) +
          ") VALUES (" + placeholders(columns.size()) +
          ") ON CONFLICT (\"ticker\", \"as_of_date\") DO UPDATE SET " +
          update_from_excluded(columns, 2),
      "upsert into table " + config_.tables.snapshots);

  const int run_id_index = static_cast<int>(columns.size());
  for (const auto& row : rows) {
    const DateText date(row.as_of_date);
    statement.bind_text(1, row.ticker);
    statement.bind_text(2, date.view());
    statement.bind_int64(3, row.bars_used);
    for (std::size_t i = 0; i < kColumnCount; ++i) {
      statement.bind_double(static_cast<int>(i) + 4, row.values[i]);
    }
    statement.bind_text(run_id_index, run_id);
    statement.run();
  }
}

void SqliteDatabase::commit_chunk() {
  execute("COMMIT", "commit the transaction");
}

void SqliteDatabase::rollback_chunk() noexcept {
  if (!connection_ || sqlite3_get_autocommit(connection_) != 0) return;
  const int code = sqlite3_exec(connection_, "ROLLBACK", nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) {
    spdlog::warn("Rollback failed on SQLite database {}: {}", path_, sqlite3_errmsg(connection_));
  }
}

std::vector<std::pair<SnapshotRow, std::string>> SqliteDatabase::read_snapshots(
    std::string_view ticker, Date from, Date to) {
  const auto columns = snapshot_columns();
  SqliteStatement statement(*this,
                            "SELECT " + join_columns(columns) + " FROM " +
                                quote_identifier(config_.tables.snapshots) +
                                " WHERE ticker = ?1 AND as_of_date BETWEEN ?2 AND ?3 "
                                "ORDER BY as_of_date",
                            "read rows from table " + config_.tables.snapshots);
  const DateText from_text(from);
  const DateText to_text(to);
  statement.bind_text(1, ticker);
  statement.bind_text(2, from_text.view());
  statement.bind_text(3, to_text.view());

  std::vector<std::pair<SnapshotRow, std::string>> rows;
  while (statement.step()) {
    SnapshotRow row;
    row.ticker.assign(statement.column_text(0));
    const auto date_text = statement.column_text(1);
    const auto date = parse_date(date_text);
    if (!date) {
      throw DatabaseError("Invalid as_of_date '" + std::string(date_text) + "' in table '" +
                          config_.tables.snapshots + "' of SQLite database '" + path_ +
                          "'. Dates must be stored as YYYY-MM-DD text.");
    }
    row.as_of_date = *date;
    row.bars_used = static_cast<std::int32_t>(statement.column_int64(2));
    for (std::size_t i = 0; i < kColumnCount; ++i) {
      const int column = static_cast<int>(i) + 3;
      row.values[i] = statement.is_null(column) ? kNull : statement.column_double(column);
    }
    rows.emplace_back(std::move(row), std::string(statement.column_text(static_cast<int>(columns.size()) - 1)));
  }
  return rows;
}

// ---------------------------------------------------------------- run log

void SqliteDatabase::upsert_run(const RunRecord& run) {
  auto& statement = prepared(
      upsert_run_,
      "INSERT INTO " + quote_identifier(config_.tables.runs) + " (" +
          join_columns(schema::kRunColumns) + ") VALUES (" +
          placeholders(schema::kRunColumns.size()) + ") ON CONFLICT (\"run_id\") DO UPDATE SET " +
          update_from_excluded(schema::kRunColumns, 1),
      "write a run into table " + config_.tables.runs);

  const DateText as_of(run.as_of_date);
  const std::optional<DateText> from =
      run.from_date ? std::optional<DateText>(DateText(*run.from_date)) : std::nullopt;
  const std::optional<DateText> history =
      run.history_start ? std::optional<DateText>(DateText(*run.history_start)) : std::nullopt;

  statement.bind_text(1, run.run_id);
  statement.bind_text(2, run.mode);
  statement.bind_text(3, run.started_at);
  if (run.finished_at.empty()) {
    statement.bind_null(4);
  } else {
    statement.bind_text(4, run.finished_at);
  }
  statement.bind_text(5, run.status);
  statement.bind_text(6, as_of.view());
  if (from) {
    statement.bind_text(7, from->view());
  } else {
    statement.bind_null(7);
  }
  if (history) {
    statement.bind_text(8, history->view());
  } else {
    statement.bind_null(8);
  }
  statement.bind_int64(9, run.workers);
  statement.bind_int64(10, run.chunk_size);
  statement.bind_int64(11, run.tickers);
  statement.bind_int64(12, run.rows);
  statement.bind_text(13, run.error);
  statement.bind_text(14, run.digest);
  statement.bind_text(15, run.version);
  statement.bind_text(16, run.params_hash);
  statement.bind_text(17, run.host);
  statement.bind_int64(18, run.pid);
  statement.run();
}

void SqliteDatabase::insert_run(const RunRecord& run) {
  begin_immediate("start the run insert transaction");
  try {
    upsert_run(run);
    commit_chunk();
  } catch (...) {
    rollback_chunk();
    throw;
  }
  spdlog::debug("Recorded run {} in SQLite database {}", run.run_id, path_);
}

void SqliteDatabase::finish_run(const RunRecord& run, std::span<const RankTelemetry> ranks,
                                std::span<const TickerDigest> tickers) {
  const TableNames& t = config_.tables;
  auto& insert_rank = prepared(
      insert_rank_,
      "INSERT OR REPLACE INTO " + quote_identifier(t.run_ranks) + " (" +
          join_columns(schema::kRunRankColumns) + ") VALUES (" +
          placeholders(schema::kRunRankColumns.size()) + ")",
      "write rank telemetry into table " + t.run_ranks);
  auto& insert_ticker = prepared(
      insert_ticker_,
      "INSERT OR REPLACE INTO " + quote_identifier(t.run_tickers) + " (" +
          join_columns(schema::kRunTickerColumns) + ") VALUES (" +
          placeholders(schema::kRunTickerColumns.size()) + ")",
      "write ticker digests into table " + t.run_tickers);

  begin_immediate("start the run finish transaction");
  try {
    upsert_run(run);

    // A finished run replaces whatever an earlier attempt with the same id wrote.
    SqliteStatement delete_ranks(*this, "DELETE FROM " + quote_identifier(t.run_ranks) +
                                            " WHERE run_id = ?1",
                                 "clear rank telemetry in table " + t.run_ranks);
    delete_ranks.bind_text(1, run.run_id);
    delete_ranks.run();
    SqliteStatement delete_tickers(*this, "DELETE FROM " + quote_identifier(t.run_tickers) +
                                              " WHERE run_id = ?1",
                                   "clear ticker digests in table " + t.run_tickers);
    delete_tickers.bind_text(1, run.run_id);
    delete_tickers.run();

    for (const auto& rank : ranks) {
      const std::string failed = schema::format_chunk_list(rank.failed_chunks);
      const std::array<std::int64_t, 11> counters = {
          rank.chunks_assigned, rank.chunks_done, rank.tickers,
          rank.bars_read, rank.invalid_bars, rank.rows_upserted,
          rank.tickers_skipped, rank.skipped_no_bars, rank.skipped_no_valid_bars,
          rank.skipped_no_bar_on_date, rank.retries};
      const std::array<double, 5> seconds = {rank.connect_seconds, rank.read_seconds,
                                             rank.compute_seconds, rank.write_seconds,
                                             rank.total_seconds};
      insert_rank.bind_text(1, run.run_id);
      insert_rank.bind_int64(2, rank.rank);
      insert_rank.bind_text(3, rank.host);
      insert_rank.bind_int64(4, rank.pid);
      for (std::size_t i = 0; i < counters.size(); ++i) {
        insert_rank.bind_int64(static_cast<int>(i) + 5, counters[i]);
      }
      for (std::size_t i = 0; i < seconds.size(); ++i) {
        insert_rank.bind_double(static_cast<int>(i) + 16, seconds[i]);
      }
      insert_rank.bind_int64(21, rank.peak_rss_kib);
      insert_rank.bind_text(22, rank.digest);
      insert_rank.bind_text(23, rank.error);
      insert_rank.bind_text(24, failed);
      insert_rank.run();
    }

    for (const auto& ticker : tickers) {
      insert_ticker.bind_text(1, run.run_id);
      insert_ticker.bind_text(2, ticker.ticker);
      insert_ticker.bind_int64(3, ticker.rank);
      insert_ticker.bind_int64(4, ticker.chunk);
      insert_ticker.bind_int64(5, ticker.rows);
      insert_ticker.bind_int64(6, ticker.invalid_bars);
      insert_ticker.bind_text(7, ticker.digest);
      insert_ticker.run();
    }
    commit_chunk();
  } catch (...) {
    rollback_chunk();
    throw;
  }
  spdlog::debug("Recorded the end of run {} ({}) in SQLite database {}", run.run_id, run.status,
                path_);
}

RunRecord SqliteDatabase::read_run(const SqliteStatement& statement) const {
  const auto optional_date = [&](int column) -> std::optional<Date> {
    if (statement.is_null(column)) return std::nullopt;
    return parse_date(statement.column_text(column));
  };

  RunRecord run;
  run.run_id = statement.column_text(0);
  run.mode = statement.column_text(1);
  run.started_at = statement.column_text(2);
  run.finished_at = statement.column_text(3);
  run.status = statement.column_text(4);
  run.as_of_date = optional_date(5).value_or(Date{});
  run.from_date = optional_date(6);
  run.history_start = optional_date(7);
  run.workers = static_cast<int>(statement.column_int64(8));
  run.chunk_size = statement.column_int64(9);
  run.tickers = statement.column_int64(10);
  run.rows = statement.column_int64(11);
  run.error = statement.column_text(12);
  run.digest = statement.column_text(13);
  run.version = statement.column_text(14);
  run.params_hash = statement.column_text(15);
  run.host = statement.column_text(16);
  run.pid = statement.column_int64(17);
  return run;
}

std::vector<RunRecord> SqliteDatabase::runs_with_status(std::string_view status) {
  SqliteStatement statement(*this,
                            "SELECT " + join_columns(schema::kRunColumns) + " FROM " +
                                quote_identifier(config_.tables.runs) +
                                " WHERE status = ?1 ORDER BY started_at, run_id",
                            "list runs in table " + config_.tables.runs);
  statement.bind_text(1, status);

  std::vector<RunRecord> runs;
  while (statement.step()) runs.push_back(read_run(statement));
  return runs;
}

void SqliteDatabase::set_run_status(std::string_view run_id, std::string_view status,
                                    std::string_view error) {
  SqliteStatement statement(*this,
                            "UPDATE " + quote_identifier(config_.tables.runs) +
                                " SET status = ?2, error = ?3 WHERE run_id = ?1",
                            "update a run in table " + config_.tables.runs);
  statement.bind_text(1, run_id);
  statement.bind_text(2, status);
  statement.bind_text(3, error);

  begin_immediate("start the run status transaction");
  int changed = 0;
  try {
    statement.run();
    changed = sqlite3_changes(connection_);
    commit_chunk();
  } catch (...) {
    rollback_chunk();
    throw;
  }

  if (changed == 0) {
    throw InputError("No run '" + std::string(run_id) + "' in table '" + config_.tables.runs +
                     "' of SQLite database '" + path_ + "'. Check the run id.");
  }
}

std::optional<RunRecord> SqliteDatabase::find_run(std::string_view run_id) {
  SqliteStatement statement(*this,
                            "SELECT " + join_columns(schema::kRunColumns) + " FROM " +
                                quote_identifier(config_.tables.runs) + " WHERE run_id = ?1",
                            "read a run from table " + config_.tables.runs);
  statement.bind_text(1, run_id);
  if (!statement.step()) return std::nullopt;
  return read_run(statement);
}

std::vector<RankTelemetry> SqliteDatabase::run_ranks(std::string_view run_id) {
  SqliteStatement statement(*this,
                            "SELECT " + join_columns(schema::kRunRankColumns) + " FROM " +
                                quote_identifier(config_.tables.run_ranks) +
                                " WHERE run_id = ?1 ORDER BY rank",
                            "read rank telemetry from table " + config_.tables.run_ranks);
  statement.bind_text(1, run_id);

  std::vector<RankTelemetry> ranks;
  while (statement.step()) {
    RankTelemetry rank;
    rank.rank = static_cast<int>(statement.column_int64(1));
    rank.host = statement.column_text(2);
    rank.pid = statement.column_int64(3);
    std::array<std::int64_t*, 11> counters = {
        &rank.chunks_assigned, &rank.chunks_done, &rank.tickers,
        &rank.bars_read, &rank.invalid_bars, &rank.rows_upserted,
        &rank.tickers_skipped, &rank.skipped_no_bars, &rank.skipped_no_valid_bars,
        &rank.skipped_no_bar_on_date, &rank.retries};
    for (std::size_t i = 0; i < counters.size(); ++i) {
      *counters[i] = statement.column_int64(static_cast<int>(i) + 4);
    }
    std::array<double*, 5> seconds = {&rank.connect_seconds, &rank.read_seconds,
                                      &rank.compute_seconds, &rank.write_seconds,
                                      &rank.total_seconds};
    for (std::size_t i = 0; i < seconds.size(); ++i) {
      *seconds[i] = statement.column_double(static_cast<int>(i) + 15);
    }
    rank.peak_rss_kib = statement.column_int64(20);
    rank.digest = statement.column_text(21);
    rank.error = statement.column_text(22);
    rank.failed_chunks = schema::parse_chunk_list(statement.column_text(23));
    ranks.push_back(std::move(rank));
  }
  return ranks;
}

std::vector<TickerDigest> SqliteDatabase::run_tickers(std::string_view run_id) {
  SqliteStatement statement(*this,
                            "SELECT " + join_columns(schema::kRunTickerColumns) + " FROM " +
                                quote_identifier(config_.tables.run_tickers) +
                                " WHERE run_id = ?1 ORDER BY ticker",
                            "read ticker digests from table " + config_.tables.run_tickers);
  statement.bind_text(1, run_id);

  std::vector<TickerDigest> tickers;
  while (statement.step()) {
    TickerDigest ticker;
    ticker.ticker = statement.column_text(1);
    ticker.rank = static_cast<int>(statement.column_int64(2));
    ticker.chunk = statement.column_int64(3);
    ticker.rows = statement.column_int64(4);
    ticker.invalid_bars = statement.column_int64(5);
    ticker.digest = statement.column_text(6);
    tickers.push_back(std::move(ticker));
  }
  return tickers;
}

}  // namespace tasnap::storage
