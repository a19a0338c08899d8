// PostgreSQL backend tests against the real private server. Each test works on
// its own uniquely named tables, so the suites can run in parallel.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "storage/postgres_database.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

std::uint64_t bits_of(double value) { return std::bit_cast<std::uint64_t>(value); }

// A second connection for setup the backend does not offer: triggers, drops,
// direct inserts and pg_terminate_backend.
class AdminConnection {
 public:
  explicit AdminConnection(const std::string& uri) : conn_(PQconnectdb(uri.c_str())) {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  }
  ~AdminConnection() { PQfinish(conn_); }

  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }

  // Runs `sql` and returns the first value of the first row ("" when none).
  std::string run(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    std::string value;
    if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) value = PQgetvalue(result, 0, 0);
    const std::string error = PQresultErrorMessage(result);
    PQclear(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      ADD_FAILURE() << "admin SQL failed: " << sql << "\n" << error;
    }
    return value;
  }

 private:
  PGconn* conn_;
};

std::string quote_name(std::string_view name) {
  std::string text = "\"";
  for (const char c : name) text += c == '"' ? std::string("\"\"") : std::string(1, c);
  return text + "\"";
}

// The value of `keyword` in a libpq connection string, or "" when absent.
std::string option_of(const std::string& conninfo, std::string_view keyword) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  std::string value;
  for (const PQconninfoOption* option = options; option && option->keyword; ++option) {
    if (keyword == option->keyword && option->val) value = option->val;
  }
  PQconninfoFree(options);
  return value;
}

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = testing::test_postgres_uri();
    ASSERT_FALSE(uri_.empty())
        << "TASNAP_TEST_PG is not set: run the db tests through tools/test.sh, which starts the "
           "private PostgreSQL server and sets it.";

    admin_ = std::make_unique<AdminConnection>(uri_);
    ASSERT_TRUE(admin_->ok()) << "cannot connect to the test server with TASNAP_TEST_PG";

    static int counter = 0;
    const std::string suffix = "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    config_.uri = uri_;
    config_.tables.prices = "t_prices" + suffix;
    config_.tables.snapshots = "t_snapshots" + suffix;
    config_.tables.runs = "t_runs" + suffix;
    config_.tables.run_ranks = "t_run_ranks" + suffix;
    config_.tables.run_tickers = "t_run_tickers" + suffix;
  }

  void TearDown() override {
    if (!admin_ || !admin_->ok()) return;
    const TableNames& t = config_.tables;
    for (const auto& table : {t.prices, t.snapshots, t.runs, t.run_ranks, t.run_tickers}) {
      admin_->run("DROP TABLE IF EXISTS " + quote_name(table) + " CASCADE");
    }
  }

  std::unique_ptr<PostgresDatabase> open_initialised() {
    auto db = std::make_unique<PostgresDatabase>(config_);
    db->init_schema();
    return db;
  }

  static PriceRow bar(std::string ticker, Date date, double close) {
    return PriceRow{.ticker = std::move(ticker),
                    .trade_date = date,
                    .open = close - 1,
                    .high = close + 2,
                    .low = close - 2,
                    .close = close,
                    .adj_close = close * 0.5,
                    .volume = 1000,
                    .split_factor = std::nullopt};
  }

  static SnapshotRow snapshot(std::string ticker, Date date, double seed) {
    SnapshotRow row;
    row.ticker = std::move(ticker);
    row.as_of_date = date;
    row.bars_used = 250;
    for (std::size_t i = 0; i < kColumnCount; ++i) row.values[i] = seed + static_cast<double>(i);
    return row;
  }

  std::string uri_;
  DbConfig config_;
  std::unique_ptr<AdminConnection> admin_;
};

const Date kDay1 = make_date(2024, 1, 2);
const Date kDay2 = make_date(2024, 1, 3);
const Date kDay3 = make_date(2024, 1, 4);

