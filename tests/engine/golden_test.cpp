// Golden tests: every column of every golden row, at the contract's tolerance.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "engine/engine_test_data.hpp"
#include "engine/snapshot.hpp"
#include "support/test_support.hpp"

namespace tasnap {
namespace {

using engine::BadBarReport;
using engine::HistoryRange;
using engine::SkipReason;
using engine::SnapshotEngine;
using testing::GoldenRow;

std::string describe(double value) {
  if (is_null(value)) return "NULL";
  std::ostringstream text;
  text.precision(17);
  text << value;
  return text.str();
}

// Compares one computed row with its golden row; returns the number of mismatches.
int expect_row_matches(const SnapshotRow& got, const GoldenRow& want) {
  int mismatches = 0;
  const std::string where = want.ticker + " " + format_date(want.as_of_date);
  EXPECT_EQ(got.bars_used, want.bars_used) << where << " bars_used";
  if (got.bars_used != want.bars_used) ++mismatches;
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    const double g = got.values[c];
    const double w = want.values[c];
    const bool ok = (is_null(g) && is_null(w)) ||
                    (!is_null(g) && !is_null(w) && testing::within_tolerance(g, w));
    EXPECT_TRUE(ok) << where << " column " << kColumnNames[c] << ": got " << describe(g)
                    << ", want " << describe(w);
    if (!ok) ++mismatches;
  }
  return mismatches;
}

// Runs every request against the bars and checks the golden rows; a request
// without a golden row must be skipped.
void check_golden(const testing::BarFile& bars, const std::vector<testing::Request>& requests,
                  const std::vector<GoldenRow>& golden) {
  std::map<std::pair<std::string, Date>, const GoldenRow*> by_key;
  for (const GoldenRow& row : golden) by_key[{row.ticker, row.as_of_date}] = &row;

  // Expand "*" into every ticker of the bar file.
  std::set<std::pair<std::string, Date>> requested;
  for (const testing::Request& request : requests) {
    if (request.ticker == "*") {
      for (const auto& [ticker, index] : bars.index) {
        requested.insert({ticker, request.as_of_date});
      }
    } else {
      requested.insert({request.ticker, request.as_of_date});
    }
  }

  SnapshotEngine engine;
  SnapshotRow row;
  BadBarReport bad;
  std::size_t matched = 0;
  for (const auto& [ticker, date] : requested) {
    ASSERT_TRUE(bars.has(ticker)) << "no bars for requested ticker " << ticker;
    const SkipReason reason = engine.compute_row(ticker, bars.bars(ticker), {date, {}}, row, bad);
    const auto it = by_key.find({ticker, date});
    if (it == by_key.end()) {
      EXPECT_NE(reason, SkipReason::none) << ticker << " " << format_date(date)
                                          << " has no golden row but got a row";
      continue;
    }
    ASSERT_EQ(reason, SkipReason::none) << ticker << " " << format_date(date) << " skipped: "
                                        << engine::to_string(reason);
    EXPECT_EQ(row.ticker, ticker);
    EXPECT_EQ(row.as_of_date, date);
    expect_row_matches(row, *it->second);
    ++matched;
  }
  EXPECT_EQ(matched, golden.size()) << "every golden row must have a request";
}

std::vector<testing::Request> requests_from_golden(const std::vector<GoldenRow>& golden) {
  std::vector<testing::Request> requests;
  for (const GoldenRow& row : golden) requests.push_back({row.ticker, row.as_of_date});
  return requests;
}

TEST(GoldenTest, SampleSnapshotsMatch) {
  const auto golden =
      testing::load_golden(testing::source_dir() / "tests/data/golden/snapshots_sample.csv");
  ASSERT_FALSE(golden.empty());
  check_golden(testing::sample_bars(), requests_from_golden(golden), golden);
}

TEST(GoldenTest, EdgeCasesMatch) {
  const auto dir = testing::source_dir() / "tests/data/golden";
  const auto golden = testing::load_golden(dir / "edge_cases.csv");
  const auto requests = testing::load_requests(dir / "edge_requests.csv");
  ASSERT_EQ(golden.size() + 1, requests.size()) << "one edge request falls on an invalid bar";
  check_golden(testing::edge_bars(), requests, golden);
}

TEST(GoldenTest, PublicSnapshotsMatch) {
  const auto shared = testing::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "the shared golden folder is not present";
  const auto bars = testing::load_bar_file(shared / "data" / "sp500_daily.csv.gz");
  const auto golden = testing::load_golden(shared / "golden" / "snapshots_public.csv");
  const auto requests = testing::load_requests(shared / "golden" / "requests_public.csv");
  ASSERT_EQ(golden.size(), 582u);
  check_golden(bars, requests, golden);
}

}  // namespace
}  // namespace tasnap
