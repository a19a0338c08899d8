// Faults a nightly run must survive. A rank is killed mid-run, the server stops
// mid-run, the server cannot be used at start, or a chunk's upsert fails. On
// SQLite, two runs share a file, or a killed run leaves one behind.
// Every case ends with a rerun that writes the rows and digest of an
// undisturbed run.
#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>
#include <thread>

#include "core/errors.hpp"
#include "reliability_support.hpp"

namespace tasnap::reliability {
namespace {

using namespace std::chrono_literals;

// The generated universe of the fault tests and its chunking: 100 chunks of 2.
constexpr int kFaultTickers = 200;
constexpr int kFaultDays = 300;
constexpr int kFaultChunkSize = 2;

// Makes every snapshot row write slower, so a 2-rank run lasts a few seconds and
// a fault lands between its first and last chunk. The trigger only reads, so
// it changes no value. On PostgreSQL it sleeps 20 ms per row. SQLite has no
// sleep function in SQL, so there it scans the price table a few times.
void slow_down_writes(const std::string& uri) {
  if (uri.starts_with("sqlite:")) {
    query_column(uri, "CREATE TRIGGER slow_writes BEFORE INSERT ON ta_snapshots BEGIN "
                      "SELECT count(*) FROM daily_prices a, (SELECT 1 FROM daily_prices LIMIT 3) b; END");
  } else {
    query_column(uri, "CREATE FUNCTION slow_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                      "PERFORM pg_sleep(0.02); RETURN NEW; END $$; "
                      "CREATE TRIGGER slow_writes BEFORE INSERT ON ta_snapshots FOR EACH ROW "
                      "EXECUTE FUNCTION slow_writes()");
  }
}

void restore_write_speed(const std::string& uri) {
  query_column(uri, uri.starts_with("sqlite:") ? "DROP TRIGGER slow_writes"
                                               : "DROP TRIGGER slow_writes ON ta_snapshots");
}

std::string run_status(const std::string& uri, const std::string& run_id) {
  const auto rows = query_column(uri, "SELECT status FROM tasnap_runs WHERE run_id = '" + run_id + "'");
  return rows.empty() ? "" : rows.front();
}

std::size_t run_count(const std::string& uri) {
  return query_column(uri, "SELECT run_id FROM tasnap_runs").size();
}

std::string background_run(const std::string& uri, int ranks, int chunk_size, const std::string& extra = "") {
  return "timeout -s KILL 120 mpirun -np " + std::to_string(ranks) + " " + tasnap() + " run --db " +
         shell_quote(uri) + " --ticker-chunk-size " + std::to_string(chunk_size) + " " + extra;
}

// Kills rank 1 of a running 2-rank job after its first progress line, then
// checks that no chunk is half written and that a rerun completes the job.
void kill_rank_and_rerun(const std::string& uri, const TempDir& dir, bool reap_zombie_ranks = true) {
  init_and_generate(uri, kFaultTickers, kFaultDays);

  // The undisturbed run sets the reference rows and digest.
  const RunResult clean = run_snapshot({.db = uri, .ranks = 2, .chunk_size = kFaultChunkSize}, dir);
  ASSERT_EQ(clean.command.exit_code, 0) << clean.command.output;
  const std::string clean_digest = clean.telemetry["digest"];
  const auto clean_rows = snapshot_rows(uri);
  ASSERT_EQ(clean_rows.size(), clean.telemetry["rows"].get<std::size_t>());

  slow_down_writes(uri);
  BackgroundCommand job(background_run(uri, 2, kFaultChunkSize), dir / "killed.log");
  ASSERT_TRUE(job.wait_for_output(" done on rank ", 60s)) << job.output();
  std::vector<pid_t> ranks;
  for (int attempt = 0; attempt < 100 && ranks.size() < 2; ++attempt) {
    ranks = descendant_processes(job.pid(), "tasnap");
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(ranks.size(), 2u) << job.output();
  const pid_t victim = mpi_rank_of(ranks[0]) == 1 ? ranks[0] : ranks[1];
  ASSERT_EQ(mpi_rank_of(victim), 1);
  ASSERT_EQ(::kill(victim, SIGKILL), 0);

  // mpirun must end the job promptly instead of leaving rank 0 waiting.
  // The ranks mpirun stopped are reaped as a working init would, except in
  // ZombieRankCountsAsEnded, which covers the unreaped case.
  const auto code = job.wait(60s, !reap_zombie_ranks);
  ASSERT_TRUE(code.has_value()) << "mpirun did not end within 60 s after rank 1 was killed\n" << job.output();
  EXPECT_NE(*code, 0) << job.output();
  const std::string killed_run = started_run_id(job.output());
  ASSERT_FALSE(killed_run.empty()) << job.output();
  EXPECT_EQ(run_status(uri, killed_run), "running");

  // Each chunk's tickers are either all written by the killed run or none is.
  // The clean run's per-ticker digests give the chunk of every ticker with a row.
  const auto written = query_column(uri, "SELECT ticker FROM ta_snapshots WHERE run_id = '" + killed_run + "'");
  const std::set<std::string> written_set(written.begin(), written.end());
  std::map<std::string, std::vector<std::string>> chunks;
  for (const std::string& line : query_column(uri, "SELECT chunk, ticker FROM tasnap_run_tickers WHERE rows > 0 "
                                                   "AND run_id = '" + clean.telemetry["run_id"].get<std::string>() +
                                                   "'")) {
    const auto bar = line.find('|');
    chunks[line.substr(0, bar)].push_back(line.substr(bar + 1));
  }
  ASSERT_GT(chunks.size(), 1u);
  std::size_t chunks_written = 0;
  for (const auto& [chunk, tickers] : chunks) {
    std::size_t present = 0;
    for (const auto& ticker : tickers) present += written_set.count(ticker);
    EXPECT_TRUE(present == 0 || present == tickers.size())
        << "chunk " << chunk << " is half written: " << present << " of " << tickers.size() << " tickers";
    if (present > 0) ++chunks_written;
  }
  EXPECT_GT(chunks_written, 0u) << "the killed run committed no chunk, so the test proved nothing";
  EXPECT_LT(chunks_written, chunks.size()) << "the killed run finished every chunk before the kill";

  // Every row is still the undisturbed value: the killed run wrote equal rows or none.
  EXPECT_TRUE(snapshot_rows(uri) == clean_rows);

  // The rerun marks the stale run abandoned and completes with the clean digest.
  restore_write_speed(uri);
  const RunResult rerun = run_snapshot({.db = uri, .ranks = 2, .chunk_size = kFaultChunkSize}, dir);
  ASSERT_EQ(rerun.command.exit_code, 0) << rerun.command.output;
  EXPECT_NE(rerun.command.output.find("marked abandoned"), std::string::npos) << rerun.command.output;
  EXPECT_EQ(run_status(uri, killed_run), "abandoned");
  EXPECT_EQ(rerun.telemetry["digest"], clean_digest);
  EXPECT_TRUE(snapshot_rows(uri) == clean_rows);
}

TEST(RankKilled, PostgresKeepsWholeChunksAndRerunCompletes) {
  SharedServerDatabase database("kill");
  ASSERT_FALSE(database.uri().empty()) << "TASNAP_TEST_PG is not set: run through tools/test.sh or set it.";
  TempDir dir;
  kill_rank_and_rerun(database.uri(), dir);
}

TEST(RankKilled, SqliteFileStaysConsistentAndRerunCompletes) {
  TempDir dir;
  const std::string path = (dir / "killed.db").string();
  kill_rank_and_rerun("sqlite:" + path, dir);

  const auto check = run_command("sqlite3 " + shell_quote(path) + " 'PRAGMA integrity_check'");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "ok\n");
}

// A killed run whose rank 0 is left a zombie (ended, not yet reaped by its
// parent) must still be marked abandoned by the next run.
TEST(RankKilled, ZombieRankCountsAsEnded) {
  TempDir dir;
  kill_rank_and_rerun("sqlite:" + (dir / "zombie.db").string(), dir, false);
}

// A private server with generated bars, the digest of an undisturbed run, and
// slowed-down writes, so the server can be stopped in the middle of a run.
class ServerStopped : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(psql(server.uri(), "CREATE DATABASE faults").exit_code, 0);
    init_and_generate(uri, kFaultTickers, kFaultDays);
    const RunResult clean = run_snapshot({.db = uri, .ranks = 2, .chunk_size = kFaultChunkSize}, dir);
    ASSERT_EQ(clean.command.exit_code, 0) << clean.command.output;
    clean_digest = clean.telemetry["digest"];
    slow_down_writes(uri);
  }

