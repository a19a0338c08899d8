// The run log of the SQLite backend: runs, per-rank telemetry and per-ticker digests.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "sqlite_test_util.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

RunRecord make_run(const std::string& id, const std::string& started_at) {
  RunRecord run;
  run.run_id = id;
  run.mode = "backfill";
  run.started_at = started_at;
  run.status = "running";
  run.as_of_date = parse_date_or_throw("2021-04-21", "as_of");
  run.from_date = parse_date_or_throw("2021-01-04", "from");
  run.workers = 4;
  run.chunk_size = 250;
  run.version = "0.1.0 (abc)";
  run.params_hash = "p1";
  run.host = "node1";
  run.pid = 4242;
  return run;
}

RankTelemetry make_rank(int rank) {
  RankTelemetry telemetry;
  telemetry.rank = rank;
  telemetry.host = "node" + std::to_string(rank);
  telemetry.pid = 100 + rank;
  telemetry.chunks_assigned = 3;
  telemetry.chunks_done = 2;
  telemetry.tickers = 500;
  telemetry.bars_read = 120000;
  telemetry.invalid_bars = 7;
  telemetry.rows_upserted = 490;
  telemetry.tickers_skipped = 10;
  telemetry.skipped_no_bars = 4;
  telemetry.skipped_no_valid_bars = 1;
  telemetry.skipped_no_bar_on_date = 5;
  telemetry.retries = 1;
  telemetry.connect_seconds = 0.25;
  telemetry.read_seconds = 1.5;
  telemetry.compute_seconds = 2.75;
  telemetry.write_seconds = 0.125;
  telemetry.total_seconds = 4.625;
  telemetry.peak_rss_kib = 65536;
  telemetry.digest = "00000000deadbeef:490";
  telemetry.error = rank == 1 ? "chunk 2 failed" : "";
  telemetry.failed_chunks = rank == 1 ? std::vector<std::int64_t>{2, 9} : std::vector<std::int64_t>{};
  return telemetry;
}

class SqliteRunLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = open_database(testing::sqlite_config(dir_ / "runs.db"));
    database_->init_schema();
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> database_;
};

TEST_F(SqliteRunLogTest, InsertAndFindRun) {
  const RunRecord run = make_run("run-1", "2021-04-21T22:00:00Z");
  database_->insert_run(run);

  const auto found = database_->find_run("run-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->run_id, "run-1");
  EXPECT_EQ(found->mode, "backfill");
  EXPECT_EQ(found->started_at, "2021-04-21T22:00:00Z");
  EXPECT_EQ(found->finished_at, "");
  EXPECT_EQ(found->status, "running");
  EXPECT_EQ(found->as_of_date, run.as_of_date);
  EXPECT_EQ(found->from_date, run.from_date);
  EXPECT_FALSE(found->history_start.has_value());
  EXPECT_EQ(found->workers, 4);
  EXPECT_EQ(found->chunk_size, 250);
  EXPECT_EQ(found->version, "0.1.0 (abc)");
  EXPECT_EQ(found->params_hash, "p1");
  EXPECT_EQ(found->host, "node1");
  EXPECT_EQ(found->pid, 4242);

  EXPECT_FALSE(database_->find_run("run-unknown").has_value());
}

TEST_F(SqliteRunLogTest, RunsWithStatusAndSetStatus) {
  database_->insert_run(make_run("run-b", "2021-04-21T22:00:02Z"));
  database_->insert_run(make_run("run-a", "2021-04-21T22:00:01Z"));

  auto running = database_->runs_with_status("running");
  ASSERT_EQ(running.size(), 2u);
  EXPECT_EQ(running[0].run_id, "run-a");
  EXPECT_EQ(running[1].run_id, "run-b");

  database_->set_run_status("run-a", "abandoned", "the process died");
  running = database_->runs_with_status("running");
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].run_id, "run-b");

  const auto abandoned = database_->find_run("run-a");
  ASSERT_TRUE(abandoned.has_value());
  EXPECT_EQ(abandoned->status, "abandoned");
  EXPECT_EQ(abandoned->error, "the process died");

  EXPECT_THROW(database_->set_run_status("run-unknown", "abandoned", ""), InputError);
}

