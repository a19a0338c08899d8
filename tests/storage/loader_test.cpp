// The CSV loader through the tasnap binary: what it loads, what it rejects
// and the messages it prints.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "core/errors.hpp"
#include "sqlite_test_util.hpp"
#include "storage/csv_loader.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

constexpr const char* kHeader = "ticker,trade_date,open,high,low,close,adj_close,volume,split_factor\n";

class LoaderTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  testing::CommandResult load(const std::string& arguments) {
    return testing::run_command(testing::tasnap_command("load", database_file_) + " " + arguments);
  }

  testing::CommandResult load_file(const std::filesystem::path& file) {
    return load(testing::shell_quote(file.string()));
  }

  // Bars of `tickers` as stored, read back through the backend.
  BarChunk read(const std::vector<std::string>& tickers) {
    auto database = open_database(testing::sqlite_config(database_file_));
    BarChunk chunk;
    database->read_bars(tickers, std::nullopt, make_date(2100, 1, 1), chunk);
    return chunk;
  }

  std::int64_t stored_rows() { return testing::count_rows(database_file_, "daily_prices"); }

  testing::TempDir dir_;
  std::filesystem::path database_file_ = dir_ / "prices.db";
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(LoaderTest, LoadsValuesAsGiven) {
  const auto file = write("good.csv", std::string(kHeader) +
                                          "AAA,2021-01-04,10.5,11,9.75,10.25,5.125,1200,1.0\n"
                                          "AAA,2021-01-05,10,12,8,11,,1300,\n"
                                          "BBB,2021-01-04,20,21,19,20.5,20.5,1.5e3,2\n");
  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "Read 3 rows")) << result.output;
  EXPECT_TRUE(contains(result.output, "loaded 3, rejected 0, duplicates 0")) << result.output;

  const BarChunk chunk = read({"AAA", "BBB"});
  ASSERT_EQ(chunk.ticker_count(), 2u);
  const RawBarsView aaa = chunk.bars(0);
  ASSERT_EQ(aaa.size(), 2u);
  EXPECT_EQ(aaa.open[0], 10.5);
  EXPECT_EQ(aaa.high[0], 11.0);
  EXPECT_EQ(aaa.low[0], 9.75);
  EXPECT_EQ(aaa.close[0], 10.25);
  EXPECT_EQ(aaa.adj_close[0], 5.125);
  EXPECT_EQ(aaa.volume[0], 1200);
  EXPECT_EQ(aaa.split_factor[0], 1.0);
  EXPECT_EQ(aaa.nulls[1], null_bit::kAdjClose | null_bit::kSplitFactor);
  EXPECT_EQ(chunk.bars(1).volume[0], 1500);
  EXPECT_EQ(chunk.bars(1).split_factor[0], 2.0);
}

TEST_F(LoaderTest, ColumnsInAnyOrderAndOptional) {
  const auto file = write("reordered.csv", "close,volume,ticker,low,high,open,trade_date\n"
                                           "10,500,AAA,9,11,9.5,2021-01-04\n");
  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;

  const BarChunk chunk = read({"AAA"});
  ASSERT_EQ(chunk.bar_count(), 1u);
  EXPECT_EQ(chunk.bars(0).open[0], 9.5);
  EXPECT_EQ(chunk.bars(0).close[0], 10.0);
  EXPECT_EQ(chunk.bars(0).volume[0], 500);
  EXPECT_EQ(chunk.bars(0).nulls[0], null_bit::kAdjClose | null_bit::kSplitFactor);
}

