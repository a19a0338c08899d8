// The SQLite backend against real database files: bars, snapshot rows,
// schema checks, quoted table names and file handling.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <limits>

#include "core/errors.hpp"
#include "sqlite_test_util.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

using testing::TempDir;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

PriceRow bar(const std::string& ticker, const char* date, double close) {
  PriceRow row;
  row.ticker = ticker;
  row.trade_date = parse_date_or_throw(date, "test date");
  row.open = close - 1;
  row.high = close + 2;
  row.low = close - 2;
  row.close = close;
  row.adj_close = close / 2;
  row.volume = 1000 + static_cast<std::int64_t>(close);
  row.split_factor = 1.0;
  return row;
}

SnapshotRow snapshot(const std::string& ticker, const char* date, double base) {
  SnapshotRow row;
  row.ticker = ticker;
  row.as_of_date = parse_date_or_throw(date, "test date");
  row.bars_used = 250;
  for (std::size_t i = 0; i < kColumnCount; ++i) row.values[i] = base + static_cast<double>(i);
  return row;
}

std::uint64_t bits(double value) { return std::bit_cast<std::uint64_t>(value); }

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = dir_ / "prices.db";
    database_ = open_database(testing::sqlite_config(file_));
    database_->init_schema();
  }

  TempDir dir_;
  std::filesystem::path file_;
  std::unique_ptr<Database> database_;
};

TEST_F(SqliteDatabaseTest, BarsRoundTrip) {
  std::vector<PriceRow> rows = {bar("AAA", "2021-01-04", 10), bar("AAA", "2021-01-05", 11),
                                bar("BBB", "2021-01-04", 20)};
  rows[1].adj_close.reset();
  rows[1].split_factor.reset();
  rows[2].high = kInfinity;
  rows[2].low = 1e-310;  // a denormal
  database_->upsert_prices(rows);

  BarChunk chunk;
  const std::vector<std::string> tickers = {"BBB", "AAA", "MISSING"};
  database_->read_bars(tickers, std::nullopt, parse_date_or_throw("2021-12-31", "to"), chunk);

  ASSERT_EQ(chunk.ticker_count(), 2u);
  ASSERT_EQ(chunk.bar_count(), 3u);
  ASSERT_EQ(chunk.ticker(0), "AAA");
  ASSERT_EQ(chunk.ticker(1), "BBB");

  const RawBarsView aaa = chunk.bars(0);
  ASSERT_EQ(aaa.size(), 2u);
  EXPECT_EQ(format_date(aaa.trade_date[0]), "2021-01-04");
  EXPECT_EQ(format_date(aaa.trade_date[1]), "2021-01-05");
  EXPECT_EQ(aaa.open[0], 9.0);
  EXPECT_EQ(aaa.high[0], 12.0);
  EXPECT_EQ(aaa.low[0], 8.0);
  EXPECT_EQ(aaa.close[0], 10.0);
  EXPECT_EQ(aaa.adj_close[0], 5.0);
  EXPECT_EQ(aaa.volume[0], 1010);
  EXPECT_EQ(aaa.split_factor[0], 1.0);
  EXPECT_EQ(aaa.nulls[0], 0);
  EXPECT_EQ(aaa.nulls[1], null_bit::kAdjClose | null_bit::kSplitFactor);

  const RawBarsView bbb = chunk.bars(1);
  ASSERT_EQ(bbb.size(), 1u);
  EXPECT_EQ(bbb.high[0], kInfinity);
  EXPECT_EQ(bits(bbb.low[0]), bits(1e-310));
}