TEST_F(SqliteRunLogTest, FinishRunStoresRanksAndTickers) {
  RunRecord run = make_run("run-1", "2021-04-21T22:00:00Z");
  run.history_start = parse_date_or_throw("2016-01-04", "history");
  database_->insert_run(run);

  run.status = "failed";
  run.finished_at = "2021-04-21T22:05:00Z";
  run.tickers = 1000;
  run.rows = 980;
  run.digest = "0123456789abcdef:980";
  run.error = "1 chunk failed";
  const std::vector<RankTelemetry> ranks = {make_rank(0), make_rank(1)};
  const std::vector<TickerDigest> tickers = {{"BBB", 1, 3, 2, "d2"}, {"AAA", 0, 1, 1, "d1"}};
  database_->finish_run(run, ranks, tickers);

  const auto found = database_->find_run("run-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->status, "failed");
  EXPECT_EQ(found->finished_at, "2021-04-21T22:05:00Z");
  EXPECT_EQ(found->history_start, run.history_start);
  EXPECT_EQ(found->rows, 980);
  EXPECT_EQ(found->digest, "0123456789abcdef:980");
  EXPECT_EQ(found->error, "1 chunk failed");

  const auto stored_ranks = database_->run_ranks("run-1");
  ASSERT_EQ(stored_ranks.size(), 2u);
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const auto& want = ranks[i];
    const auto& got = stored_ranks[i];
    EXPECT_EQ(got.rank, want.rank);
    EXPECT_EQ(got.host, want.host);
    EXPECT_EQ(got.pid, want.pid);
    EXPECT_EQ(got.chunks_assigned, want.chunks_assigned);
    EXPECT_EQ(got.chunks_done, want.chunks_done);
    EXPECT_EQ(got.tickers, want.tickers);
    EXPECT_EQ(got.bars_read, want.bars_read);
    EXPECT_EQ(got.invalid_bars, want.invalid_bars);
    EXPECT_EQ(got.rows_upserted, want.rows_upserted);
    EXPECT_EQ(got.tickers_skipped, want.tickers_skipped);
    EXPECT_EQ(got.skipped_no_bars, want.skipped_no_bars);
    EXPECT_EQ(got.skipped_no_valid_bars, want.skipped_no_valid_bars);
    EXPECT_EQ(got.skipped_no_bar_on_date, want.skipped_no_bar_on_date);
    EXPECT_EQ(got.retries, want.retries);
    EXPECT_EQ(got.connect_seconds, want.connect_seconds);
    EXPECT_EQ(got.read_seconds, want.read_seconds);
    EXPECT_EQ(got.compute_seconds, want.compute_seconds);
    EXPECT_EQ(got.write_seconds, want.write_seconds);
    EXPECT_EQ(got.total_seconds, want.total_seconds);
    EXPECT_EQ(got.peak_rss_kib, want.peak_rss_kib);
    EXPECT_EQ(got.digest, want.digest);
    EXPECT_EQ(got.error, want.error);
    EXPECT_EQ(got.failed_chunks, want.failed_chunks);
  }

  const auto stored_tickers = database_->run_tickers("run-1");
  ASSERT_EQ(stored_tickers.size(), 2u);
  EXPECT_EQ(stored_tickers[0].ticker, "AAA");
  EXPECT_EQ(stored_tickers[0].rank, 0);
  EXPECT_EQ(stored_tickers[0].chunk, 1);
  EXPECT_EQ(stored_tickers[0].rows, 1);
  EXPECT_EQ(stored_tickers[0].digest, "d1");
  EXPECT_EQ(stored_tickers[1].ticker, "BBB");
  EXPECT_EQ(stored_tickers[1].rank, 1);
}

TEST_F(SqliteRunLogTest, FinishRunTwiceReplaces) {
  RunRecord run = make_run("run-1", "2021-04-21T22:00:00Z");
  database_->insert_run(run);
  database_->finish_run(run, std::vector<RankTelemetry>{make_rank(0), make_rank(1)},
                        std::vector<TickerDigest>{{"AAA", 0, 1, 1, "d1"}, {"BBB", 1, 3, 2, "d2"}});

  run.status = "succeeded";
  database_->finish_run(run, std::vector<RankTelemetry>{make_rank(0)},
                        std::vector<TickerDigest>{{"AAA", 0, 1, 1, "d1"}});

  EXPECT_EQ(database_->run_ranks("run-1").size(), 1u);
  EXPECT_EQ(database_->run_tickers("run-1").size(), 1u);
  EXPECT_EQ(database_->find_run("run-1")->status, "succeeded");
}

TEST_F(SqliteRunLogTest, OtherRunsUntouched) {
  database_->insert_run(make_run("run-1", "2021-04-21T22:00:00Z"));
  database_->insert_run(make_run("run-2", "2021-04-21T23:00:00Z"));
  database_->finish_run(make_run("run-1", "2021-04-21T22:00:00Z"),
                        std::vector<RankTelemetry>{make_rank(0)},
                        std::vector<TickerDigest>{{"AAA", 0, 1, 1, "d1"}});
  database_->finish_run(make_run("run-2", "2021-04-21T23:00:00Z"),
                        std::vector<RankTelemetry>{make_rank(0), make_rank(1)},
                        std::vector<TickerDigest>{});

  EXPECT_EQ(database_->run_ranks("run-1").size(), 1u);
  EXPECT_EQ(database_->run_tickers("run-1").size(), 1u);
  EXPECT_EQ(database_->run_ranks("run-2").size(), 2u);
  EXPECT_TRUE(database_->run_tickers("run-2").empty());
}

}  // namespace
}  // namespace tasnap::storage