TEST_F(PostgresTest, DescribeNamesHostDatabaseUser) {
  PostgresDatabase db(config_);
  EXPECT_EQ(db.backend(), Backend::postgresql);
  EXPECT_NE(db.describe().find("host "), std::string::npos) << db.describe();
  EXPECT_NE(db.describe().find("as user "), std::string::npos) << db.describe();
  EXPECT_NE(db.describe().find("database \""), std::string::npos) << db.describe();

  const auto free = db.free_connections();
  ASSERT_TRUE(free.has_value());
  EXPECT_GT(*free, 0);
  EXPECT_LT(*free, 10000);
}

TEST_F(PostgresTest, InitSchemaIsRepeatable) {
  auto db = open_initialised();
  EXPECT_NO_THROW(db->init_schema());
  EXPECT_NO_THROW(db->check_schema());
  EXPECT_EQ(admin_->run("SELECT count(*) FROM information_schema.columns WHERE table_name = '" +
                        config_.tables.snapshots + "'"),
            std::to_string(3 + kColumnCount + 1));
}

TEST_F(PostgresTest, CheckSchemaNamesMissingColumn) {
  auto db = open_initialised();
  admin_->run("ALTER TABLE " + quote_name(config_.tables.snapshots) + " DROP COLUMN rsi_14");

  try {
    db->check_schema();
    FAIL() << "check_schema accepted a table without rsi_14";
  } catch (const DatabaseError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("rsi_14"), std::string::npos) << message;
    EXPECT_NE(message.find(config_.tables.snapshots), std::string::npos) << message;
    EXPECT_NE(message.find("tasnap init"), std::string::npos) << message;
  }
}

TEST_F(PostgresTest, CheckSchemaNamesMissingTable) {
  auto db = open_initialised();
  admin_->run("DROP TABLE " + quote_name(config_.tables.run_tickers));

  try {
    db->check_schema();
    FAIL() << "check_schema accepted a missing table";
  } catch (const DatabaseError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(config_.tables.run_tickers), std::string::npos) << message;
    EXPECT_NE(message.find("missing"), std::string::npos) << message;
  }
}

TEST_F(PostgresTest, BarsRoundTripWithNullsAndExtremes) {
  auto db = open_initialised();
  const double tiny = std::numeric_limits<double>::denorm_min();
  const double huge = std::numeric_limits<double>::max();

  PriceRow extreme = bar("XTR", kDay1, 100);
  extreme.open = -0.0;
  extreme.high = huge;
  extreme.low = tiny;
  extreme.close = 0.1 + 0.2;
  extreme.adj_close = std::nullopt;
  extreme.split_factor = 0.5;
  extreme.volume = std::numeric_limits<std::int64_t>::max();
  const std::vector<PriceRow> rows = {extreme, bar("XTR", kDay2, 101), bar("ABC", kDay1, 50)};
  db->upsert_prices(rows);

  // A bar with NULL prices and volume can only come from outside tasnap.
  admin_->run("INSERT INTO " + quote_name(config_.tables.prices) +
              " (ticker, trade_date, open, high, low, close, adj_close, volume, split_factor)"
              " VALUES ('ABC', '2024-01-03', NULL, 1, 1, NULL, 1, NULL, NULL)");

  BarChunk chunk;
  const std::vector<std::string> tickers = {"XTR", "ABC"};
  db->read_bars(tickers, std::nullopt, kDay3, chunk);
  ASSERT_EQ(chunk.ticker_count(), 2u);
  ASSERT_EQ(chunk.bar_count(), 4u);

  for (std::size_t t = 0; t < chunk.ticker_count(); ++t) {
    const RawBarsView bars = chunk.bars(t);
    ASSERT_EQ(bars.size(), 2u) << chunk.ticker(t);
    EXPECT_EQ(bars.trade_date[0], kDay1);
    EXPECT_EQ(bars.trade_date[1], kDay2);

    if (chunk.ticker(t) == "XTR") {
      EXPECT_EQ(bits_of(bars.open[0]), bits_of(-0.0));
      EXPECT_EQ(bits_of(bars.high[0]), bits_of(huge));
      EXPECT_EQ(bits_of(bars.low[0]), bits_of(tiny));
      EXPECT_EQ(bits_of(bars.close[0]), bits_of(0.1 + 0.2));
      EXPECT_EQ(bars.volume[0], std::numeric_limits<std::int64_t>::max());
      EXPECT_EQ(bars.split_factor[0], 0.5);
      EXPECT_EQ(bars.nulls[0], null_bit::kAdjClose);
      EXPECT_EQ(bars.nulls[1], null_bit::kSplitFactor);
      EXPECT_EQ(bars.adj_close[1], 101 * 0.5);
    } else {
      ASSERT_EQ(chunk.ticker(t), "ABC");
      EXPECT_EQ(bars.nulls[0], null_bit::kSplitFactor);
      EXPECT_EQ(bars.close[0], 50);
      EXPECT_EQ(bars.nulls[1],
                null_bit::kOpen | null_bit::kClose | null_bit::kVolume | null_bit::kSplitFactor);
      EXPECT_EQ(bars.high[1], 1);
    }
  }
}

