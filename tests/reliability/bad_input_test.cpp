// Bad price data, odd tickers and bad command lines through the real binary on
// both backends. Every ticker gets its row or its skip reason, invalid bars are
// dropped and counted, and no NaN or infinity reaches any table tasnap writes.
// Every rejected value gets a clear message and the README's exit code.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <random>

#include "core/date.hpp"
#include "core/errors.hpp"
#include "reliability_support.hpp"

namespace tasnap::reliability {
namespace {

const std::string kDate = "2024-01-10";  // a Wednesday
constexpr int kHistoryBars = 60;

// One CSV bar; prices are text so that NaN, inf and empty fields can be written as such.
struct Bar {
  std::string ticker;
  Date date;
  std::string open, high, low, close, volume;
};

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string format_price(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The last `count` weekdays up to and including `end`.
std::vector<Date> weekdays_until(Date end, int count) {
  std::vector<Date> dates;
  for (Date day = end; static_cast<int>(dates.size()) < count; day.days -= 1) {
    if (weekday_of(day) < 5) dates.push_back(day);
  }
  std::reverse(dates.begin(), dates.end());
  return dates;
}

// A deterministic random walk of valid bars around `level`.
std::vector<Bar> valid_history(const std::string& ticker, double level, int count, Date end, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> step(-0.02, 0.02);
  std::vector<Bar> bars;
  double close = level;
  for (const Date date : weekdays_until(end, count)) {
    const double open = close;
    close = close * (1.0 + step(random));
    const double high = std::max(open, close) * 1.01;
    const double low = std::min(open, close) * 0.99;
    bars.push_back({ticker, date, format_price(open), format_price(high), format_price(low), format_price(close),
                    std::to_string(100000 + random() % 50000)});
  }
  return bars;
}

// What each ticker of the bad-data universe expects.
struct TickerCase {
  std::string ticker;
  std::string skip_reason;  // empty: a row is expected
  int invalid_bars = 0;
};

// Builds the bad-data CSV: valid tickers with odd names, tickers with one invalid
// bar of each kind, and tickers that must be skipped.
class BadDataSet {
 public:
  BadDataSet() {
    end_ = *parse_date(kDate);
    unsigned seed = 1;
    const std::vector<std::string> odd_names = {
        "BRK.B", "BF-B", "T/WS", "brk.a", std::string(40, 'L'), "O'NEIL", "Q\"X", "A;B", "C\\D", "ÄÖÜ.DE",
        "X'); DROP TABLE daily_prices; --", "NORMAL"};
    for (const std::string& name : odd_names) add_valid(name, 50.0, seed++);

    // One invalid bar in the middle of an otherwise valid history.
    const std::vector<std::pair<std::string, std::function<void(Bar&)>>> one_bad = {
        {"NANP", [](Bar& b) { b.close = "NaN"; }},
        {"INFP", [](Bar& b) { b.high = "inf"; }},
        {"NINFP", [](Bar& b) { b.low = "-Infinity"; }},
        {"ZEROP", [](Bar& b) { b.open = "0"; }},
        {"NEGP", [](Bar& b) { b.low = "-5"; }},
        {"HILO", [](Bar& b) { std::swap(b.high, b.low); }},
        {"NEGV", [](Bar& b) { b.volume = "-100"; }},
        {"NULLP", [](Bar&) {}},  // its close is set to NULL with SQL after the load
    };
    for (const auto& [name, spoil] : one_bad) {
      auto bars = valid_history(name, 30.0, kHistoryBars, end_, seed++);
      spoil(bars[kHistoryBars / 2]);
      append(bars);
      cases_.push_back({name, "", 1});
    }

    // Gigantic and tiny prices: intermediate values can overflow or underflow,
    // and no infinity or NaN may be written.
    add_valid("HUGE", 1e300, seed++);
    add_valid("TINY", 1e-300, seed++);

    auto one = valid_history("ONEBAR", 20.0, 1, end_, seed++);
    append(one);
    cases_.push_back({"ONEBAR", "", 0});

    auto all_bad = valid_history("ALLBAD", 20.0, 10, end_, seed++);
    for (Bar& bar : all_bad) bar.close = "-1";
    append(all_bad);
    cases_.push_back({"ALLBAD", "no_valid_bars", 10});

    // A ticker whose history stops the day before D.
    auto stale = valid_history("STALE", 20.0, 10, Date{end_.days - 1}, seed++);
    append(stale);
    cases_.push_back({"STALE", "no_bar_on_date", 0});

    cases_.push_back({"NOSUCH", "no_bars", 0});

    // A duplicate key whose first line is wrong: the last line of a key wins.
    auto duplicated = valid_history("DUP", 40.0, kHistoryBars, end_, seed++);
    Bar wrong = duplicated[10];
    wrong.close = "999999";
    bars_.push_back(wrong);
    append(duplicated);
    cases_.push_back({"DUP", "", 0});
  }

  // Writes the bars in file order, or shuffled when `shuffle` is set.
  void write_csv(const std::filesystem::path& path, bool shuffle) const {
    std::vector<Bar> bars = bars_;
    if (shuffle) {
      // The duplicate's wrong line must stay before its correct one, so it is kept first.
      std::mt19937 random(7);
      std::shuffle(bars.begin() + 1, bars.end(), random);
      const auto wrong = std::find_if(bars.begin(), bars.end(), [](const Bar& b) { return b.close == "999999"; });
      std::rotate(bars.begin(), wrong, wrong + 1);
    }
    std::ofstream file(path);
    file << "ticker,trade_date,open,high,low,close,adj_close,volume,split_factor\n";
    for (const Bar& b : bars) {
      file << csv_field(b.ticker) << "," << format_date(b.date) << "," << b.open << "," << b.high << "," << b.low
           << "," << b.close << ",," << b.volume << ",\n";
    }
  }

  const std::vector<TickerCase>& cases() const { return cases_; }

  int total_invalid_bars() const {
    int total = 0;
    for (const TickerCase& c : cases_) total += c.invalid_bars;
    return total;
  }

  // The trade date of NULLP's spoiled bar.
  std::string null_bar_date() const { return format_date(weekdays_until(end_, kHistoryBars)[kHistoryBars / 2]); }

 private:
  void add_valid(const std::string& name, double level, unsigned seed) {
    append(valid_history(name, level, kHistoryBars, end_, seed));
    cases_.push_back({name, "", 0});
  }
  void append(const std::vector<Bar>& bars) { bars_.insert(bars_.end(), bars.begin(), bars.end()); }

  Date end_;
  std::vector<Bar> bars_;
  std::vector<TickerCase> cases_;
};

std::string sql_literal(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

// Double columns of `table` that hold NaN or an infinity, as "table.column: count".
std::vector<std::string> non_finite_values(const std::string& uri, const std::string& table) {
  const bool sqlite = uri.starts_with("sqlite:");
  std::vector<std::string> columns;
  if (sqlite) {
    columns = query_column(uri, "SELECT name FROM pragma_table_info(" + sql_literal(table) + ")");
  } else {
    columns = query_column(uri, "SELECT column_name FROM information_schema.columns WHERE table_name = " +
                                    sql_literal(table) + " AND data_type IN ('double precision', 'real')");
  }
  EXPECT_FALSE(columns.empty()) << table;

  std::vector<std::string> found;
  for (const std::string& column : columns) {
    const std::string name = "\"" + column + "\"";
    const std::string condition =
        sqlite ? "typeof(" + name + ") = 'real' AND (" + name + " != " + name + " OR abs(" + name + ") > 1.7e308)"
               : name + " = 'NaN'::float8 OR " + name + " = 'Infinity'::float8 OR " + name + " = '-Infinity'::float8";
    const auto count = query_column(uri, "SELECT count(*) FROM \"" + table + "\" WHERE " + condition);
    if (!count.empty() && count.front() != "0") found.push_back(table + "." + column + ": " + count.front());
  }
  return found;
}

class BadPriceData : public ::testing::TestWithParam<std::string> {
 protected:
  // The database URI of the backend under test, or empty when its server is missing.
  std::string make_uri(const std::string& name) {
    if (GetParam() == "sqlite") return "sqlite:" + (dir_ / (name + ".db")).string();
    databases_.push_back(std::make_unique<SharedServerDatabase>(name));
    return databases_.back()->uri();
  }

  TempDir dir_;
  std::vector<std::unique_ptr<SharedServerDatabase>> databases_;
};

TEST_P(BadPriceData, EveryTickerGetsRowOrSkipReason) {
  if (GetParam() == "postgresql" && testing::test_postgres_uri().empty()) {
    GTEST_FAIL() << "TASNAP_TEST_PG is not set: run through tools/test.sh or set it.";
  }
  const BadDataSet data;
  const auto shuffled_csv = dir_ / "shuffled.csv";
  const auto sorted_csv = dir_ / "sorted.csv";
  data.write_csv(shuffled_csv, true);
  data.write_csv(sorted_csv, false);

  // Load the same bars shuffled into one database and in file order into another.
  const std::string uri = make_uri("bad");
  const std::string reference_uri = make_uri("badref");
  init_and_load(uri, shuffled_csv.string());
  init_and_load(reference_uri, sorted_csv.string());
  for (const std::string& target : {uri, reference_uri}) {
    const auto nulled = query_column(target, "UPDATE daily_prices SET close = NULL WHERE ticker = 'NULLP' AND "
                                             "trade_date = '" + data.null_bar_date() + "'");
    EXPECT_TRUE(nulled.empty());
  }
  const auto duplicate_rows = query_column(uri, "SELECT count(*) FROM daily_prices WHERE ticker = 'DUP'");
  ASSERT_EQ(duplicate_rows, std::vector<std::string>{std::to_string(kHistoryBars)});

  // Run on every ticker of the cases, listed in a file, so missing ones are reported too.
  const auto tickers_file = dir_ / "tickers.txt";
  {
    std::ofstream file(tickers_file);
    for (const TickerCase& c : data.cases()) file << c.ticker << "\n";
  }
  const std::string extra = "--tickers-file " + shell_quote(tickers_file.string());
  const RunResult run = run_snapshot({.db = uri, .ranks = 2, .chunk_size = 3, .date = kDate, .extra = extra}, dir_);
  ASSERT_EQ(run.command.exit_code, 0) << run.command.output;
  ASSERT_FALSE(run.telemetry.is_null());
  EXPECT_EQ(run.telemetry["status"], "succeeded");
  EXPECT_EQ(run.telemetry["tickers"], static_cast<std::int64_t>(data.cases().size()));

  // Invalid bars are counted in telemetry and logged with the ticker.
  std::int64_t invalid_bars = 0;
  for (const auto& rank : run.telemetry["ranks"]) invalid_bars += rank["invalid_bars"].get<std::int64_t>();
  EXPECT_EQ(invalid_bars, data.total_invalid_bars()) << run.command.output;
  for (const TickerCase& c : data.cases()) {
    if (c.invalid_bars == 0) continue;
    EXPECT_NE(run.command.output.find("ticker=" + c.ticker + " dropped " + std::to_string(c.invalid_bars) +
                                      " invalid bars"),
              std::string::npos)
        << c.ticker << "\n" << run.command.output;
  }

  // Each ticker has its row, or its skip reason in the per-ticker digests.
  const std::string run_id = run.telemetry["run_id"];
  const auto stored = query_column(uri, "SELECT ticker FROM ta_snapshots");
  const std::set<std::string> stored_set(stored.begin(), stored.end());
  const auto digests = query_column(uri, "SELECT digest FROM tasnap_run_tickers WHERE run_id = " +
                                             sql_literal(run_id) + " ORDER BY ticker");
  EXPECT_EQ(digests.size(), data.cases().size());
  for (const TickerCase& c : data.cases()) {
    const auto digest = query_column(uri, "SELECT digest FROM tasnap_run_tickers WHERE run_id = " +
                                              sql_literal(run_id) + " AND ticker = " + sql_literal(c.ticker));
    ASSERT_EQ(digest.size(), 1u) << c.ticker;
    if (c.skip_reason.empty()) {
      EXPECT_EQ(stored_set.count(c.ticker), 1u) << c.ticker;
      EXPECT_EQ(digest.front().find("skipped"), std::string::npos) << c.ticker << ": " << digest.front();
    } else {
      EXPECT_EQ(stored_set.count(c.ticker), 0u) << c.ticker;
      EXPECT_EQ(digest.front(), "skipped:" + c.skip_reason) << c.ticker;
    }
  }

  // The hostile ticker's SQL was never executed: every table is still there.
  for (const std::string table : {"daily_prices", "ta_snapshots", "tasnap_runs", "tasnap_run_ranks",
                                  "tasnap_run_tickers"}) {
    EXPECT_FALSE(query_column(uri, "SELECT count(*) FROM " + table).empty()) << table;
  }

  // No NaN or infinity in any double column tasnap wrote.
  for (const std::string table : {"ta_snapshots", "tasnap_run_ranks"}) {
    const auto found = non_finite_values(uri, table);
    EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
  }

  // Loading shuffled input with a duplicate gives the rows of sorted input.
  const RunResult reference =
      run_snapshot({.db = reference_uri, .ranks = 1, .chunk_size = 50, .date = kDate, .extra = extra}, dir_);
  ASSERT_EQ(reference.command.exit_code, 0) << reference.command.output;
  EXPECT_EQ(reference.telemetry["digest"], run.telemetry["digest"]);
  EXPECT_TRUE(snapshot_rows(uri) == snapshot_rows(reference_uri));
}

INSTANTIATE_TEST_SUITE_P(Backends, BadPriceData, ::testing::Values("sqlite", "postgresql"));

// The run without a ticker list takes every ticker with a bar on D, including the odd names.
TEST(BadPriceDataDefaultUniverse, OddNamesAreInTheUniverse) {
  TempDir dir;
  const BadDataSet data;
  data.write_csv(dir / "bars.csv", false);
  const std::string uri = "sqlite:" + (dir / "default.db").string();
  init_and_load(uri, (dir / "bars.csv").string());
  const RunResult run = run_snapshot({.db = uri, .ranks = 3, .chunk_size = 4, .date = kDate}, dir);
  ASSERT_EQ(run.command.exit_code, 0) << run.command.output;
  const auto stored = query_column(uri, "SELECT ticker FROM ta_snapshots");
  const std::set<std::string> stored_set(stored.begin(), stored.end());
  for (const std::string name : {"BRK.B", "T/WS", "ÄÖÜ.DE", "Q\"X", "O'NEIL", "C\\D", "A;B"}) {
    EXPECT_EQ(stored_set.count(name), 1u) << name;
  }
  EXPECT_EQ(stored_set.count("ALLBAD"), 0u);
}

// ---------------------------------------------------------------------------
// Command lines that run_job_test does not cover.

TEST(BadCommandLine, RejectedWithTheValueAndExitCode2) {
  TempDir dir;
  const std::string uri = "sqlite:" + (dir / "flags.db").string();
  init_and_load(uri, sample_csv());
  const std::string run = tasnap() + " run --db " + shell_quote(uri) + " ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--date", "--date"},
      {"--ticker-chunk-size", "--ticker-chunk-size"},
      {"--ticker-chunk-size abc", "abc"},
      {"--max-retries -1", "-1"},
      {"--workers -2", "-2"},
      {"--date 2021/04/21", "2021/04/21"},
      {"--date 2021-02-30", "2021-02-30"},
      {"--history-start yesterday", "yesterday"},
      {"--tickers-file " + shell_quote((dir / "missing.txt").string()), "missing.txt"},
  };
  for (const auto& [flags, expected] : cases) {
    const auto result = run_command(run + flags);
    EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << flags << "\n" << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos) << flags << "\n" << result.output;
  }