TEST_F(SqliteDatabaseTest, ReadBarsHistoryWindow) {
  database_->upsert_prices(std::vector<PriceRow>{
      bar("AAA", "2021-01-04", 10), bar("AAA", "2021-01-05", 11), bar("AAA", "2021-01-06", 12),
      bar("AAA", "2021-01-07", 13)});
  const std::vector<std::string> tickers = {"AAA"};
  BarChunk chunk;

  database_->read_bars(tickers, std::nullopt, parse_date_or_throw("2021-01-06", "to"), chunk);
  ASSERT_EQ(chunk.bar_count(), 3u);
  EXPECT_EQ(format_date(chunk.bars(0).trade_date[2]), "2021-01-06");

  database_->read_bars(tickers, parse_date_or_throw("2021-01-05", "from"),
                       parse_date_or_throw("2021-01-06", "to"), chunk);
  ASSERT_EQ(chunk.bar_count(), 2u);
  EXPECT_EQ(format_date(chunk.bars(0).trade_date[0]), "2021-01-05");
  EXPECT_EQ(format_date(chunk.bars(0).trade_date[1]), "2021-01-06");

  database_->read_bars(tickers, std::nullopt, parse_date_or_throw("2020-12-31", "to"), chunk);
  EXPECT_EQ(chunk.ticker_count(), 0u);
  EXPECT_EQ(chunk.bar_count(), 0u);
}

TEST_F(SqliteDatabaseTest, ReadBarsOddTickers) {
  const std::vector<std::string> tickers = {"A\"B", "C\\D", "E,F", "G'H; DROP TABLE daily_prices",
                                            "BRK.B"};
  std::vector<PriceRow> rows;
  for (const auto& ticker : tickers) rows.push_back(bar(ticker, "2021-01-04", 10));
  database_->upsert_prices(rows);

  BarChunk chunk;
  database_->read_bars(tickers, std::nullopt, parse_date_or_throw("2021-01-04", "to"), chunk);
  ASSERT_EQ(chunk.ticker_count(), tickers.size());
  std::vector<std::string> read;
  for (std::size_t i = 0; i < chunk.ticker_count(); ++i) read.push_back(chunk.ticker(i));
  std::vector<std::string> expected = tickers;
  std::sort(expected.begin(), expected.end());
  std::sort(read.begin(), read.end());
  EXPECT_EQ(read, expected);
}

TEST_F(SqliteDatabaseTest, LatestDateAndTickersBetween) {
  EXPECT_FALSE(database_->latest_trade_date().has_value());
  database_->upsert_prices(std::vector<PriceRow>{
      bar("BBB", "2021-01-04", 10), bar("AAA", "2021-01-06", 11), bar("CCC", "2020-06-01", 12)});

  const auto latest = database_->latest_trade_date();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(format_date(*latest), "2021-01-06");

  const auto tickers = database_->tickers_with_bars_between(parse_date_or_throw("2021-01-01", "f"),
                                                            parse_date_or_throw("2021-01-31", "t"));
  EXPECT_EQ(tickers, (std::vector<std::string>{"AAA", "BBB"}));
}

TEST_F(SqliteDatabaseTest, UpsertPricesReplacesBar) {
  database_->upsert_prices(std::vector<PriceRow>{bar("AAA", "2021-01-04", 10)});
  database_->upsert_prices(std::vector<PriceRow>{bar("AAA", "2021-01-04", 99)});
  EXPECT_EQ(testing::count_rows(file_, "daily_prices"), 1);

  BarChunk chunk;
  const std::vector<std::string> tickers = {"AAA"};
  database_->read_bars(tickers, std::nullopt, parse_date_or_throw("2021-01-04", "to"), chunk);
  ASSERT_EQ(chunk.bar_count(), 1u);
  EXPECT_EQ(chunk.bars(0).close[0], 99.0);
}