TEST_F(PostgresTest, ReadBarsHonoursDateRange) {
  auto db = open_initialised();
  std::vector<PriceRow> rows;
  for (int day = 1; day <= 20; ++day) {
    rows.push_back(bar("AAA", make_date(2024, 3, static_cast<unsigned>(day)), day));
    rows.push_back(bar("BBB", make_date(2024, 3, static_cast<unsigned>(day)), day));
    rows.push_back(bar("CCC", make_date(2024, 3, static_cast<unsigned>(day)), day));
  }
  db->upsert_prices(rows);

  BarChunk chunk;
  const std::vector<std::string> tickers = {"AAA", "CCC", "MISSING"};
  db->read_bars(tickers, std::nullopt, make_date(2024, 3, 10), chunk);
  ASSERT_EQ(chunk.ticker_count(), 2u);
  EXPECT_EQ(chunk.bar_count(), 20u);
  for (std::size_t t = 0; t < chunk.ticker_count(); ++t) {
    EXPECT_NE(chunk.ticker(t), "BBB");
    EXPECT_EQ(chunk.bars(t).trade_date.back(), make_date(2024, 3, 10));
    EXPECT_EQ(chunk.bars(t).trade_date.front(), make_date(2024, 3, 1));
  }

  db->read_bars(tickers, make_date(2024, 3, 5), make_date(2024, 3, 10), chunk);
  ASSERT_EQ(chunk.ticker_count(), 2u);
  EXPECT_EQ(chunk.bar_count(), 12u);
  EXPECT_EQ(chunk.bars(0).trade_date.front(), make_date(2024, 3, 5));

  const std::vector<std::string> none = {"MISSING"};
  db->read_bars(none, std::nullopt, make_date(2024, 3, 10), chunk);
  EXPECT_EQ(chunk.ticker_count(), 0u);
  EXPECT_EQ(chunk.bar_count(), 0u);

  EXPECT_EQ(db->latest_trade_date(), make_date(2024, 3, 20));
  const auto listed = db->tickers_with_bars_between(make_date(2024, 3, 20), make_date(2024, 3, 25));
  EXPECT_EQ(listed, (std::vector<std::string>{"AAA", "BBB", "CCC"}));
  EXPECT_TRUE(db->tickers_with_bars_between(make_date(2025, 1, 1), make_date(2025, 2, 1)).empty());
}

TEST_F(PostgresTest, ChunkReadIsOneQuery) {
  auto db = open_initialised();
  db->upsert_prices(std::vector<PriceRow>{bar("AAA", kDay1, 1), bar("BBB", kDay1, 2)});
  const std::vector<std::string> tickers = {"AAA", "BBB"};
  BarChunk chunk;
  db->read_bars(tickers, std::nullopt, kDay3, chunk);  // the first read also creates the request table

  const std::int64_t before = db->queries_sent();
  db->read_bars(tickers, kDay1, kDay3, chunk);
  EXPECT_EQ(db->queries_sent() - before, 1);
  EXPECT_EQ(chunk.bar_count(), 2u);
}

