// The real tasnap binary under real mpirun: `tasnap backfill` against real
// SQLite files and the private PostgreSQL server. Every backfill row must be
// bit-identical to the row `tasnap run --date D` writes for the same D, for
// any rank count and chunk size. Reruns must be idempotent. A failed chunk
// must leave none of its rows, even when it was streamed in several write batches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/bars.hpp"
#include "core/errors.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap {
namespace {

using testing::run_command;

// The sample's last date and the range the tests backfill on it.
const std::string kLastDate = "2021-04-21";
const std::string kFrom = "2019-01-01";

// Rows a backfill chunk buffers before it streams them to the database (the
// default of RunOptions::write_batch_rows, which has no command-line flag).
constexpr std::int64_t kWriteBatchRows = 20'000;

// The row key: ticker and as_of_date in days.
using RowKey = std::pair<std::string, std::int32_t>;

// Every stored value of a row as raw bits: bars_used, then the 47 columns.
using RowBits = std::vector<std::uint64_t>;

std::string quote(const std::string& text) { return "'" + text + "'"; }

std::string tasnap() { return testing::tasnap_binary().string(); }

std::string sample_csv() { return (testing::source_dir() / "data" / "sp500_sample.csv.gz").string(); }

Date date_of(const std::string& text) { return *parse_date(text); }

std::unique_ptr<storage::Database> open(const std::string& uri) {
  return storage::open_database(storage::DbConfig{.uri = uri, .tables = {}});
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  return nlohmann::json::parse(file);
}

// Runs one tasnap job under mpirun and returns its telemetry JSON (null when
// the job wrote none). `job` is the subcommand with its own flags.
nlohmann::json run_job(const std::string& uri, int ranks, const std::string& job, const testing::TempDir& dir,
                       int expected_exit = 0) {
  static int job_number = 0;
  const auto telemetry = dir / ("telemetry-" + std::to_string(++job_number) + ".json");
  const std::string command = "mpirun -np " + std::to_string(ranks) + " " + tasnap() + " " + job + " --db " +
                              quote(uri) + " --telemetry-json " + quote(telemetry.string());
  const auto result = run_command(command);
  EXPECT_EQ(result.exit_code, expected_exit) << command << "\n" << result.output;
  if (!std::filesystem::exists(telemetry)) return nlohmann::json();
  return read_json(telemetry);
}

nlohmann::json run_backfill(const std::string& uri, int ranks, int chunk_size, const std::string& from,
                            const std::string& to, const testing::TempDir& dir, const std::string& extra = "",
                            int expected_exit = 0) {
  return run_job(uri, ranks,
                 "backfill --from " + from + " --to " + to + " --ticker-chunk-size " + std::to_string(chunk_size) +
                     " " + extra,
                 dir, expected_exit);
}

nlohmann::json run_nightly(const std::string& uri, int ranks, const std::string& date, const testing::TempDir& dir,
                           const std::string& extra = "") {
  return run_job(uri, ranks, "run --date " + date + " --ticker-chunk-size 7 " + extra, dir);
}

// Every stored snapshot row of every ticker in [from, to], as raw bits. NULL is
// one fixed bit pattern, so two NULLs compare equal and a NULL never equals a number.
std::map<RowKey, RowBits> stored_rows(const std::string& uri, const std::string& from, const std::string& to) {
  auto database = open(uri);
  std::map<RowKey, RowBits> rows;
  for (const std::string& ticker : database->tickers_with_bars_between(Date{0}, date_of("2100-01-01"))) {
    for (const auto& [row, run_id] : database->read_snapshots(ticker, date_of(from), date_of(to))) {
      RowBits& bits = rows[{row.ticker, row.as_of_date.days}];
      bits.push_back(static_cast<std::uint64_t>(row.bars_used));
      for (const double value : row.values) {
        bits.push_back(is_null(value) ? 0x7ff8ull << 48 : std::bit_cast<std::uint64_t>(value));
      }
    }
  }
  return rows;
}

// The rows of one date out of a set of rows.
std::map<RowKey, RowBits> rows_on(const std::map<RowKey, RowBits>& rows, const std::string& date) {
  const std::int32_t days = date_of(date).days;
  std::map<RowKey, RowBits> selected;
  for (const auto& [key, bits] : rows) {
    if (key.second == days) selected.emplace(key, bits);
  }
  return selected;
}

// The (ticker, trade_date) of every stored bar in [from, to].
std::set<RowKey> bar_keys(const std::string& uri, const std::string& from, const std::string& to) {
  auto database = open(uri);
  const std::vector<std::string> tickers = database->tickers_with_bars_between(date_of(from), date_of(to));
  BarChunk chunk;
  database->read_bars(tickers, date_of(from), date_of(to), chunk);
  std::set<RowKey> keys;
  for (std::size_t i = 0; i < chunk.ticker_count(); ++i) {
    for (const Date trade_date : chunk.bars(i).trade_date) keys.insert({chunk.ticker(i), trade_date.days});
  }
  return keys;
}

std::set<RowKey> keys_of(const std::map<RowKey, RowBits>& rows) {
  std::set<RowKey> keys;
  for (const auto& [key, bits] : rows) keys.insert(key);
  return keys;
}

// Names the first row that differs between two row sets, or returns "" when they are equal.
std::string first_difference(const std::map<RowKey, RowBits>& got, const std::map<RowKey, RowBits>& want) {
  for (const auto& [key, bits] : want) {
    const auto found = got.find(key);
    const std::string where = key.first + " " + format_date(Date{key.second});
    if (found == got.end()) return "missing row " + where;
    for (std::size_t i = 0; i < bits.size(); ++i) {
      if (found->second[i] == bits[i]) continue;
      const std::string column = i == 0 ? "bars_used" : std::string(kColumnNames[i - 1]);
      return "row " + where + " differs in " + column;
    }
  }
  for (const auto& [key, bits] : got) {
    if (!want.contains(key)) return "extra row " + key.first + " " + format_date(Date{key.second});
  }
  return "";
}

std::string create_sqlite(const testing::TempDir& dir, const std::string& name) {
  const std::string uri = "sqlite:" + (dir / name).string();
  const auto result = run_command(tasnap() + " init --db " + quote(uri));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return uri;
}

// A SQLite file loaded with the shipped real sample.
std::string make_sample_sqlite(const testing::TempDir& dir, const std::string& name) {
  const std::string uri = create_sqlite(dir, name);
  const auto result = run_command(tasnap() + " load --db " + quote(uri) + " " + quote(sample_csv()));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return uri;
}

// A SQLite file with generated bars: `tickers` x `days` weekdays ending on 2021-04-21.
std::string make_generated_sqlite(const testing::TempDir& dir, const std::string& name, int tickers, int days) {
  const std::string uri = create_sqlite(dir, name);
  const auto result = run_command(tasnap() + " gen --db " + quote(uri) + " --tickers " + std::to_string(tickers) +
                                  " --days " + std::to_string(days));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return uri;
}

// Runs `tasnap run --date D` for each date into `run_uri` and checks that its
// rows equal the backfill's rows of that date bit for bit.
void expect_runs_match_backfill(const std::map<RowKey, RowBits>& backfill_rows, const std::string& run_uri,
                                const std::vector<std::string>& dates, const testing::TempDir& dir,
                                const std::string& extra = "") {
  for (const std::string& date : dates) {
    SCOPED_TRACE("date " + date);
    const nlohmann::json run = run_nightly(run_uri, 2, date, dir, extra);
    ASSERT_FALSE(run.is_null());
    EXPECT_EQ(run["status"], "succeeded");

    const auto want = rows_on(backfill_rows, date);
    const auto got = stored_rows(run_uri, date, date);
    EXPECT_FALSE(want.empty()) << "the backfill wrote no row on " << date;
    EXPECT_EQ(got.size(), want.size());
    EXPECT_EQ(first_difference(got, want), "");
  }
}

// The sampled dates of the real sample. They include the first and last trading
// days of the backfill range and a date on which VAR has no bar (its history
// ends on 2021-04-16). They also include the day before CARR and OTIS start,
// the first trading day after AAPL's 4:1 split (2020-08-31), and ordinary days.
const std::vector<std::string> kSampleDates = {"2019-01-02", "2019-06-14", "2019-12-31", "2020-03-18",
                                               "2020-03-19", "2020-08-28", "2020-08-31", "2020-09-01",
                                               "2021-01-04", "2021-04-16", "2021-04-19", kLastDate};

TEST(BackfillJob, SampleRowsEqualNightlyRuns) {
  testing::TempDir dir;
  const std::string backfill_uri = make_sample_sqlite(dir, "backfill.db");
  const std::string run_uri = make_sample_sqlite(dir, "run.db");

  const nlohmann::json backfill = run_backfill(backfill_uri, 2, 7, kFrom, kLastDate, dir);
  ASSERT_FALSE(backfill.is_null());
  EXPECT_EQ(backfill["status"], "succeeded");
  const auto rows = stored_rows(backfill_uri, kFrom, kLastDate);
  EXPECT_EQ(backfill["rows"], static_cast<std::int64_t>(rows.size()));

  // The cases the sampled dates stand for are really in the data.
  EXPECT_FALSE(rows.contains({"VAR", date_of("2021-04-19").days}));
  EXPECT_TRUE(rows.contains({"VAR", date_of("2021-04-16").days}));
  EXPECT_FALSE(rows.contains({"CARR", date_of("2020-03-18").days}));
  EXPECT_TRUE(rows.contains({"CARR", date_of("2020-03-19").days}));

  expect_runs_match_backfill(rows, run_uri, kSampleDates, dir);

  // The comparison detects a change far below the value tolerance of the contract.
  const auto result = run_command("sqlite3 " + quote((dir / "run.db").string()) +
                                  " \"UPDATE ta_snapshots SET rsi_14 = rsi_14 * (1 + 1e-15) "
                                  "WHERE ticker = 'KO' AND as_of_date = '2020-08-31'\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(first_difference(stored_rows(run_uri, "2020-08-31", "2020-08-31"), rows_on(rows, "2020-08-31")),
            "row KO 2020-08-31 differs in rsi_14");
}

TEST(BackfillJob, GeneratedRowsEqualNightlyRuns) {
  testing::TempDir dir;
  const std::string backfill_uri = make_generated_sqlite(dir, "backfill.db", 60, 400);
  const std::string run_uri = make_generated_sqlite(dir, "run.db", 60, 400);

  // 400 weekdays ending on 2021-04-21 start on 2019-10-10; the range covers all of them, and
  // the generator leaves about 1% of the weekdays without a bar, so most dates miss some ticker.
  const nlohmann::json backfill = run_backfill(backfill_uri, 2, 7, "2019-01-01", kLastDate, dir);
  ASSERT_FALSE(backfill.is_null());
  EXPECT_EQ(backfill["status"], "succeeded");
  const auto rows = stored_rows(backfill_uri, "2019-01-01", kLastDate);
  EXPECT_EQ(keys_of(rows), bar_keys(backfill_uri, "2019-01-01", kLastDate));

  expect_runs_match_backfill(rows, run_uri, {"2019-10-10", "2020-02-03", "2020-07-15", "2021-01-04", kLastDate},
                             dir);
}

TEST(BackfillJob, DigestsEqualAcrossRanksAndChunks) {
  testing::TempDir dir;
  const std::string uri = make_sample_sqlite(dir, "prices.db");

  // An invalid bar inside the range must be dropped and get no row.
  const std::string path = (dir / "prices.db").string();
  const auto result = run_command("sqlite3 " + quote(path) + " \"UPDATE daily_prices SET high = low / 2 "
                                                             "WHERE ticker = 'KO' AND trade_date = '2020-06-01'\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::set<RowKey> expected_keys = bar_keys(uri, kFrom, kLastDate);
  ASSERT_EQ(expected_keys.erase({"KO", date_of("2020-06-01").days}), 1u) << "the invalid bar is not in the data";

  std::string reference_digest;
  std::map<RowKey, RowBits> reference_rows;
  for (const int ranks : {1, 2, 3}) {
    for (const int chunk_size : {1, 7, 250}) {
      SCOPED_TRACE("ranks " + std::to_string(ranks) + ", chunk size " + std::to_string(chunk_size));
      const nlohmann::json telemetry = run_backfill(uri, ranks, chunk_size, kFrom, kLastDate, dir);
      ASSERT_FALSE(telemetry.is_null());
      EXPECT_EQ(telemetry["status"], "succeeded");
      EXPECT_EQ(telemetry["ranks"].size(), static_cast<std::size_t>(ranks));
      EXPECT_EQ(telemetry["rows"], static_cast<std::int64_t>(expected_keys.size()));

      // Every ticker in exactly one chunk, with one row per valid bar in the range.
      auto database = open(uri);
      std::map<std::string, std::int64_t> expected_rows_of;
      for (const RowKey& key : expected_keys) ++expected_rows_of[key.first];
      std::map<std::string, int> writes;
      for (const TickerDigest& digest : database->run_tickers(telemetry["run_id"].get<std::string>())) {
        ++writes[digest.ticker];
        EXPECT_EQ(digest.rows, expected_rows_of[digest.ticker]) << digest.ticker;
      }
      EXPECT_EQ(writes.size(), expected_rows_of.size());
      for (const auto& [ticker, count] : writes) EXPECT_EQ(count, 1) << ticker;
      database.reset();

      // Every (ticker, date) with a valid bar stored, nothing else, and the same bits every time.
      const auto rows = stored_rows(uri, kFrom, kLastDate);
      EXPECT_EQ(keys_of(rows), expected_keys);
      if (reference_digest.empty()) {
        reference_digest = telemetry["digest"];
        reference_rows = rows;
      }
      EXPECT_EQ(telemetry["digest"], reference_digest);
      EXPECT_EQ(first_difference(rows, reference_rows), "");
    }
  }
}

TEST(BackfillJob, RerunLeavesIdenticalRows) {
  testing::TempDir dir;
  const std::string uri = make_sample_sqlite(dir, "prices.db");
  const nlohmann::json first = run_backfill(uri, 2, 7, kFrom, kLastDate, dir);
  const auto first_rows = stored_rows(uri, "1990-01-01", "2100-01-01");

  const nlohmann::json second = run_backfill(uri, 2, 7, kFrom, kLastDate, dir);
  ASSERT_FALSE(second.is_null());
  EXPECT_EQ(second["status"], "succeeded");
  EXPECT_NE(second["run_id"], first["run_id"]);
  EXPECT_EQ(second["digest"], first["digest"]);
  EXPECT_EQ(second["params_hash"], first["params_hash"]);
  EXPECT_EQ(first_difference(stored_rows(uri, "1990-01-01", "2100-01-01"), first_rows), "");
}

TEST(BackfillJob, HistoryStartRowsEqualNightlyRuns) {
  testing::TempDir dir;
  const std::string backfill_uri = make_sample_sqlite(dir, "backfill.db");
  const std::string run_uri = make_sample_sqlite(dir, "run.db");

  // A history start inside the data shortens every history, so the rows differ
  // from the full-history ones but must still equal the nightly run with the same start.
  const std::string history_start = "2019-10-01";
  const std::string from = "2020-06-01";
  const nlohmann::json backfill =
      run_backfill(backfill_uri, 2, 7, from, kLastDate, dir, "--history-start " + history_start);
  ASSERT_FALSE(backfill.is_null());
  EXPECT_EQ(backfill["status"], "succeeded");
  const auto rows = stored_rows(backfill_uri, from, kLastDate);
  const auto first_row = rows.find({"KO", date_of(from).days});
  ASSERT_NE(first_row, rows.end());
  EXPECT_LT(first_row->second[0], 200u) << "bars_used counts bars since the history start only";

  expect_runs_match_backfill(rows, run_uri, {"2020-06-01", "2020-08-31", "2021-01-04", kLastDate}, dir,
                             "--history-start " + history_start);

  // The full-history backfill writes different values for the same dates.
  const std::string full_uri = make_sample_sqlite(dir, "full.db");
  const nlohmann::json full = run_backfill(full_uri, 2, 7, from, kLastDate, dir);
  EXPECT_NE(full["digest"], backfill["digest"]);
}

TEST(BackfillJob, RangeWithoutBarsIsRejected) {
  testing::TempDir dir;
  const std::string uri = make_sample_sqlite(dir, "prices.db");
  const std::vector<std::pair<std::string, std::string>> ranges = {
      {"2021-04-24", "2021-04-25"},  // a weekend
      {"2022-01-01", "2022-12-31"},  // after the last bar
      {"1990-01-01", "1990-12-31"},  // before the first bar
  };
  for (const auto& [from, to] : ranges) {
    const std::string command =
        "mpirun -np 2 " + tasnap() + " backfill --db " + quote(uri) + " --from " + from + " --to " + to;
    const auto result = run_command(command);
    EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << command << "\n" << result.output;
    EXPECT_NE(result.output.find(from), std::string::npos) << "names the range start\n" << result.output;
    EXPECT_NE(result.output.find(to), std::string::npos) << "names the range end\n" << result.output;
    EXPECT_NE(result.output.find(kLastDate), std::string::npos) << "names the latest date\n" << result.output;
  }

  const auto result =
      run_command(tasnap() + " backfill --db " + quote(uri) + " --from 2021-04-21 --to 2021-01-04");
  EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << result.output;
  EXPECT_NE(result.output.find("2021-04-21"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("2021-01-04"), std::string::npos) << result.output;

  // Nothing was recorded or written.
  auto database = open(uri);
  EXPECT_TRUE(database->runs_with_status("running").empty());
  EXPECT_TRUE(database->runs_with_status("failed").empty());
  EXPECT_TRUE(database->runs_with_status("succeeded").empty());
  database.reset();
  EXPECT_TRUE(stored_rows(uri, "1990-01-01", "2100-01-01").empty());
}

TEST(BackfillJob, FailedChunkLeavesNoRowsAndRerunCompletes) {
  testing::TempDir dir;
  const std::string uri = make_sample_sqlite(dir, "prices.db");
  const std::string path = (dir / "prices.db").string();
  const std::string first_date = "1999-11-01";
  const std::string clean_uri = make_sample_sqlite(dir, "clean.db");
  const nlohmann::json clean = run_backfill(clean_uri, 2, 7, first_date, kLastDate, dir);
  const auto clean_rows = stored_rows(clean_uri, first_date, kLastDate);

  // Chunks of 7 over the sorted universe: chunk 1 is DHI ... NVDA. A trigger
  // rejects NVDA, the last ticker of chunk 1, so the chunk fails only after
  // its earlier tickers were streamed out in at least one full write batch.
  const std::vector<std::string> failing_chunk = {"DHI", "GILD", "JPM", "KO", "MNST", "MSFT", "NVDA"};
  std::int64_t rows_before_nvda = 0;
  for (const auto& [key, bits] : clean_rows) {
    if (key.first >= "DHI" && key.first < "NVDA") ++rows_before_nvda;
  }
  ASSERT_GT(rows_before_nvda, kWriteBatchRows) << "the chunk must span more than one write batch";

  auto result = run_command("sqlite3 " + quote(path) +
                            " \"CREATE TRIGGER reject_nvda BEFORE INSERT ON ta_snapshots WHEN NEW.ticker = 'NVDA' "
                            "BEGIN SELECT RAISE(ABORT, 'injected failure for NVDA'); END;\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json failed = run_backfill(uri, 2, 7, first_date, kLastDate, dir, "", exit_code::kRunFailed);
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["status"], "failed");
  std::vector<std::int64_t> failed_chunks;
  for (const auto& rank : failed["ranks"]) {
    for (const auto& chunk : rank["failed_chunks"]) failed_chunks.push_back(chunk.get<std::int64_t>());
  }
  EXPECT_EQ(failed_chunks, std::vector<std::int64_t>{1});
  EXPECT_NE(failed["error"].get<std::string>().find("chunks not written: 1"), std::string::npos) << failed["error"];

  // No half chunk: none of chunk 1's tickers has a row, every other ticker has all of its rows.
  const auto rows = stored_rows(uri, first_date, kLastDate);
  std::map<RowKey, RowBits> expected;
  for (const auto& [key, bits] : clean_rows) {
    const bool in_failed_chunk =
        std::find(failing_chunk.begin(), failing_chunk.end(), key.first) != failing_chunk.end();
    if (!in_failed_chunk) expected.emplace(key, bits);
  }
  EXPECT_EQ(first_difference(rows, expected), "");

  // Once the fault is gone, the same command completes the backfill with the clean digest and rows.
  result = run_command("sqlite3 " + quote(path) + " 'DROP TRIGGER reject_nvda;'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json rerun = run_backfill(uri, 2, 7, first_date, kLastDate, dir);
  EXPECT_EQ(rerun["status"], "succeeded");
  EXPECT_EQ(rerun["digest"], clean["digest"]);
  EXPECT_EQ(first_difference(stored_rows(uri, first_date, kLastDate), clean_rows), "");
}

TEST(BackfillJob, PostgresRowsEqualNightlyRunsAndSqlite) {
  const std::string server = testing::test_postgres_uri();
  ASSERT_FALSE(server.empty()) << "TASNAP_TEST_PG is not set: run the tests through tools/test.sh, which starts "
                                  "the private PostgreSQL server.";
  testing::TempDir dir;

  // Two fresh databases in the test server: one for the backfill, one for the nightly runs.
  const std::string prefix = "tasnap_backfill_" + std::to_string(::getpid());
  std::vector<std::string> uris;
  for (const std::string suffix : {"_backfill", "_run"}) {
    const std::string name = prefix + suffix;
    ASSERT_EQ(run_command("psql " + quote(server) + " -v ON_ERROR_STOP=1 -q -c 'DROP DATABASE IF EXISTS " + name +
                          "' -c 'CREATE DATABASE " + name + "'").exit_code, 0);
    const std::string uri = server + " dbname=" + name;
    auto result = run_command(tasnap() + " init --db " + quote(uri));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    result = run_command(tasnap() + " load --db " + quote(uri) + " " + quote(sample_csv()));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    uris.push_back(uri);
  }

  const std::string from = "2020-06-01";
  const nlohmann::json backfill = run_backfill(uris[0], 2, 7, from, kLastDate, dir);
  ASSERT_FALSE(backfill.is_null());
  EXPECT_EQ(backfill["status"], "succeeded");
  const auto rows = stored_rows(uris[0], from, kLastDate);
  EXPECT_EQ(keys_of(rows), bar_keys(uris[0], from, kLastDate));
  expect_runs_match_backfill(rows, uris[1], {from, "2020-08-31", "2021-04-19", kLastDate}, dir);

  // A rerun over stored rows, and a backfill over a database that already
  // contains the nightly runs' dates, upsert the same rows.
  const nlohmann::json rerun = run_backfill(uris[0], 2, 7, from, kLastDate, dir);
  EXPECT_EQ(rerun["status"], "succeeded");
  EXPECT_EQ(rerun["digest"], backfill["digest"]);
  EXPECT_EQ(first_difference(stored_rows(uris[0], from, kLastDate), rows), "");
  const nlohmann::json over_runs = run_backfill(uris[1], 1, 250, from, kLastDate, dir);
  EXPECT_EQ(over_runs["status"], "succeeded");
  EXPECT_EQ(over_runs["digest"], backfill["digest"]);
  EXPECT_EQ(first_difference(stored_rows(uris[1], from, kLastDate), rows), "");

  // The same backfill on SQLite writes the same rows.
  const std::string sqlite_uri = make_sample_sqlite(dir, "prices.db");
  const nlohmann::json sqlite_backfill = run_backfill(sqlite_uri, 1, 250, from, kLastDate, dir);
  EXPECT_EQ(sqlite_backfill["digest"], backfill["digest"]);
  EXPECT_EQ(first_difference(stored_rows(sqlite_uri, from, kLastDate), rows), "");

  for (const std::string suffix : {"_backfill", "_run"}) {
    run_command("psql " + quote(server) + " -q -c 'DROP DATABASE IF EXISTS " + prefix + suffix + "'");
  }
}

}  // namespace
}  // namespace tasnap
