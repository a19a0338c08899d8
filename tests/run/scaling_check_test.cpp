// Unit tests of the scaling harness's telemetry reader, digest check and
// derived figures, fed with hand-written telemetry files.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/errors.hpp"
#include "scaling/digest_check.hpp"
#include "scaling/run_telemetry.hpp"
#include "scaling/scaling_summary.hpp"
#include "scaling_telemetry_json.hpp"
#include "support/test_support.hpp"

namespace tasnap::scaling {
namespace {

using tasnap::testing::TempDir;
using tasnap::testing::telemetry_document;

std::filesystem::path write_json(const TempDir& dir, const std::string& name, const nlohmann::json& document) {
  const std::filesystem::path path = dir / name;
  std::ofstream(path) << document.dump(2);
  return path;
}

RunOutcome outcome_of(const RunTelemetry& run, int repeat) {
  return {run.workers, repeat, run.status, run.digest, run.error};
}

TEST(RunTelemetryTest, ReadsEveryField) {
  TempDir dir;
  const RunTelemetry run = read_run_telemetry(write_json(dir, "m2.json", telemetry_document(2, "00ab:38")));

  EXPECT_EQ(run.schema_version, 1);
  EXPECT_EQ(run.run_id, "20261204T210000Z-2abcde");
  EXPECT_EQ(run.mode, "run");
  EXPECT_EQ(run.status, "succeeded");
  EXPECT_EQ(run.as_of_date, "2021-04-21");
  EXPECT_EQ(run.from_date, "");
  EXPECT_EQ(run.workers, 2);
  EXPECT_EQ(run.chunk_size, 10);
  EXPECT_EQ(run.tickers, 40);
  EXPECT_EQ(run.rows, 38);
  EXPECT_EQ(run.digest, "00ab:38");
  EXPECT_EQ(run.database, "postgresql://tasnap:***@localhost/prices");
  ASSERT_EQ(run.ranks.size(), 2u);
  EXPECT_EQ(run.ranks[1].rank, 1);
  EXPECT_EQ(run.ranks[1].rows_upserted, 20);
  EXPECT_DOUBLE_EQ(run.ranks[1].compute_seconds, 3.0);
  EXPECT_EQ(run.ranks[1].peak_rss_kib, 20001);
  EXPECT_EQ(run.bars_read(), 10001);
}

TEST(RunTelemetryTest, RejectsOtherSchemaVersion) {
  nlohmann::json document = telemetry_document(1, "00ab:38");
  document["schema_version"] = 2;
  try {
    parse_run_telemetry(document.dump(), "v2.json");
    FAIL() << "schema_version 2 was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("schema_version 2"), std::string::npos) << e.what();
  }
}

TEST(RunTelemetryTest, NamesMissingField) {
  nlohmann::json document = telemetry_document(2, "00ab:38");
  document["ranks"][1].erase("compute_seconds");
  try {
    parse_run_telemetry(document.dump(), "missing.json");
    FAIL() << "a rank without compute_seconds was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'compute_seconds'"), std::string::npos) << message;
    EXPECT_NE(message.find("ranks[1]"), std::string::npos) << message;
    EXPECT_NE(message.find("missing.json"), std::string::npos) << message;
  }
}

TEST(RunTelemetryTest, RejectsInvalidJson) {
  EXPECT_THROW(parse_run_telemetry("{\"schema_version\": 1,", "cut.json"), InputError);
  EXPECT_THROW(parse_run_telemetry("[1, 2]", "array.json"), InputError);
}

TEST(DigestCheckTest, AcceptsEqualDigests) {
  TempDir dir;
  const RunTelemetry one_rank = read_run_telemetry(write_json(dir, "m1.json", telemetry_document(1, "00ab:38")));
  const RunTelemetry two = read_run_telemetry(write_json(dir, "m2.json", telemetry_document(2, "00ab:38")));

  DigestCheck check;
  EXPECT_FALSE(check.add(outcome_of(one_rank, 0)));
  EXPECT_FALSE(check.add(outcome_of(two, 0)));
  EXPECT_FALSE(check.add(outcome_of(two, 1)));
  EXPECT_TRUE(check.problems().empty());
  ASSERT_TRUE(check.reference());
  EXPECT_EQ(check.reference()->workers, 1);
}

