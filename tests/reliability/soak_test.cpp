// Twenty consecutive runs against one PostgreSQL database with 1 to 4 ranks:
// every run succeeds with the same digest, per-rank peak memory stays flat and
// every server connection is closed after each run.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "reliability_support.hpp"

namespace tasnap::reliability {
namespace {

constexpr int kRuns = 20;
constexpr int kTickers = 300;
constexpr int kDays = 600;
constexpr int kChunkSize = 25;

// Connections to the database, other than the psql session that counts them.
int connections_to(const std::string& uri, const std::string& name) {
  const auto count = query_column(uri, "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + name +
                                           "' AND pid <> pg_backend_pid()");
  return count.empty() ? -1 : std::stoi(count.front());
}

TEST(Soak, TwentyRunsStayStable) {
  SharedServerDatabase database("soak");
  ASSERT_FALSE(database.uri().empty()) << "TASNAP_TEST_PG is not set: run through tools/test.sh or set it.";
  init_and_generate(database.uri(), kTickers, kDays);
  TempDir dir;
  const int baseline = connections_to(database.uri(), database.name());
  ASSERT_EQ(baseline, 0);

  std::string digest;
  std::map<int, std::map<int, std::vector<double>>> peak_rss;  // ranks -> rank -> KiB per run
  for (int run = 0; run < kRuns; ++run) {
    const int ranks = 1 + run % 4;
    SCOPED_TRACE("run " + std::to_string(run) + " with " + std::to_string(ranks) + " ranks");
    const RunResult result = run_snapshot({.db = database.uri(), .ranks = ranks, .chunk_size = kChunkSize}, dir);
    ASSERT_EQ(result.command.exit_code, 0) << result.command.output;
    ASSERT_EQ(result.telemetry["status"], "succeeded");
    // A few generated tickers have no bar on the date, so not every ticker gets a row.
    EXPECT_GT(result.telemetry["rows"].get<int>(), kTickers * 9 / 10);
    if (digest.empty()) digest = result.telemetry["digest"];
    EXPECT_EQ(result.telemetry["digest"], digest);
    for (const auto& rank : result.telemetry["ranks"]) {
      peak_rss[ranks][rank["rank"].get<int>()].push_back(rank["peak_rss_kib"].get<double>());
    }

    // A server backend ends shortly after its client closes, so the count is polled for up to 5 s.
    int connections = -1;
    for (int attempt = 0; attempt < 50; ++attempt) {
      connections = connections_to(database.uri(), database.name());
      if (connections == baseline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(connections, baseline) << "connections left open after the run";
  }

  const auto runs = query_column(database.uri(), "SELECT status, count(*) FROM tasnap_runs GROUP BY status");
  EXPECT_EQ(runs, std::vector<std::string>{"succeeded|" + std::to_string(kRuns)});

  for (const auto& [ranks, per_rank] : peak_rss) {
    for (const auto& [rank, values] : per_rank) {
      const auto [low, high] = std::minmax_element(values.begin(), values.end());
      ASSERT_GT(*low, 0.0);
      EXPECT_LT(*high / *low, 1.5) << ranks << " ranks, rank " << rank << ": peak RSS from " << *low << " to "
                                   << *high << " KiB";
    }
  }
}

}  // namespace
}  // namespace tasnap::reliability