TEST_F(SqliteDatabaseTest, SnapshotRowsKeepExactBits) {
  SnapshotRow row = snapshot("AAA", "2021-01-04", 0.1);
  row[Column::close] = 1e300;
  row[Column::volume] = -0.0;
  row[Column::sma_20] = std::numeric_limits<double>::denorm_min();
  row[Column::sma_50] = -std::numeric_limits<double>::max();
  row[Column::sma_200] = kNull;
  row[Column::gap_pct] = kNull;
  row[Column::obv] = -1e-300;
  row[Column::rsi_14] = 0.1 + 0.2;

  database_->begin_chunk();
  database_->write_rows(std::vector<SnapshotRow>{row}, "run-1");
  database_->commit_chunk();

  const auto stored = database_->read_snapshots("AAA", row.as_of_date, row.as_of_date);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].second, "run-1");
  EXPECT_EQ(stored[0].first.ticker, "AAA");
  EXPECT_EQ(stored[0].first.as_of_date, row.as_of_date);
  EXPECT_EQ(stored[0].first.bars_used, 250);
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    if (is_null(row.values[i])) {
      EXPECT_TRUE(is_null(stored[0].first.values[i])) << kColumnNames[i];
    } else {
      EXPECT_EQ(bits(stored[0].first.values[i]), bits(row.values[i])) << kColumnNames[i];
    }
  }

  // NULL in the file, never a NaN, and -0.0 stored as a float.
  const auto dump = testing::dump_table(file_, "ta_snapshots");
  ASSERT_EQ(dump.size(), 1u);
  EXPECT_NE(dump[0].find("|NULL|"), std::string::npos) << dump[0];
  EXPECT_NE(dump[0].find("|f8000000000000000|"), std::string::npos) << dump[0];
}

TEST_F(SqliteDatabaseTest, WriteSameChunkTwiceIdentical) {
  std::vector<SnapshotRow> rows = {snapshot("AAA", "2021-01-04", 1), snapshot("BBB", "2021-01-04", 2)};
  rows[1][Column::macd] = kNull;

  database_->begin_chunk();
  database_->write_rows(rows, "run-1");
  database_->commit_chunk();
  const auto first = testing::dump_table(file_, "ta_snapshots");

  database_->begin_chunk();
  database_->write_rows(rows, "run-1");
  database_->commit_chunk();
  const auto second = testing::dump_table(file_, "ta_snapshots");

  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first, second);
}

TEST_F(SqliteDatabaseTest, RewriteUpdatesValuesAndRunId) {
  database_->begin_chunk();
  database_->write_rows(std::vector<SnapshotRow>{snapshot("AAA", "2021-01-04", 1)}, "run-1");
  database_->commit_chunk();
  database_->begin_chunk();
  database_->write_rows(std::vector<SnapshotRow>{snapshot("AAA", "2021-01-04", 7)}, "run-2");
  database_->commit_chunk();

  const auto date = parse_date_or_throw("2021-01-04", "date");
  const auto stored = database_->read_snapshots("AAA", date, date);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].second, "run-2");
  EXPECT_EQ(stored[0].first[Column::close], 7.0);
}

TEST_F(SqliteDatabaseTest, RollbackDiscardsChunk) {
  database_->rollback_chunk();  // nothing open: a no-op

  database_->begin_chunk();
  database_->write_rows(std::vector<SnapshotRow>{snapshot("AAA", "2021-01-04", 1)}, "run-1");
  database_->rollback_chunk();
  EXPECT_EQ(testing::count_rows(file_, "ta_snapshots"), 0);

  // The connection is usable after the rollback.
  database_->begin_chunk();
  database_->write_rows(std::vector<SnapshotRow>{snapshot("AAA", "2021-01-04", 1)}, "run-1");
  database_->commit_chunk();
  EXPECT_EQ(testing::count_rows(file_, "ta_snapshots"), 1);
}

TEST_F(SqliteDatabaseTest, ReadSnapshotsDateRange) {
  database_->begin_chunk();
  database_->write_rows(std::vector<SnapshotRow>{snapshot("AAA", "2021-01-04", 1),
                                                 snapshot("AAA", "2021-01-05", 2),
                                                 snapshot("AAA", "2021-01-06", 3),
                                                 snapshot("BBB", "2021-01-05", 4)},
                        "run-1");
  database_->commit_chunk();

  const auto stored = database_->read_snapshots("AAA", parse_date_or_throw("2021-01-05", "from"),
                                                parse_date_or_throw("2021-01-06", "to"));
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(format_date(stored[0].first.as_of_date), "2021-01-05");
  EXPECT_EQ(format_date(stored[1].first.as_of_date), "2021-01-06");
}