TEST_F(PostgresTest, SnapshotRowsRoundTripBitwise) {
  auto db = open_initialised();
  SnapshotRow row = snapshot("AAA", kDay1, 1.5);
  row[Column::rsi_14] = kNull;
  row[Column::gap_pct] = kNull;
  row[Column::close] = std::numeric_limits<double>::max();
  row[Column::volume] = std::numeric_limits<double>::denorm_min();
  row[Column::obv] = -0.0;
  row[Column::macd] = 1.0 / 3.0;
  const std::vector<SnapshotRow> rows = {row, snapshot("AAA", kDay2, 7)};

  db->begin_chunk();
  db->write_rows(rows, "run-1");
  db->commit_chunk();

  const auto stored = db->read_snapshots("AAA", kDay1, kDay3);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].second, "run-1");
  EXPECT_EQ(stored[0].first.ticker, "AAA");
  EXPECT_EQ(stored[0].first.as_of_date, kDay1);
  EXPECT_EQ(stored[0].first.bars_used, 250);
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    if (is_null(row.values[i])) {
      EXPECT_TRUE(is_null(stored[0].first.values[i])) << kColumnNames[i];
    } else {
      EXPECT_EQ(bits_of(stored[0].first.values[i]), bits_of(row.values[i])) << kColumnNames[i];
    }
  }

  // kNull is stored as SQL NULL, never as a NaN value.
  const std::string table = quote_name(config_.tables.snapshots);
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + table + " WHERE rsi_14 IS NULL"), "1");
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + table + " WHERE rsi_14 = 'NaN'::float8"), "0");
}

TEST_F(PostgresTest, UpsertIsIdempotent) {
  auto db = open_initialised();
  std::vector<SnapshotRow> rows;
  for (int i = 0; i < 50; ++i) rows.push_back(snapshot("T" + std::to_string(i), kDay1, i * 0.1));
  rows[3][Column::sma_200] = kNull;

  const std::string table = quote_name(config_.tables.snapshots);
  const std::string fingerprint_sql =
      "SELECT md5(string_agg(t::text, '|' ORDER BY ticker)) FROM " + table + " t";
  for (int attempt = 0; attempt < 2; ++attempt) {
    db->begin_chunk();
    db->write_rows(rows, "run-1");
    db->commit_chunk();
  }
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + table), "50");
  const std::string first = admin_->run(fingerprint_sql);

  db->begin_chunk();
  db->write_rows(rows, "run-1");
  db->commit_chunk();
  EXPECT_EQ(admin_->run(fingerprint_sql), first);

  // A later run replaces every column of the row.
  rows[0][Column::sma_20] = 42;
  db->begin_chunk();
  db->write_rows(std::span(rows).first(1), "run-2");
  db->commit_chunk();
  const auto stored = db->read_snapshots("T0", kDay1, kDay1);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].first[Column::sma_20], 42);
  EXPECT_EQ(stored[0].second, "run-2");
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + table), "50");
}

TEST_F(PostgresTest, FailedChunkRollsBackWhole) {
  auto db = open_initialised();
  const std::string table = quote_name(config_.tables.snapshots);
  const std::string function = quote_name("reject_bad_" + config_.tables.snapshots);
  admin_->run("CREATE FUNCTION " + function +
              "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.ticker = 'BAD' THEN "
              "RAISE EXCEPTION 'ticker BAD rejected by test trigger'; END IF; RETURN NEW; END $$");
  admin_->run("CREATE TRIGGER reject_bad BEFORE INSERT ON " + table +
              " FOR EACH ROW EXECUTE FUNCTION " + function + "()");

  const std::vector<SnapshotRow> good = {snapshot("G1", kDay1, 1), snapshot("G2", kDay1, 2)};
  const std::vector<SnapshotRow> bad = {snapshot("G3", kDay1, 3), snapshot("BAD", kDay1, 4)};

  db->begin_chunk();
  db->write_rows(good, "run-1");
  try {
    db->write_rows(bad, "run-1");
    FAIL() << "the trigger did not reject ticker BAD";
  } catch (const TransientDatabaseError& error) {
    FAIL() << "a trigger error is not transient: " << error.what();
  } catch (const DatabaseError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("P0001"), std::string::npos) << message;
    EXPECT_NE(message.find("rejected by test trigger"), std::string::npos) << message;
    EXPECT_NE(message.find(config_.tables.snapshots), std::string::npos) << message;
  }
  db->rollback_chunk();
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + table), "0");

  // The connection stays usable for the next chunk.
  db->begin_chunk();
  db->write_rows(good, "run-2");
  db->commit_chunk();
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + table), "2");

  // Committing after a failed statement is reported, not silently rolled back.
  db->begin_chunk();
  EXPECT_THROW(db->write_rows(bad, "run-3"), DatabaseError);
  EXPECT_THROW(db->commit_chunk(), DatabaseError);
  db->rollback_chunk();
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + table), "2");
  admin_->run("DROP FUNCTION " + function + "() CASCADE");
}

