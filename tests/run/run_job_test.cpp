// The real tasnap binary under real mpirun, against real SQLite files and the
// private PostgreSQL server: determinism across rank counts and chunk sizes,
// the run log, failure and rerun, and errors before any work.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap {
namespace {

using testing::run_command;

const std::string kDate = "2021-04-21";

storage::DbConfig config(const std::string& uri) {
  storage::DbConfig config;
  config.uri = uri;
  return config;
}

std::string quote(const std::string& text) { return "'" + text + "'"; }

std::string tasnap() { return testing::tasnap_binary().string(); }

std::string sample_csv() { return (testing::source_dir() / "data" / "sp500_sample.csv.gz").string(); }

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  return nlohmann::json::parse(file);
}

// Runs `tasnap run` under mpirun with `ranks` ranks and returns the telemetry JSON.
nlohmann::json run_under_mpirun(const std::string& db, int ranks, int chunk_size, const testing::TempDir& dir,
                                const std::string& extra = "", int expected_exit = 0) {
  const auto telemetry = dir / ("telemetry-" + std::to_string(ranks) + "-" + std::to_string(chunk_size) + ".json");
  const std::string command = "mpirun -np " + std::to_string(ranks) + " " + tasnap() + " run --db " + quote(db) +
                              " --date " + kDate + " --ticker-chunk-size " + std::to_string(chunk_size) +
                              " --telemetry-json " + quote(telemetry.string()) + " " + extra;
  const auto result = run_command(command);
  EXPECT_EQ(result.exit_code, expected_exit) << command << "\n" << result.output;
  if (!std::filesystem::exists(telemetry)) return nlohmann::json();
  return read_json(telemetry);
}

// Every stored row of the run's universe, keyed by ticker, as raw bits.
std::map<std::string, std::vector<std::uint64_t>> stored_rows(const std::string& uri,
                                                               const std::vector<std::string>& tickers) {
  auto database = storage::open_database(config(uri));
  std::map<std::string, std::vector<std::uint64_t>> rows;
  const Date date = *parse_date(kDate);
  for (const std::string& ticker : tickers) {
    for (const auto& [row, run_id] : database->read_snapshots(ticker, date, date)) {
      auto& bits = rows[ticker];
      bits.push_back(static_cast<std::uint64_t>(row.bars_used));
      for (const double value : row.values) bits.push_back(is_null(value) ? 0x7ff8ull << 48 : std::bit_cast<std::uint64_t>(value));
    }
  }
  return rows;
}

class RunJobTest : public ::testing::Test {
 protected:
  // Creates a database and loads the shipped real sample into it.
  static std::string make_loaded_sqlite(const testing::TempDir& dir, const std::string& name) {
    const std::string uri = "sqlite:" + (dir / name).string();
    auto result = run_command(tasnap() + " init --db " + quote(uri));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    result = run_command(tasnap() + " load --db " + quote(uri) + " " + quote(sample_csv()));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return uri;
  }

  static std::vector<std::string> universe(const std::string& uri) {
    auto database = storage::open_database(config(uri));
    const Date date = *parse_date(kDate);
    return database->tickers_with_bars_between(date, date);
  }
};