  const auto backfill = run_command(tasnap() + " backfill --db " + shell_quote(uri) +
                                    " --from 2021-04-21 --to 2021-04-01");
  EXPECT_EQ(backfill.exit_code, exit_code::kInvalidInput) << backfill.output;
  EXPECT_NE(backfill.output.find("2021-04-01"), std::string::npos) << backfill.output;

  const auto unknown = run_command(tasnap() + " frobnicate");
  EXPECT_EQ(unknown.exit_code, exit_code::kInvalidInput) << unknown.output;
  EXPECT_NE(unknown.output.find("frobnicate"), std::string::npos) << unknown.output;

  // Nothing was recorded by any rejected command.
  EXPECT_TRUE(query_column(uri, "SELECT run_id FROM tasnap_runs").empty());
}

// Table names with upper case, spaces, quotes and SQL work end to end and are
// never executed as SQL.
class HostileTableNames : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileTableNames, RunWorksEndToEnd) {
  TempDir dir;
  std::unique_ptr<SharedServerDatabase> server_database;
  std::string uri;
  if (GetParam() == "sqlite") {
    uri = "sqlite:" + (dir / "names.db").string();
  } else {
    server_database = std::make_unique<SharedServerDatabase>("names");
    ASSERT_FALSE(server_database->uri().empty()) << "TASNAP_TEST_PG is not set";
    uri = server_database->uri();
  }