TEST_F(PostgresTest, QuotedTableNamesNeverExecute) {
  const std::string sentinel = "t_sentinel_" + std::to_string(getpid());
  admin_->run("CREATE TABLE " + quote_name(sentinel) + " (x int)");
  config_.tables.prices = "Prices \"q\"; DROP TABLE " + sentinel + "; --" + config_.tables.prices;
  config_.tables.snapshots = "Snap Shots;" + config_.tables.snapshots;
  config_.tables.runs = "Runs'" + config_.tables.runs;

  auto db = open_initialised();
  db->upsert_prices(std::vector<PriceRow>{bar("AAA", kDay1, 10)});
  BarChunk chunk;
  const std::vector<std::string> tickers = {"AAA"};
  db->read_bars(tickers, std::nullopt, kDay1, chunk);
  EXPECT_EQ(chunk.bar_count(), 1u);

  db->begin_chunk();
  db->write_rows(std::vector<SnapshotRow>{snapshot("AAA", kDay1, 1)}, "run-1");
  db->commit_chunk();
  EXPECT_EQ(db->read_snapshots("AAA", kDay1, kDay1).size(), 1u);
  EXPECT_EQ(db->latest_trade_date(), kDay1);

  EXPECT_EQ(admin_->run("SELECT count(*) FROM pg_tables WHERE tablename = '" + sentinel + "'"), "1");
  EXPECT_EQ(admin_->run("SELECT count(*) FROM " + quote_name(config_.tables.prices)), "1");
  admin_->run("DROP TABLE " + quote_name(sentinel));
}

TEST_F(PostgresTest, PasswordNeverInMessages) {
  const std::string role = "t_role_" + std::to_string(getpid());
  const std::string password = "Secret-Pw-" + std::to_string(getpid()) + "-xyzzy";
  admin_->run("DROP ROLE IF EXISTS " + role);
  admin_->run("CREATE ROLE " + role + " LOGIN SUPERUSER PASSWORD '" + password + "'");

  // The server runs with trust authentication, so the password is accepted
  // without being checked; the test is about where it may appear.
  DbConfig with_password = config_;
  with_password.uri = uri_ + " user=" + role + " password=" + password;
  {
    PostgresDatabase db(with_password);
    EXPECT_EQ(db.describe().find(password), std::string::npos) << db.describe();
    EXPECT_NE(db.describe().find(role), std::string::npos) << db.describe();
    try {
      db.check_schema();
      FAIL() << "check_schema passed without tables";
    } catch (const DatabaseError& error) {
      EXPECT_EQ(std::string(error.what()).find(password), std::string::npos) << error.what();
    }
    try {
      BarChunk chunk;
      const std::vector<std::string> tickers = {"AAA"};
      db.read_bars(tickers, std::nullopt, kDay1, chunk);
      FAIL() << "read_bars passed without a price table";
    } catch (const DatabaseError& error) {
      EXPECT_EQ(std::string(error.what()).find(password), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("42P01"), std::string::npos) << error.what();
    }
  }

  // The same role through a postgresql:// URI, whose password libpq decodes.
  DbConfig uri_form = config_;
  uri_form.uri = "postgresql://" + role + ":" + password + "@/" + option_of(uri_, "dbname") +
                 "?host=" + option_of(uri_, "host") + "&port=" + option_of(uri_, "port");
  {
    PostgresDatabase db(uri_form);
    EXPECT_EQ(db.describe().find(password), std::string::npos) << db.describe();
    EXPECT_THROW(db.check_schema(), DatabaseError);
  }

  // A failed connection with the password in the string and in PGPASSWORD.
  DbConfig bad_database = with_password;
  bad_database.uri += " dbname=no_such_db_" + password;
  setenv("PGPASSWORD", password.c_str(), 1);
  try {
    PostgresDatabase db(bad_database);
    FAIL() << "connected to a missing database";
  } catch (const DatabaseError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find(password), std::string::npos) << message;
    EXPECT_NE(message.find("createdb"), std::string::npos) << message;
  }

  // A string libpq cannot parse is reported without quoting any of it.
  DbConfig unparsable = config_;
  unparsable.uri = uri_ + " password " + password;
  try {
    PostgresDatabase db(unparsable);
    FAIL() << "accepted an invalid connection string";
  } catch (const DatabaseError& error) {
    EXPECT_EQ(std::string(error.what()).find(password), std::string::npos) << error.what();
  }
  unsetenv("PGPASSWORD");

  // The role's backend drops its temporary tables while it exits, after the
  // client has already disconnected, and DROP ROLE fails until then.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (admin_->run("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + role + "'") == "0") {
      break;
    }
    usleep(50'000);
  }
  admin_->run("DROP ROLE " + role);
}