TEST_F(RunJobTest, SqliteRunsMatchAcrossRanksAndChunks) {
  testing::TempDir dir;
  const std::string uri = make_loaded_sqlite(dir, "prices.db");
  const auto tickers = universe(uri);
  ASSERT_GE(tickers.size(), 19u);

  std::string reference_digest;
  std::map<std::string, std::vector<std::uint64_t>> reference_rows;
  for (const int ranks : {1, 2, 3, 4}) {
    for (const int chunk_size : {1, 7, 250}) {
      SCOPED_TRACE("ranks " + std::to_string(ranks) + ", chunk size " + std::to_string(chunk_size));
      const nlohmann::json telemetry = run_under_mpirun(uri, ranks, chunk_size, dir);
      ASSERT_FALSE(telemetry.is_null());
      EXPECT_EQ(telemetry["status"], "succeeded");
      EXPECT_EQ(telemetry["workers"], ranks);
      EXPECT_EQ(telemetry["ranks"].size(), static_cast<std::size_t>(ranks));
      EXPECT_EQ(telemetry["rows"], static_cast<std::int64_t>(tickers.size()));

      // Every ticker written exactly once, by the rank its chunk was assigned to.
      auto database = storage::open_database(config(uri));
      const auto digests = database->run_tickers(telemetry["run_id"].get<std::string>());
      std::map<std::string, int> writes;
      for (const TickerDigest& d : digests) {
        ++writes[d.ticker];
        EXPECT_EQ(d.rank, static_cast<int>(d.chunk % ranks)) << d.ticker;
      }
      EXPECT_EQ(writes.size(), tickers.size());
      for (const auto& [ticker, count] : writes) EXPECT_EQ(count, 1) << ticker;

      // Same digest and the same bits in every stored row.
      const auto rows = stored_rows(uri, tickers);
      if (reference_digest.empty()) {
        reference_digest = telemetry["digest"];
        reference_rows = rows;
      }
      EXPECT_EQ(telemetry["digest"], reference_digest);
      EXPECT_TRUE(rows == reference_rows);
    }
  }
}

TEST_F(RunJobTest, PostgresDigestEqualsSqliteDigest) {
  const std::string server = testing::test_postgres_uri();
  ASSERT_FALSE(server.empty()) << "TASNAP_TEST_PG is not set: run the tests through tools/test.sh, which starts "
                                  "the private PostgreSQL server.";
  testing::TempDir dir;
  const std::string sqlite_uri = make_loaded_sqlite(dir, "prices.db");
  const std::string sqlite_digest = run_under_mpirun(sqlite_uri, 2, 7, dir)["digest"];

  // A fresh database in the test server.
  const std::string name = "tasnap_run_job_" + std::to_string(::getpid());
  ASSERT_EQ(run_command("psql " + quote(server) + " -v ON_ERROR_STOP=1 -q -c 'DROP DATABASE IF EXISTS " + name +
                        "' -c 'CREATE DATABASE " + name + "'").exit_code, 0);
  const std::string pg_uri = server + " dbname=" + name;
  auto result = run_command(tasnap() + " init --db " + quote(pg_uri));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result = run_command(tasnap() + " load --db " + quote(pg_uri) + " " + quote(sample_csv()));
  ASSERT_EQ(result.exit_code, 0) << result.output;

  for (const int ranks : {1, 2}) {
    const nlohmann::json telemetry = run_under_mpirun(pg_uri, ranks, 7, dir);
    ASSERT_FALSE(telemetry.is_null());
    EXPECT_EQ(telemetry["status"], "succeeded");
    EXPECT_EQ(telemetry["digest"], sqlite_digest) << "ranks " << ranks;
  }
}

TEST_F(RunJobTest, FailedChunkIsRecordedAndRerunCompletesIt) {
  testing::TempDir dir;
  const std::string uri = make_loaded_sqlite(dir, "prices.db");
  const std::string path = (dir / "prices.db").string();
  const std::string clean_digest = run_under_mpirun(make_loaded_sqlite(dir, "clean.db"), 2, 3, dir)["digest"];

  // A trigger rejects one ticker's row, so that ticker's chunk must roll back whole.
  auto result = run_command("sqlite3 " + quote(path) +
                            " \"CREATE TRIGGER reject_msft BEFORE INSERT ON ta_snapshots WHEN NEW.ticker = 'MSFT' "
                            "BEGIN SELECT RAISE(ABORT, 'injected failure for MSFT'); END;\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json failed = run_under_mpirun(uri, 2, 3, dir, "", 1);
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed["error"].get<std::string>().find("chunks not written"), std::string::npos) << failed["error"];

  // No half chunk: the failed chunk's tickers have no row at all.
  auto database = storage::open_database(config(uri));
  const auto digests = database->run_tickers(failed["run_id"].get<std::string>());
  std::int64_t failed_chunk = -1;
  for (const auto& rank : failed["ranks"]) {
    for (const auto& chunk : rank["failed_chunks"]) failed_chunk = chunk.get<std::int64_t>();
  }
  ASSERT_GE(failed_chunk, 0);
  EXPECT_NE(failed["error"].get<std::string>().find(std::to_string(failed_chunk)), std::string::npos);
  const Date date = *parse_date(kDate);
  const auto tickers = universe(uri);
  for (std::size_t i = static_cast<std::size_t>(failed_chunk) * 3; i < std::min(tickers.size(), static_cast<std::size_t>(failed_chunk) * 3 + 3); ++i) {
    EXPECT_TRUE(database->read_snapshots(tickers[i], date, date).empty()) << tickers[i];
  }
  const auto run = database->find_run(failed["run_id"].get<std::string>());
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->status, "failed");
  database.reset();

  // Once the fault is gone, the same command completes the job with the clean digest.
  result = run_command("sqlite3 " + quote(path) + " 'DROP TRIGGER reject_msft;'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json rerun = run_under_mpirun(uri, 2, 3, dir);
  EXPECT_EQ(rerun["status"], "succeeded");
  EXPECT_EQ(rerun["digest"], clean_digest);
}