TEST_F(LoaderTest, RejectsBadLinesWithFileAndLine) {
  const auto file = write("bad.csv", std::string(kHeader) +
                                         "AAA,2021-01-04,1,2,0.5,1.5,1.5,100,1\n"
                                         "AAA,2020-13-01,1,2,0.5,1.5,1.5,100,1\n"
                                         "AAA,2021-01-05,1,2,0.5,abc,1.5,100,1\n"
                                         "AAA,2021-01-06,1,2,0.5,1.5,1.5,100\n"
                                         "AAA,2021-01-07,1,2,0.5,1.5,1.5,1.5,1\n"
                                         ",2021-01-08,1,2,0.5,1.5,1.5,100,1\n"
                                         "AAA,2021-01-11,1,2,0.5,1.5,1.5,100,1\n");
  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;

  const std::string name = file.string();
  EXPECT_TRUE(contains(result.output, name + ":3: invalid trade_date '2020-13-01'")) << result.output;
  EXPECT_TRUE(contains(result.output, name + ":4: non-numeric close 'abc'")) << result.output;
  EXPECT_TRUE(contains(result.output, name + ":5: wrong field count (8 fields, expected 9)"))
      << result.output;
  EXPECT_TRUE(contains(result.output, name + ":6: non-integer volume '1.5'")) << result.output;
  EXPECT_TRUE(contains(result.output, name + ":7: empty ticker")) << result.output;
  EXPECT_TRUE(contains(result.output, "Read 7 rows")) << result.output;
  EXPECT_TRUE(contains(result.output, "loaded 2, rejected 5")) << result.output;
  EXPECT_EQ(stored_rows(), 2);
}

TEST_F(LoaderTest, StrictLoadsNothingOnBadLine) {
  const auto good = write("good.csv", std::string(kHeader) + "AAA,2021-01-04,1,2,0.5,1.5,1.5,100,1\n");
  const auto bad = write("bad.csv", std::string(kHeader) +
                                        "BBB,2021-01-04,1,2,0.5,1.5,1.5,100,1\n"
                                        "BBB,2021-01-05,1,2,0.5,xyz,1.5,100,1\n");
  const auto result = load("--strict " + testing::shell_quote(good.string()) + " " +
                           testing::shell_quote(bad.string()));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(contains(result.output, bad.string() + ":3: non-numeric close 'xyz'")) << result.output;
  EXPECT_TRUE(contains(result.output, "loaded nothing")) << result.output;
  EXPECT_EQ(stored_rows(), 0);

  const auto strict_good = load("--strict " + testing::shell_quote(good.string()));
  EXPECT_EQ(strict_good.exit_code, 0) << strict_good.output;
  EXPECT_EQ(stored_rows(), 1);
}

TEST_F(LoaderTest, MissingColumnNamesFileAndColumn) {
  const auto file = write("nocolumn.csv", "ticker,trade_date,open,high,low,volume\nAAA,2021-01-04,1,2,0.5,100\n");
  const auto result = load_file(file);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(contains(result.output, file.string())) << result.output;
  EXPECT_TRUE(contains(result.output, "missing required column 'close'")) << result.output;
}

TEST_F(LoaderTest, DuplicateHeaderNamesColumn) {
  const auto file = write("dupheader.csv", "ticker,trade_date,open,high,low,close,close,volume\n");
  const auto result = load_file(file);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(contains(result.output, file.string())) << result.output;
  EXPECT_TRUE(contains(result.output, "duplicate header column 'close'")) << result.output;
}

TEST_F(LoaderTest, EmptyFileNamesFile) {
  const auto file = write("empty.csv", "");
  const auto result = load_file(file);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(contains(result.output, file.string() + "' is empty")) << result.output;
}

TEST_F(LoaderTest, MissingFileNamesFile) {
  const auto result = load_file(dir_ / "absent.csv");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(contains(result.output, "absent.csv")) << result.output;
}