TEST_F(PostgresTest, MissingSocketDirNamesHostAndFix) {
  DbConfig missing = config_;
  missing.uri = "host=/nonexistent/tasnap-socket-dir port=5432 user=postgres dbname=tasnap";
  try {
    PostgresDatabase db(missing);
    FAIL() << "connected through a socket folder that does not exist";
  } catch (const TransientDatabaseError& error) {
    FAIL() << "a connection failure at start must not be transient: " << error.what();
  } catch (const DatabaseError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("/nonexistent/tasnap-socket-dir"), std::string::npos) << message;
    EXPECT_NE(message.find("\"tasnap\""), std::string::npos) << message;
    EXPECT_NE(message.find("server is running"), std::string::npos) << message;
  }
}

TEST_F(PostgresTest, LostConnectionIsTransient) {
  auto db = open_initialised();
  db->upsert_prices(std::vector<PriceRow>{bar("AAA", kDay1, 10)});
  const std::vector<std::string> tickers = {"AAA"};
  BarChunk chunk;

  admin_->run("SELECT pg_terminate_backend(" + std::to_string(db->backend_pid()) + ")");
  EXPECT_THROW(db->read_bars(tickers, std::nullopt, kDay1, chunk), TransientDatabaseError);

  db->reconnect();
  db->read_bars(tickers, std::nullopt, kDay1, chunk);
  EXPECT_EQ(chunk.bar_count(), 1u);

  // A chunk open when the connection dies rolls back without throwing.
  db->begin_chunk();
  db->write_rows(std::vector<SnapshotRow>{snapshot("AAA", kDay1, 1)}, "run-1");
  admin_->run("SELECT pg_terminate_backend(" + std::to_string(db->backend_pid()) + ")");
  EXPECT_THROW(db->commit_chunk(), TransientDatabaseError);
  db->rollback_chunk();
  db->reconnect();
  EXPECT_TRUE(db->read_snapshots("AAA", kDay1, kDay1).empty());
}