  PrivateServer server;
  const std::string uri = server.uri("faults");
  TempDir dir;
  std::string clean_digest;
};

// The server stops while chunks are being written and stays down until the job
// ends: every rank reports its lost connection, the failed run log write is
// reported with the run id, and the rerun after a restart completes the job.
TEST_F(ServerStopped, LostConnectionIsReportedAndRerunCompletes) {
  BackgroundCommand job(background_run(uri, 2, kFaultChunkSize, "--max-retries 1"), dir / "stopped.log");
  ASSERT_TRUE(job.wait_for_output(" done on rank ", 60s)) << job.output();
  server.stop();
  const auto code = job.wait(90s);
  ASSERT_TRUE(code.has_value()) << job.output();
  const std::string output = job.output();
  const std::string run_id = started_run_id(output);
  ASSERT_FALSE(run_id.empty()) << output;

  EXPECT_EQ(*code, exit_code::kRunFailed) << output;
  EXPECT_NE(output.find("could not be recorded in the run log"), std::string::npos) << output;
  EXPECT_NE(output.find("run " + run_id), std::string::npos) << output;
  // Each rank names its chunk and the server's host in the line of its lost connection.
  const std::string host = "on host " + server.socket_dir().string();
  for (const std::string rank : {"rank=0", "rank=1"}) {
    EXPECT_NE(output.find(rank + " stops taking new chunks"), std::string::npos) << rank << "\n" << output;
    bool reported = false;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      reported = reported || (line.find(rank + " chunk=") != std::string::npos &&
                              line.find("after a transient database error") != std::string::npos &&
                              line.find(host) != std::string::npos);
    }
    EXPECT_TRUE(reported) << rank << " did not report its lost connection with chunk and host\n" << output;
  }
  EXPECT_NE(output.find("retry 1/1"), std::string::npos) << output;

  server.start();
  EXPECT_EQ(run_status(uri, run_id), "running");
  restore_write_speed(uri);
  const RunResult rerun = run_snapshot({.db = uri, .ranks = 2, .chunk_size = kFaultChunkSize}, dir);
  ASSERT_EQ(rerun.command.exit_code, 0) << rerun.command.output;
  EXPECT_EQ(run_status(uri, run_id), "abandoned");
  EXPECT_EQ(rerun.telemetry["digest"], clean_digest);
}