TEST_F(LoaderTest, WindowsLineEndings) {
  const auto file = write("crlf.csv",
                          "ticker,trade_date,open,high,low,close,adj_close,volume,split_factor\r\n"
                          "AAA,2021-01-04,1,2,0.5,1.5,1.25,100,1\r\n"
                          "AAA,2021-01-05,1,2,0.5,1.75,,200,\r\n"
                          "AAA,2021-13-05,1,2,0.5,1.75,,200,\r\n");
  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, file.string() + ":4: invalid trade_date '2021-13-05'"))
      << result.output;

  const BarChunk chunk = read({"AAA"});
  ASSERT_EQ(chunk.bar_count(), 2u);
  EXPECT_EQ(chunk.bars(0).adj_close[0], 1.25);
  EXPECT_EQ(chunk.bars(0).split_factor[0], 1.0);
  EXPECT_EQ(chunk.bars(0).volume[1], 200);
  EXPECT_EQ(chunk.bars(0).nulls[1], null_bit::kAdjClose | null_bit::kSplitFactor);
}

TEST_F(LoaderTest, QuotedTickers) {
  const auto file = write("quoted.csv", std::string(kHeader) +
                                            "\"A,B\",2021-01-04,1,2,0.5,1.5,1.5,100,1\n"
                                            "\"Q\"\"T\",2021-01-04,1,2,0.5,1.5,1.5,100,1\n"
                                            "X;DROP TABLE daily_prices,2021-01-04,1,2,0.5,1.5,1.5,100,1\n"
                                            "\"LINE\nBREAK\",2021-01-04,1,2,0.5,1.5,1.5,100,1\n"
                                            "AAA,2021-01-04,\"1\",2,0.5,1.5,1.5,100,1\n"
                                            "\"BAD\"x,2021-01-04,1,2,0.5,1.5,1.5,100,1\n");
  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // The record with a line break spans lines 5 and 6, so the bad one is on line 8.
  EXPECT_TRUE(contains(result.output, file.string() + ":8: unexpected character after a closing quote"))
      << result.output;
  EXPECT_TRUE(contains(result.output, "loaded 5, rejected 1")) << result.output;

  const std::vector<std::string> tickers = {"A,B", "Q\"T", "X;DROP TABLE daily_prices",
                                            "LINE\nBREAK", "AAA"};
  const BarChunk chunk = read(tickers);
  EXPECT_EQ(chunk.ticker_count(), tickers.size());
  EXPECT_EQ(stored_rows(), 5);
}

TEST_F(LoaderTest, UnsortedAndDuplicateLinesLastWins) {
  const auto file = write("dups.csv", std::string(kHeader) +
                                          "BBB,2021-01-05,1,2,0.5,1.5,,100,\n"
                                          "AAA,2021-01-05,1,2,0.5,1.5,,100,\n"
                                          "AAA,2021-01-04,1,2,0.5,1.5,,100,\n"
                                          "AAA,2021-01-05,1,2,0.5,9.5,,900,\n");
  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "duplicates 1")) << result.output;
  EXPECT_EQ(stored_rows(), 3);

  const BarChunk chunk = read({"AAA"});
  ASSERT_EQ(chunk.bar_count(), 2u);
  EXPECT_EQ(format_date(chunk.bars(0).trade_date[1]), "2021-01-05");
  EXPECT_EQ(chunk.bars(0).close[1], 9.5);
  EXPECT_EQ(chunk.bars(0).volume[1], 900);
}