TEST_F(SqliteDatabaseTest, InitSchemaIdempotent) {
  database_->upsert_prices(std::vector<PriceRow>{bar("AAA", "2021-01-04", 10)});
  database_->init_schema();
  database_->check_schema();
  EXPECT_EQ(testing::count_rows(file_, "daily_prices"), 1);

  auto second = open_database(testing::sqlite_config(file_));
  second->init_schema();
  EXPECT_EQ(testing::count_rows(file_, "daily_prices"), 1);
}

TEST_F(SqliteDatabaseTest, ReconnectKeepsData) {
  database_->upsert_prices(std::vector<PriceRow>{bar("AAA", "2021-01-04", 10)});
  database_->reconnect();
  EXPECT_EQ(database_->latest_trade_date(), parse_date_or_throw("2021-01-04", "date"));
  EXPECT_FALSE(database_->free_connections().has_value());
  EXPECT_EQ(database_->backend(), Backend::sqlite);
  EXPECT_EQ(database_->describe(), "sqlite:" + file_.string());
}

TEST_F(SqliteDatabaseTest, NaNReadsBackAsNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  PriceRow row = bar("NANADJ", "2021-04-20", 10.0);
  row.adj_close = nan;
  PriceRow bad_close = bar("NANCLOSE", "2021-04-20", 10.0);
  bad_close.close = nan;
  PriceRow bad_split = bar("NANSPLIT", "2021-04-20", 10.0);
  bad_split.split_factor = nan;
  const std::vector<PriceRow> rows = {row, bad_close, bad_split};
  database_->upsert_prices(rows);

  BarChunk chunk;
  const std::vector<std::string> tickers = {"NANADJ", "NANCLOSE", "NANSPLIT"};
  database_->read_bars(tickers, std::nullopt, parse_date_or_throw("2021-04-21", "test date"), chunk);
  ASSERT_EQ(chunk.ticker_count(), 3u);
  for (std::size_t i = 0; i < chunk.ticker_count(); ++i) {
    const RawBarsView bars = chunk.bars(i);
    ASSERT_EQ(bars.size(), 1u);
    EXPECT_EQ(bars.nulls[0], 0) << chunk.ticker(i) << ": a NaN must not read back as NULL";
    if (chunk.ticker(i) == "NANADJ") {
      EXPECT_TRUE(std::isnan(bars.adj_close[0]));
    } else if (chunk.ticker(i) == "NANCLOSE") {
      EXPECT_TRUE(std::isnan(bars.close[0]));
    } else {
      EXPECT_TRUE(std::isnan(bars.split_factor[0]));
    }
  }
}

TEST(SqliteSchema, CheckNamesMissingColumn) {
  TempDir dir;
  const auto file = dir / "old.db";
  testing::execute_sql(file, "CREATE TABLE daily_prices (ticker TEXT, trade_date TEXT, open REAL, "
                             "high REAL, low REAL, close REAL, adj_close REAL, split_factor REAL)");
  auto database = open_database(testing::sqlite_config(file));
  try {
    database->init_schema();
    FAIL() << "a price table without volume passed the check";
  } catch (const DatabaseError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("daily_prices"), std::string::npos) << message;
    EXPECT_NE(message.find("'volume'"), std::string::npos) << message;
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
  }
}

TEST(SqliteSchema, CheckNamesMissingTable) {
  TempDir dir;
  const auto file = dir / "empty.db";
  auto database = open_database(testing::sqlite_config(file));
  try {
    database->check_schema();
    FAIL() << "an empty database passed the check";
  } catch (const DatabaseError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("daily_prices"), std::string::npos) << message;
    EXPECT_NE(message.find("tasnap init"), std::string::npos) << message;
  }
}