// The server ends every connection of the run but stays up, as an administrator
// or a failover would. The ranks stop, and rank 0 reconnects to record the run
// as failed with the chunks not written. The rerun then completes.
TEST_F(ServerStopped, TerminatedConnectionsRecordRunFailed) {
  const auto telemetry = dir / "terminated.json";
  BackgroundCommand job(background_run(uri, 2, kFaultChunkSize,
                                       "--max-retries 0 --telemetry-json " + shell_quote(telemetry.string())),
                        dir / "terminated.log");
  ASSERT_TRUE(job.wait_for_output(" done on rank ", 60s)) << job.output();
  const auto terminated = psql(server.uri(), "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                             "WHERE datname = 'faults'");
  ASSERT_EQ(terminated.exit_code, 0) << terminated.output;
  EXPECT_EQ(terminated.output, "2\n") << "one connection per rank";
  const auto code = job.wait(90s);
  ASSERT_TRUE(code.has_value()) << job.output();
  EXPECT_EQ(*code, exit_code::kRunFailed) << job.output();

  const nlohmann::json failed = read_json(telemetry);
  const std::string run_id = failed["run_id"];
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(run_status(uri, run_id), "failed");
  const auto error = query_column(uri, "SELECT error FROM tasnap_runs WHERE run_id = '" + run_id + "'");
  ASSERT_EQ(error.size(), 1u);
  EXPECT_NE(error.front().find("chunks not written: "), std::string::npos) << error.front();
  EXPECT_NE(error.front().find("Rerun the same command"), std::string::npos) << error.front();
  for (const auto& rank : failed["ranks"]) {
    EXPECT_FALSE(rank["failed_chunks"].empty()) << "rank " << rank["rank"] << " lost its connection";
  }

  restore_write_speed(uri);
  const RunResult rerun = run_snapshot({.db = uri, .ranks = 2, .chunk_size = kFaultChunkSize}, dir);
  ASSERT_EQ(rerun.command.exit_code, 0) << rerun.command.output;
  EXPECT_EQ(rerun.telemetry["digest"], clean_digest);
  EXPECT_EQ(run_status(uri, run_id), "failed") << "a recorded failure is never rewritten as abandoned";
}

// The server restarts while chunks are being written: the chunk retries on a
// new connection and the run still succeeds with the undisturbed digest.
TEST_F(ServerStopped, RestartWithinRetriesIsSurvived) {
  const auto telemetry = dir / "restarted.json";
  BackgroundCommand job(background_run(uri, 2, kFaultChunkSize,
                                       "--max-retries 6 --telemetry-json " + shell_quote(telemetry.string())),
                        dir / "restarted.log");
  ASSERT_TRUE(job.wait_for_output(" done on rank ", 60s)) << job.output();
  server.stop();
  server.start();
  const auto code = job.wait(90s);
  ASSERT_TRUE(code.has_value()) << job.output();
  EXPECT_EQ(*code, 0) << job.output();
  EXPECT_NE(job.output().find("after a transient database error"), std::string::npos) << job.output();

  const nlohmann::json result = read_json(telemetry);
  EXPECT_EQ(result["status"], "succeeded");
  EXPECT_EQ(result["digest"], clean_digest);
  std::int64_t retries = 0;
  for (const auto& rank : result["ranks"]) retries += rank["retries"].get<std::int64_t>();
  EXPECT_GT(retries, 0);
}

// ---------------------------------------------------------------------------
// A database that cannot be used at start: one clear error, exit code 3, no run row.

class StartupRefusal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new PrivateServer({.password = kPassword, .max_connections = 8});
    ASSERT_EQ(psql(server_->uri(), "CREATE DATABASE loaded").exit_code, 0);
    ASSERT_EQ(psql(server_->uri(), "CREATE DATABASE empty").exit_code, 0);
    init_and_load(server_->uri("loaded"), sample_csv());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Checks the exit code, that the output names `expected`, and that no run row was written.
  static void expect_refused(const CommandResult& result, const std::string& expected) {
    EXPECT_EQ(result.exit_code, exit_code::kDatabase) << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("started: mode="), std::string::npos) << "work began\n" << result.output;
    EXPECT_EQ(result.output.find(kPassword), std::string::npos) << "the password leaked\n" << result.output;
    EXPECT_EQ(run_count(server_->uri("loaded")), 0u);
  }

  static std::string mpirun(int ranks, const std::string& uri) {
    return "timeout -s KILL 60 mpirun -np " + std::to_string(ranks) + " " + tasnap() + " run --db " +
           shell_quote(uri) + " --date " + kSampleDate;
  }

  static constexpr const char* kPassword = "Startup-Secret-7193";
  static PrivateServer* server_;
};