TEST_F(LoaderTest, GzipInput) {
  const auto file = dir_ / "prices.csv.gz";
  gzFile gz = gzopen(file.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  std::string content = kHeader;
  for (int day = 4; day <= 8; ++day) {
    content += "GZ,2021-01-0" + std::to_string(day) + ",1,2,0.5,1.5,1.5,100,1\n";
  }
  ASSERT_EQ(gzwrite(gz, content.data(), static_cast<unsigned>(content.size())),
            static_cast<int>(content.size()));
  gzclose(gz);

  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(stored_rows(), 5);
  EXPECT_EQ(read({"GZ"}).bar_count(), 5u);
}

TEST_F(LoaderTest, NanAndInfinityAccepted) {
  const auto file = write("special.csv", std::string(kHeader) +
                                             "AAA,2021-01-04,1,Infinity,-Infinity,NaN,1.5,100,1\n"
                                             "AAA,2021-01-05,+1,inf,0.5,1.5,nan,100,1\n");
  const auto result = load_file(file);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "loaded 2, rejected 0")) << result.output;

  const BarChunk chunk = read({"AAA"});
  ASSERT_EQ(chunk.bar_count(), 2u);
  const RawBarsView bars = chunk.bars(0);
  EXPECT_EQ(bars.high[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(bars.low[0], -std::numeric_limits<double>::infinity());
  // A NaN reads back as NaN, never as NULL: a NULL adj_close would mean
  // "no adjustment" where the NaN marks an invalid bar.
  EXPECT_TRUE(std::isnan(bars.close[0]));
  EXPECT_EQ(bars.nulls[0], 0);
  EXPECT_EQ(bars.open[1], 1.0);
  EXPECT_TRUE(std::isnan(bars.adj_close[1]));
  EXPECT_EQ(bars.nulls[1], 0);
}

TEST_F(LoaderTest, QuotedTableNameNeverExecutes) {
  testing::execute_sql(database_file_, "CREATE TABLE x (a INTEGER)");
  const std::string table = "My \"Prices\"; DROP TABLE x";
  const auto file = write("good.csv", std::string(kHeader) + "AAA,2021-01-04,1,2,0.5,1.5,1.5,100,1\n");
  const auto result = load("--prices-table " + testing::shell_quote(table) + " " +
                           testing::shell_quote(file.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(testing::count_rows(database_file_, table), 1);
  EXPECT_EQ(testing::count_rows(database_file_, "x"), 0);
}

TEST_F(LoaderTest, InitIsIdempotent) {
  const std::string command = testing::tasnap_command("init", database_file_);
  const auto first = testing::run_command(command);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto second = testing::run_command(command);
  EXPECT_EQ(second.exit_code, 0) << second.output;
}

TEST_F(LoaderTest, InitNamesMissingColumn) {
  testing::execute_sql(database_file_, "CREATE TABLE ta_snapshots (ticker TEXT, as_of_date TEXT)");
  const auto result = testing::run_command(testing::tasnap_command("init", database_file_));
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_TRUE(contains(result.output, "ta_snapshots")) << result.output;
  EXPECT_TRUE(contains(result.output, "'bars_used'")) << result.output;
}

TEST(LoaderLibrary, RejectReportsGoToCallback) {
  testing::TempDir dir;
  const auto file = dir / "bad.csv";
  std::ofstream(file) << kHeader << "AAA,2021-01-04,1,2,0.5,oops,1.5,100,1\n";
  auto database = open_database(testing::sqlite_config(dir / "db.sqlite"));
  database->init_schema();

  std::vector<std::string> rejects;
  LoadOptions options;
  options.on_reject = [&](const std::string& message) { rejects.push_back(message); };
  const LoadStats stats = load_csv_files(*database, {file}, options);
  EXPECT_EQ(stats.rows_read, 1);
  EXPECT_EQ(stats.rows_rejected, 1);
  EXPECT_EQ(stats.rows_loaded, 0);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0], file.string() + ":2: non-numeric close 'oops'");
}

TEST(LoaderLibrary, FullSampleFile) {
  const auto shared = testing::shared_dir();
  const auto file = shared / "data" / "sp500_daily.csv.gz";
  if (shared.empty() || !std::filesystem::exists(file)) {
    GTEST_SKIP() << "the shared S&P 500 sample is not present";
  }
  testing::TempDir dir;
  auto database = open_database(testing::sqlite_config(dir / "sp500.db"));
  database->init_schema();
  const LoadStats stats = load_csv_files(*database, {file}, LoadOptions{});
  EXPECT_EQ(stats.rows_rejected, 0);
  EXPECT_EQ(stats.rows_loaded, stats.rows_read);
  EXPECT_EQ(testing::count_rows(dir / "sp500.db", "daily_prices"), stats.rows_read);
  EXPECT_EQ(database->tickers_with_bars_between(make_date(1900, 1, 1), make_date(2100, 1, 1)).size(),
            451u);
}

}  // namespace
}  // namespace tasnap::storage