TEST_F(RunJobTest, DateWithoutBarsFailsBeforeAnyWork) {
  testing::TempDir dir;
  const std::string uri = make_loaded_sqlite(dir, "prices.db");
  for (const std::string date : {"2021-04-24", "1990-01-02", "2030-01-02"}) {
    const auto result = run_command("mpirun -np 2 " + tasnap() + " run --db " + quote(uri) + " --date " + date);
    EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << result.output;
    EXPECT_NE(result.output.find(date), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("2021-04-21"), std::string::npos) << "names the latest date\n" << result.output;
  }
  auto database = storage::open_database(config(uri));
  EXPECT_TRUE(database->runs_with_status("running").empty());
  EXPECT_TRUE(database->runs_with_status("failed").empty());
  EXPECT_TRUE(database->runs_with_status("succeeded").empty());
}

TEST_F(RunJobTest, BadFlagsAreRejectedWithTheValue) {
  testing::TempDir dir;
  const std::string uri = make_loaded_sqlite(dir, "prices.db");
  const std::string run = tasnap() + " run --db " + quote(uri) + " ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--ticker-chunk-size 0", "0"},
      {"--ticker-chunk-size -3", "-3"},
      {"--date 2021-13-01", "2021-13-01"},
      {"--date 21-04-2021", "21-04-2021"},
      {"--workers 0", "--workers"},
      {"--history-start 2021-04-22 --date 2021-04-21", "2021-04-22"},
      {"--no-such-flag", "--no-such-flag"},
  };
  for (const auto& [flags, expected] : cases) {
    const auto result = run_command(run + flags);
    EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << flags << "\n" << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos) << flags << "\n" << result.output;
  }
  const auto result = run_command(tasnap() + " run --db 'mysql://x/y'");
  EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << result.output;
  EXPECT_NE(result.output.find("mysql://x/y"), std::string::npos) << result.output;
}