TEST_F(PostgresTest, ReconnectFailureIsTransient) {
  const std::string database = "t_closed_db_" + std::to_string(getpid());
  admin_->run("DROP DATABASE IF EXISTS " + database);
  admin_->run("CREATE DATABASE " + database);
  DbConfig own = config_;
  own.uri = uri_ + " dbname=" + database;
  PostgresDatabase db(own);

  // Once the database rejects connections, the lost session cannot come back yet.
  admin_->run("ALTER DATABASE " + database + " WITH ALLOW_CONNECTIONS false");
  admin_->run("SELECT pg_terminate_backend(" + std::to_string(db.backend_pid()) + ")");
  EXPECT_THROW(db.reconnect(), TransientDatabaseError);
  EXPECT_THROW(db.latest_trade_date(), TransientDatabaseError);

  admin_->run("ALTER DATABASE " + database + " WITH ALLOW_CONNECTIONS true");
  db.reconnect();
  db.init_schema();
  EXPECT_FALSE(db.latest_trade_date().has_value());
  db.close();
  admin_->run("DROP DATABASE " + database + " WITH (FORCE)");
}

TEST_F(PostgresTest, RunLogRoundTrip) {
  auto db = open_initialised();
  RunRecord run;
  run.run_id = "run-42";
  run.mode = "backfill";
  run.started_at = "2024-05-01T22:00:00Z";
  run.status = "running";
  run.as_of_date = kDay3;
  run.from_date = kDay1;
  run.workers = 4;
  run.chunk_size = 250;
  run.version = "0.1.0";
  run.host = "node1";
  run.pid = 1234;
  db->insert_run(run);

  const auto running = db->runs_with_status("running");
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].run_id, "run-42");
  EXPECT_EQ(running[0].started_at, "2024-05-01T22:00:00Z");
  EXPECT_EQ(running[0].finished_at, "");
  EXPECT_EQ(running[0].from_date, kDay1);
  EXPECT_FALSE(running[0].history_start.has_value());

  RankTelemetry rank;
  rank.rank = 1;
  rank.host = "node1";
  rank.chunks_done = 3;
  rank.read_seconds = 0.125;
  rank.digest = "00ff:10";
  rank.failed_chunks = {4, 9};
  const std::vector<RankTelemetry> ranks = {rank};
  const std::vector<TickerDigest> tickers = {{"BBB", 1, 0, 5, "aa:5"}, {"AAA", 1, 0, 6, "bb:6"}};

  run.status = "succeeded";
  run.finished_at = "2024-05-01T22:05:30.25Z";
  run.rows = 11;
  run.digest = "1234:11";
  db->finish_run(run, ranks, tickers);

  const auto found = db->find_run("run-42");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->status, "succeeded");
  EXPECT_EQ(found->finished_at, "2024-05-01T22:05:30.25Z");
  EXPECT_EQ(found->rows, 11);
  EXPECT_EQ(found->mode, "backfill");
  EXPECT_EQ(found->as_of_date, kDay3);
  EXPECT_EQ(found->workers, 4);
  EXPECT_EQ(found->pid, 1234);
  EXPECT_FALSE(db->find_run("no-such-run").has_value());

  const auto stored_ranks = db->run_ranks("run-42");
  ASSERT_EQ(stored_ranks.size(), 1u);
  EXPECT_EQ(stored_ranks[0].chunks_done, 3);
  EXPECT_EQ(stored_ranks[0].read_seconds, 0.125);
  EXPECT_EQ(stored_ranks[0].failed_chunks, (std::vector<std::int64_t>{4, 9}));
  EXPECT_EQ(stored_ranks[0].digest, "00ff:10");

  const auto stored_tickers = db->run_tickers("run-42");
  ASSERT_EQ(stored_tickers.size(), 2u);
  EXPECT_EQ(stored_tickers[0].ticker, "AAA");
  EXPECT_EQ(stored_tickers[1].rows, 5);

  // Finishing again replaces the rank and ticker rows instead of adding to them.
  db->finish_run(run, ranks, tickers);
  EXPECT_EQ(db->run_ranks("run-42").size(), 1u);
  EXPECT_EQ(db->run_tickers("run-42").size(), 2u);

  db->set_run_status("run-42", "abandoned", "killed by operator");
  EXPECT_EQ(db->find_run("run-42")->error, "killed by operator");
  EXPECT_TRUE(db->runs_with_status("running").empty());
  EXPECT_THROW(db->set_run_status("no-such-run", "failed", ""), InputError);
}

}  // namespace
}  // namespace tasnap::storage