  const std::string prices = "My \"Prices\"; DROP TABLE x";
  const std::string snapshots = "Snap Shots'); DROP TABLE x; --";
  const std::string runs = "Runs \"Log\"";
  const std::string tables = "--prices-table " + shell_quote(prices) + " --snapshots-table " +
                             shell_quote(snapshots) + " --runs-table " + shell_quote(runs) +
                             " --run-ranks-table 'Rank Rows' --run-tickers-table 'TICKER rows'";
  ASSERT_TRUE(query_column(uri, "CREATE TABLE x (id integer)").empty());
  init_and_load(uri, sample_csv(), tables);

  const RunResult run = run_snapshot({.db = uri, .ranks = 2, .chunk_size = 7, .date = kSampleDate, .extra = tables}, dir);
  ASSERT_EQ(run.command.exit_code, 0) << run.command.output;
  EXPECT_EQ(run.telemetry["status"], "succeeded");
  const auto universe = query_column(uri, "SELECT count(DISTINCT ticker) FROM \"My \"\"Prices\"\"; DROP TABLE x\" "
                                          "WHERE trade_date = '" + kSampleDate + "'");
  ASSERT_EQ(universe.size(), 1u);
  const std::string tickers = universe.front();
  EXPECT_EQ(run.telemetry["rows"].get<std::int64_t>(), std::stoll(tickers));

  // Every table exists under its exact name, and the decoy table x survived.
  const auto stored = snapshot_rows(uri, snapshots);
  EXPECT_EQ(std::to_string(stored.size()), tickers);
  EXPECT_EQ(query_column(uri, "SELECT count(*) FROM x"), std::vector<std::string>{"0"});
  EXPECT_EQ(query_column(uri, "SELECT status FROM \"Runs \"\"Log\"\"\""), std::vector<std::string>{"succeeded"});
  EXPECT_EQ(query_column(uri, "SELECT count(*) FROM \"Rank Rows\""), std::vector<std::string>{"2"});
  EXPECT_EQ(query_column(uri, "SELECT count(*) FROM \"TICKER rows\""), std::vector<std::string>{tickers});
  for (const std::string plain : {"daily_prices", "ta_snapshots", "tasnap_runs"}) {
    const auto exists = query_column(uri, uri.starts_with("sqlite:")
                                              ? "SELECT count(*) FROM sqlite_master WHERE name = '" + plain + "'"
                                              : "SELECT count(*) FROM pg_tables WHERE tablename = '" + plain + "'");
    EXPECT_EQ(exists, std::vector<std::string>{"0"}) << plain << " was created although other names were given";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileTableNames, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace tasnap::reliability