PrivateServer* StartupRefusal::server_ = nullptr;

TEST_F(StartupRefusal, UnreachableServer) {
  TempDir nowhere;
  const std::string uri = "host=" + nowhere.path().string() + " port=5999 user=postgres dbname=loaded";
  const auto result = run_command(mpirun(2, uri));
  EXPECT_EQ(result.exit_code, exit_code::kDatabase) << result.output;
  EXPECT_NE(result.output.find("Could not connect"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("server is running"), std::string::npos) << result.output;
  EXPECT_EQ(run_count(server_->uri("loaded")), 0u);
}

TEST_F(StartupRefusal, WrongPassword) {
  const std::string wrong = "Wrong-Guess-4401";
  const auto result = run_command(mpirun(2, server_->uri_without_password("loaded") + " password=" + wrong));
  expect_refused(result, "password");
  EXPECT_EQ(result.output.find(wrong), std::string::npos) << "the wrong password was echoed\n" << result.output;

  const auto missing = run_command("PGPASSWORD= " + mpirun(2, server_->uri_without_password("loaded")));
  expect_refused(missing, "password");
}

TEST_F(StartupRefusal, MissingTables) {
  const auto result = run_command(mpirun(2, server_->uri("empty")));
  EXPECT_EQ(result.exit_code, exit_code::kDatabase) << result.output;
  EXPECT_NE(result.output.find("tasnap init"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find(kPassword), std::string::npos) << result.output;
  const auto tables = query_column(server_->uri("empty"),
                                   "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  EXPECT_TRUE(tables.empty()) << "the run created tables";
}

TEST_F(StartupRefusal, TooFewFreeConnections) {
  // Hold 5 of the 8 connection slots, so 3 are left and rank 0 takes one.
  std::vector<std::unique_ptr<BackgroundCommand>> holders;
  TempDir dir;
  for (int i = 0; i < 5; ++i) {
    holders.push_back(std::make_unique<BackgroundCommand>(
        "psql " + shell_quote(server_->uri()) + " -X -q -c 'SELECT pg_sleep(60)'",
        dir / ("holder-" + std::to_string(i) + ".log")));
  }
  bool held = false;
  for (int attempt = 0; attempt < 200 && !held; ++attempt) {
    const auto count = query_column(server_->uri(),
                                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'");
    held = !count.empty() && count.front() == "5";
    if (!held) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(held) << "the psql sessions holding connections did not start";

  const auto result = run_command(mpirun(4, server_->uri("loaded")));
  expect_refused(result, "max_connections");
  EXPECT_NE(result.output.find("needs 3"), std::string::npos) << result.output;

  // With enough slots the same run works.
  holders.clear();
  std::this_thread::sleep_for(300ms);
  const auto works = run_command(mpirun(2, server_->uri("loaded")));
  EXPECT_EQ(works.exit_code, 0) << works.output;
  EXPECT_EQ(run_count(server_->uri("loaded")), 1u);
  ASSERT_EQ(psql(server_->uri("loaded"), "DELETE FROM tasnap_run_tickers; DELETE FROM tasnap_run_ranks; "
                                         "DELETE FROM tasnap_runs").exit_code, 0);
}

// ---------------------------------------------------------------------------
// A chunk whose upsert fails on PostgreSQL.

class FailedChunkPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(database_.uri().empty()) << "TASNAP_TEST_PG is not set: run through tools/test.sh or set it.";
    init_and_load(database_.uri(), sample_csv());
    const RunResult clean = run_snapshot({.db = database_.uri(), .ranks = 2, .chunk_size = 3, .date = kSampleDate}, dir_);
    ASSERT_EQ(clean.command.exit_code, 0) << clean.command.output;
    clean_digest_ = clean.telemetry["digest"];
    universe_ = query_column(database_.uri(), "SELECT DISTINCT ticker FROM daily_prices WHERE trade_date = '" +
                                                  kSampleDate + "'");
    std::sort(universe_.begin(), universe_.end());  // byte order, as tasnap plans chunks
    // Start from an empty snapshot table, so rows of the failed chunk cannot be left from the clean run.
    ASSERT_EQ(psql(database_.uri(), "DELETE FROM ta_snapshots").exit_code, 0);
  }

  SharedServerDatabase database_{"chunk"};
  TempDir dir_;
  std::string clean_digest_;
  std::vector<std::string> universe_;
};

TEST_F(FailedChunkPostgres, PermanentFailureRollsBackOneChunk) {
  ASSERT_EQ(psql(database_.uri(),
                 "CREATE FUNCTION reject_msft() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "IF NEW.ticker = 'MSFT' THEN RAISE EXCEPTION 'injected failure for MSFT'; END IF; "
                 "RETURN NEW; END $$; "
                 "CREATE TRIGGER reject_msft BEFORE INSERT ON ta_snapshots FOR EACH ROW EXECUTE FUNCTION reject_msft()")
                .exit_code,
            0);

  const RunResult failed = run_snapshot({.db = database_.uri(), .ranks = 2, .chunk_size = 3, .date = kSampleDate}, dir_);
  EXPECT_EQ(failed.command.exit_code, exit_code::kRunFailed) << failed.command.output;
  ASSERT_FALSE(failed.telemetry.is_null()) << failed.command.output;
  EXPECT_EQ(failed.telemetry["status"], "failed");

  // The failed chunk is the one holding MSFT, and the error names it and the trigger.
  const auto msft = std::find(universe_.begin(), universe_.end(), "MSFT");
  ASSERT_NE(msft, universe_.end());
  const std::int64_t msft_chunk = (msft - universe_.begin()) / 3;
  const std::string error = failed.telemetry["error"];
  EXPECT_NE(error.find("chunks not written: " + std::to_string(msft_chunk) + " "), std::string::npos) << error;
  EXPECT_NE(error.find("injected failure for MSFT"), std::string::npos) << error;
  EXPECT_EQ(run_status(database_.uri(), failed.telemetry["run_id"]), "failed");

  // That chunk has no row at all; every other ticker has its row.
  const auto stored = query_column(database_.uri(), "SELECT ticker FROM ta_snapshots");
  const std::set<std::string> stored_set(stored.begin(), stored.end());
  for (std::size_t i = 0; i < universe_.size(); ++i) {
    const bool in_failed_chunk = static_cast<std::int64_t>(i / 3) == msft_chunk;
    EXPECT_EQ(stored_set.count(universe_[i]), in_failed_chunk ? 0u : 1u) << universe_[i];
  }

  ASSERT_EQ(psql(database_.uri(), "DROP TRIGGER reject_msft ON ta_snapshots").exit_code, 0);
  const RunResult rerun = run_snapshot({.db = database_.uri(), .ranks = 2, .chunk_size = 3, .date = kSampleDate}, dir_);
  ASSERT_EQ(rerun.command.exit_code, 0) << rerun.command.output;
  EXPECT_EQ(rerun.telemetry["digest"], clean_digest_);
  EXPECT_EQ(query_column(database_.uri(), "SELECT ticker FROM ta_snapshots").size(), universe_.size());
}

TEST_F(FailedChunkPostgres, TransientFailureIsRetried) {
  // The sequence advances outside the transaction, so the trigger raises a
  // serialization failure for the first MSFT row only, like a passing conflict.
  ASSERT_EQ(psql(database_.uri(),
                 "CREATE SEQUENCE msft_attempts; "
                 "CREATE FUNCTION fail_msft_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "IF NEW.ticker = 'MSFT' AND nextval('msft_attempts') = 1 THEN "
                 "RAISE EXCEPTION 'injected conflict for MSFT' USING ERRCODE = 'serialization_failure'; END IF; "
                 "RETURN NEW; END $$; "
                 "CREATE TRIGGER fail_msft_once BEFORE INSERT ON ta_snapshots FOR EACH ROW "
                 "EXECUTE FUNCTION fail_msft_once()")
                .exit_code,
            0);

  const RunResult run = run_snapshot({.db = database_.uri(), .ranks = 2, .chunk_size = 3, .date = kSampleDate}, dir_);
  ASSERT_EQ(run.command.exit_code, 0) << run.command.output;
  EXPECT_EQ(run.telemetry["status"], "succeeded");
  EXPECT_EQ(run.telemetry["digest"], clean_digest_);
  std::int64_t retries = 0;
  for (const auto& rank : run.telemetry["ranks"]) retries += rank["retries"].get<std::int64_t>();
  EXPECT_EQ(retries, 1);
  EXPECT_NE(run.command.output.find("injected conflict for MSFT"), std::string::npos) << run.command.output;
  EXPECT_EQ(query_column(database_.uri(), "SELECT ticker FROM ta_snapshots").size(), universe_.size());
}

// ---------------------------------------------------------------------------
// SQLite: two runs on one file at once.

TEST(SqliteConcurrency, TwoRunsOnOneFileBothSucceed) {
  TempDir dir;
  const std::string uri = "sqlite:" + (dir / "shared.db").string();
  init_and_generate(uri, kFaultTickers, kFaultDays);
  const RunResult clean = run_snapshot({.db = uri, .ranks = 2, .chunk_size = kFaultChunkSize}, dir);
  ASSERT_EQ(clean.command.exit_code, 0) << clean.command.output;

  // Slow writes make each run last long enough that the two surely overlap
  // and wait for each other's write lock.
  slow_down_writes(uri);
  const auto first_json = dir / "first.json";
  const auto second_json = dir / "second.json";
  BackgroundCommand first(background_run(uri, 2, kFaultChunkSize,
                                         "--telemetry-json " + shell_quote(first_json.string())),
                          dir / "first.log");
  BackgroundCommand second(background_run(uri, 2, kFaultChunkSize,
                                          "--telemetry-json " + shell_quote(second_json.string())),
                           dir / "second.log");
  const auto first_code = first.wait(120s);
  const auto second_code = second.wait(120s);
  ASSERT_TRUE(first_code.has_value()) << first.output();
  ASSERT_TRUE(second_code.has_value()) << second.output();
  EXPECT_EQ(*first_code, 0) << first.output();
  EXPECT_EQ(*second_code, 0) << second.output();
  const nlohmann::json first_run = read_json(first_json);
  const nlohmann::json second_run = read_json(second_json);
  EXPECT_EQ(first_run["digest"], clean.telemetry["digest"]);
  EXPECT_EQ(second_run["digest"], clean.telemetry["digest"]);

  // The runs overlapped: each started before the other finished (ISO 8601 UTC text sorts by time).
  EXPECT_LT(first_run["started_at"].get<std::string>(), second_run["finished_at"].get<std::string>());
  EXPECT_LT(second_run["started_at"].get<std::string>(), first_run["finished_at"].get<std::string>());

  const auto check = run_command("sqlite3 " + shell_quote((dir / "shared.db").string()) + " 'PRAGMA integrity_check'");
  EXPECT_EQ(check.output, "ok\n");
  const auto statuses = query_column(uri, "SELECT status FROM tasnap_runs ORDER BY status");
  EXPECT_EQ(statuses, (std::vector<std::string>{"succeeded", "succeeded", "succeeded"}));
  restore_write_speed(uri);
  EXPECT_EQ(snapshot_rows(uri).size(), clean.telemetry["rows"].get<std::size_t>());
}

TEST(SqliteConcurrency, LockedFileIsWaitedFor) {
  TempDir dir;
  const auto path = dir / "locked.db";
  const std::string uri = "sqlite:" + path.string();
  init_and_load(uri, sample_csv());
  const RunResult clean = run_snapshot({.db = uri, .ranks = 2, .chunk_size = 3, .date = kSampleDate}, dir);
  ASSERT_EQ(clean.command.exit_code, 0) << clean.command.output;

  // Another process holds the write lock for 3 s while the run starts.
  BackgroundCommand holder("sh -c " + shell_quote("(echo 'BEGIN EXCLUSIVE;'; echo \"SELECT 'locked';\"; sleep 3; "
                                                  "echo 'COMMIT;') | sqlite3 " + shell_quote(path.string())),
                           dir / "holder.log");
  ASSERT_TRUE(holder.wait_for_output("locked", 30s)) << holder.output();
  const RunResult run = run_snapshot({.db = uri, .ranks = 2, .chunk_size = 3, .date = kSampleDate}, dir);
  const auto holder_code = holder.wait(30s);
  ASSERT_TRUE(holder_code.has_value());
  EXPECT_EQ(*holder_code, 0) << holder.output();
  ASSERT_EQ(run.command.exit_code, 0) << run.command.output;
  EXPECT_EQ(run.telemetry["status"], "succeeded");
  EXPECT_EQ(run.telemetry["digest"], clean.telemetry["digest"]);
}

}  // namespace
}  // namespace tasnap::reliability