TEST(DigestCheckTest, MismatchNamesRunAndBothDigests) {
  TempDir dir;
  const RunTelemetry one_rank = read_run_telemetry(write_json(dir, "m1.json", telemetry_document(1, "00ab:38")));
  const RunTelemetry two = read_run_telemetry(write_json(dir, "m2.json", telemetry_document(2, "00cd:38")));

  DigestCheck check;
  EXPECT_FALSE(check.add(outcome_of(one_rank, 0)));
  const auto problem = check.add(outcome_of(two, 1));
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("M=2 repeat 1"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("00cd:38"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("M=1 repeat 0"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("00ab:38"), std::string::npos) << *problem;
  EXPECT_EQ(check.problems().size(), 1u);
}

TEST(DigestCheckTest, RejectsFailedRun) {
  TempDir dir;
  nlohmann::json document = telemetry_document(2, "");
  document["status"] = "failed";
  document["error"] = "chunk 3 failed after 3 retries";
  const RunTelemetry failed = read_run_telemetry(write_json(dir, "failed.json", document));

  DigestCheck check;
  const auto problem = check.add(outcome_of(failed, 0));
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("M=2 repeat 0"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("'failed'"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("chunk 3 failed"), std::string::npos) << *problem;
  EXPECT_FALSE(check.reference());
}

TEST(DigestCheckTest, RejectsSuccessWithoutDigest) {
  DigestCheck check;
  const auto problem = check.add({1, 0, "succeeded", "", ""});
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("no digest"), std::string::npos) << *problem;
}

TEST(ScalingSummaryTest, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(median({3.0, 1.0, 2.0}), 2.0);
  EXPECT_DOUBLE_EQ(median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_TRUE(std::isnan(median({})));
}

TEST(ScalingSummaryTest, SpeedupEfficiencyKarpFlatt) {
  // Medians: M=1 10 s, M=2 6 s, M=4 4 s. Both M>1 points fit a serial fraction of 0.2.
  const std::vector<WallSample> samples = {{1, 10.0, 0}, {2, 6.5, 0}, {4, 4.0, 0}, {1, 11.0, 1}, {2, 6.0, 1},
                                           {4, 4.2, 1},  {1, 9.0, 2}, {2, 5.5, 2}, {4, 3.9, 2}};
  const std::vector<WorkerSummary> summaries = summarize(samples, {1, 2, 4});
  ASSERT_EQ(summaries.size(), 3u);

  EXPECT_EQ(summaries[0].workers, 1);
  EXPECT_EQ(summaries[0].runs, 3);
  EXPECT_DOUBLE_EQ(summaries[0].median_wall, 10.0);
  EXPECT_DOUBLE_EQ(summaries[0].min_wall, 9.0);
  EXPECT_DOUBLE_EQ(summaries[0].max_wall, 11.0);
  EXPECT_DOUBLE_EQ(summaries[0].speedup, 1.0);
  EXPECT_TRUE(std::isnan(summaries[0].karp_flatt));

  EXPECT_DOUBLE_EQ(summaries[1].median_wall, 6.0);
  EXPECT_NEAR(summaries[1].speedup, 10.0 / 6.0, 1e-12);
  EXPECT_NEAR(summaries[1].efficiency, 10.0 / 12.0, 1e-12);
  EXPECT_NEAR(summaries[1].karp_flatt, 0.2, 1e-12);

  EXPECT_DOUBLE_EQ(summaries[2].median_wall, 4.0);
  EXPECT_NEAR(summaries[2].speedup, 2.5, 1e-12);
  EXPECT_NEAR(summaries[2].efficiency, 0.625, 1e-12);
  EXPECT_NEAR(summaries[2].karp_flatt, 0.2, 1e-12);

  EXPECT_NEAR(amdahl_speedup(0.2, 8), 1.0 / 0.3, 1e-12);

  // Paired by repeat: M=2 ratios 10/6.5, 11/6, 9/5.5; M=4 ratios 10/4, 11/4.2, 9/3.9.
  EXPECT_DOUBLE_EQ(summaries[0].paired_speedup, 1.0);
  EXPECT_NEAR(summaries[1].paired_speedup, 9.0 / 5.5, 1e-12);
  EXPECT_NEAR(summaries[2].paired_speedup, 10.0 / 4.0, 1e-12);
}

TEST(ScalingSummaryTest, PairedSpeedupCancelsDrift) {
  // The host is three times slower in repeat 1, and a burst of load hits the M=2
  // run of repeat 2. Two of three repeats show 2x, but the ratio of medians shows none.
  const std::vector<WallSample> samples = {{1, 4.0, 0},  {2, 2.0, 0}, {1, 12.0, 1},
                                           {2, 6.0, 1}, {1, 6.0, 2}, {2, 12.0, 2}};
  const std::vector<WorkerSummary> summaries = summarize(samples, {1, 2});
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_NEAR(summaries[1].paired_speedup, 2.0, 1e-12);
  EXPECT_NEAR(summaries[1].speedup, 1.0, 1e-12);
}

TEST(ScalingSummaryTest, NoSpeedupWithoutOneWorker) {
  const std::vector<WorkerSummary> summaries = summarize({{2, 6.0}, {4, 4.0}}, {2, 3, 4});
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries[1].workers, 4);
  EXPECT_TRUE(std::isnan(summaries[0].speedup));
  EXPECT_TRUE(std::isnan(summaries[1].karp_flatt));
  EXPECT_TRUE(std::isnan(summaries[1].paired_speedup));
}

}  // namespace
}  // namespace tasnap::scaling