TEST_F(RunJobTest, WorkersFlagLaunchesRanksAndMustMatchMpirun) {
  testing::TempDir dir;
  const std::string uri = make_loaded_sqlite(dir, "prices.db");
  const auto telemetry = dir / "workers.json";
  auto result = run_command(tasnap() + " run --workers 3 --db " + quote(uri) + " --ticker-chunk-size 5 --telemetry-json " +
                            quote(telemetry.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(read_json(telemetry)["ranks"].size(), 3u);

  result = run_command("mpirun -np 2 " + tasnap() + " run --workers 3 --db " + quote(uri));
  EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << result.output;
  EXPECT_NE(result.output.find("--workers 3"), std::string::npos) << result.output;
}

TEST_F(RunJobTest, IdleRanksStillReport) {
  testing::TempDir dir;
  const std::string uri = make_loaded_sqlite(dir, "prices.db");
  const nlohmann::json telemetry = run_under_mpirun(uri, 4, 250, dir);  // one chunk, four ranks
  ASSERT_EQ(telemetry["ranks"].size(), 4u);
  for (int rank = 1; rank < 4; ++rank) {
    EXPECT_EQ(telemetry["ranks"][rank]["chunks_assigned"], 0);
    EXPECT_EQ(telemetry["ranks"][rank]["error"], "");
  }
  EXPECT_EQ(telemetry["status"], "succeeded");
}

TEST_F(RunJobTest, InvalidBarsCountedPerTicker) {
  testing::TempDir dir;
  const std::string uri = make_loaded_sqlite(dir, "prices.db");

  // 30 weekday bars ending on the run date, three of them invalid.
  const auto csv = dir / "bad.csv";
  {
    std::ofstream out(csv);
    out << "ticker,trade_date,open,high,low,close,adj_close,volume,split_factor\n";
    Date date = *parse_date(kDate);
    for (int written = 0; written < 30; date.days -= 1) {
      if (weekday_of(date) >= 5) continue;
      const bool invalid = written == 3 || written == 7 || written == 11;
      out << "BADBARS," << format_date(date) << ",10," << (invalid ? "9" : "11") << ",9.5,10.5,,1000,\n";
      ++written;
    }
  }
  const auto loaded = run_command(tasnap() + " load --db " + quote(uri) + " " + quote(csv.string()));
  ASSERT_EQ(loaded.exit_code, 0) << loaded.output;

  const nlohmann::json telemetry = run_under_mpirun(uri, 2, 5, dir);
  ASSERT_FALSE(telemetry.is_null());
  std::int64_t rank_total = 0;
  for (const auto& rank : telemetry["ranks"]) rank_total += rank["invalid_bars"].get<std::int64_t>();
  EXPECT_EQ(rank_total, 3);

  auto database = storage::open_database(config(uri));
  bool found = false;
  for (const TickerDigest& digest : database->run_tickers(telemetry["run_id"].get<std::string>())) {
    if (digest.ticker == "BADBARS") {
      found = true;
      EXPECT_EQ(digest.invalid_bars, 3);
      EXPECT_EQ(digest.rows, 1);
    } else {
      EXPECT_EQ(digest.invalid_bars, 0) << digest.ticker;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(RunJobTest, CompareReportsIdenticalAndDifferentRuns) {
  testing::TempDir dir;
  const std::string uri_a = make_loaded_sqlite(dir, "a.db");
  const std::string uri_b = make_loaded_sqlite(dir, "b.db");
  const std::string run_a = run_under_mpirun(uri_a, 1, 250, dir)["run_id"];
  const std::string run_b = run_under_mpirun(uri_b, 3, 2, dir)["run_id"];

  auto result = run_command(tasnap() + " compare --db " + quote(uri_a) + " --db-b " + quote(uri_b) + " " + run_a + " " + run_b);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("identical"), std::string::npos) << result.output;

  // Alter one of KO's closes in B and run B again, so the two runs differ in KO's row.
  const std::string path_b = (dir / "b.db").string();
  ASSERT_EQ(run_command("sqlite3 " + quote(path_b) + " \"UPDATE daily_prices SET close = close * 1.01 WHERE ticker = 'KO' AND trade_date = '2021-04-20'\"").exit_code, 0);
  const std::string run_b2 = run_under_mpirun(uri_b, 2, 7, dir)["run_id"];
  result = run_command(tasnap() + " compare --db " + quote(uri_a) + " --db-b " + quote(uri_b) + " " + run_a + " " + run_b2);
  EXPECT_EQ(result.exit_code, exit_code::kRunFailed) << result.output;
  EXPECT_NE(result.output.find("first differing ticker: KO"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("first differing column"), std::string::npos) << result.output;

  result = run_command(tasnap() + " compare --db " + quote(uri_a) + " " + run_a + " no-such-run");
  EXPECT_EQ(result.exit_code, exit_code::kInvalidInput) << result.output;
  EXPECT_NE(result.output.find("no-such-run"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tasnap