TEST(SqliteTables, QuotedNamesWorkAndNeverExecute) {
  TempDir dir;
  const auto file = dir / "quoted.db";
  testing::execute_sql(file, "CREATE TABLE x (a INTEGER); INSERT INTO x VALUES (1)");

  DbConfig config = testing::sqlite_config(file);
  config.tables.prices = "My \"Prices\"; DROP TABLE x";
  config.tables.snapshots = "Snap Shots";
  config.tables.runs = "RUNS'; DROP TABLE x; --";
  config.tables.run_ranks = "Ranks \"\"";
  config.tables.run_tickers = "tickers]";
  auto database = open_database(config);
  database->init_schema();

  database->upsert_prices(std::vector<PriceRow>{bar("AAA", "2021-01-04", 10)});
  BarChunk chunk;
  const std::vector<std::string> tickers = {"AAA"};
  database->read_bars(tickers, std::nullopt, parse_date_or_throw("2021-01-04", "to"), chunk);
  EXPECT_EQ(chunk.bar_count(), 1u);

  database->begin_chunk();
  database->write_rows(std::vector<SnapshotRow>{snapshot("AAA", "2021-01-04", 1)}, "run-1");
  database->commit_chunk();

  RunRecord run;
  run.run_id = "run-1";
  run.started_at = "2021-01-04T00:00:00Z";
  run.status = "running";
  database->insert_run(run);
  database->finish_run(run, std::vector<RankTelemetry>(1), std::vector<TickerDigest>(1));

  EXPECT_EQ(testing::count_rows(file, "x"), 1);
  EXPECT_EQ(testing::count_rows(file, config.tables.prices), 1);
  EXPECT_EQ(testing::count_rows(file, config.tables.snapshots), 1);
  EXPECT_EQ(testing::count_rows(file, config.tables.runs), 1);
  EXPECT_EQ(testing::count_rows(file, config.tables.run_ranks), 1);
  EXPECT_EQ(testing::count_rows(file, config.tables.run_tickers), 1);
}

TEST(SqliteFile, UnopenablePathNamesPath) {
  TempDir dir;
  const auto file = dir / "no-such-dir" / "x.db";
  try {
    open_database(testing::sqlite_config(file));
    FAIL() << "opened " << file;
  } catch (const DatabaseError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("directory"), std::string::npos) << message;
  }
}

TEST(SqliteFile, NotADatabaseIsErrorAndUntouched) {
  TempDir dir;
  const auto file = dir / "notes.txt";
  const std::string content(8192, 'x');
  std::ofstream(file) << content;

  try {
    auto database = open_database(testing::sqlite_config(file));
    database->init_schema();
    FAIL() << "used a text file as a database";
  } catch (const DatabaseError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::filesystem::file_size(file), content.size());
}

TEST(SqliteFile, CreatedWithoutWorldWrite) {
  TempDir dir;
  const auto file = dir / "new.db";
  const mode_t previous = umask(0);
  {
    auto database = open_database(testing::sqlite_config(file));
    database->init_schema();
  }
  umask(previous);

  struct stat status {};
  ASSERT_EQ(stat(file.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & S_IWOTH, 0u) << std::oct << status.st_mode;
}

TEST(SqliteFile, ReopenKeepsExistingData) {
  TempDir dir;
  const auto file = dir / "keep.db";
  {
    auto database = open_database(testing::sqlite_config(file));
    database->init_schema();
    database->upsert_prices(std::vector<PriceRow>{bar("AAA", "2021-01-04", 10)});
  }
  auto database = open_database(testing::sqlite_config(file));
  database->init_schema();
  EXPECT_EQ(testing::count_rows(file, "daily_prices"), 1);
}

}  // namespace
}  // namespace tasnap::storage
