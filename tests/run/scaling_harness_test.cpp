// End-to-end tests of tasnap_scaling: the real tasnap under real mpirun on a
// generated SQLite database, the HDF5 file read back with the C API, and the
// plot script run on that file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "scaling/scaling_file.hpp"
#include "scaling_test_hdf5.hpp"
#include "support/test_support.hpp"

namespace tasnap::scaling {
namespace {

using tasnap::testing::Hdf5Reader;
using tasnap::testing::run_command;
using tasnap::testing::TempDir;

std::string harness_binary() {
  const char* path = std::getenv("TASNAP_SCALING_BINARY");
  if (!path) throw std::runtime_error("TASNAP_SCALING_BINARY is not set; run the tests through ctest.");
  return path;
}

std::string shell_quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

// Work files of the harness (telemetry, logs) go under `dir` too.
std::string harness_command(const TempDir& dir, const std::string& args) {
  return "TMPDIR=" + shell_quoted(dir.path()) + " " + shell_quoted(harness_binary()) + " " + args;
}

// The group of the one experiment whose name ends in "_<label>".
std::string experiment_named(const Hdf5Reader& h5, const std::string& label) {
  std::string found;
  for (const std::string& name : h5.children("/experiments")) {
    if (name.size() > label.size() + 1 && name.compare(name.size() - label.size() - 1, std::string::npos,
                                                       "_" + label) == 0) {
      EXPECT_TRUE(found.empty()) << "two experiments labelled " << label;
      found = "/experiments/" + name;
    }
  }
  return found;
}

// Row count written after the colon of a digest "<hex>:<rows>".
std::int64_t digest_rows(const std::string& digest) { return std::stoll(digest.substr(digest.find(':') + 1)); }

bool is_png(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char signature[8] = {};
  in.read(signature, sizeof signature);
  return in.gcount() == 8 && std::string(signature + 1, 3) == "PNG";
}

class ScalingHarnessTest : public ::testing::Test {
 protected:
  // Generates the database once. A failure here fails every test in SetUp with
  // its cause, where gtest alone would list the tests as skipped.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    db_uri_ = "sqlite:" + (dir_->path() / "prices.db").string();
    try {
      const auto generated = run_command(shell_quoted(tasnap::testing::tasnap_binary()) + " gen --db " + db_uri_ +
                                         " --tickers 40 --days 300");
      if (generated.exit_code != 0) setup_error_ = "tasnap gen failed: " + generated.output;
      harness_binary();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static TempDir* dir_;
  static std::string db_uri_;
  static std::string setup_error_;
};

TempDir* ScalingHarnessTest::dir_ = nullptr;
std::string ScalingHarnessTest::db_uri_;
std::string ScalingHarnessTest::setup_error_;

TEST_F(ScalingHarnessTest, RecordsTwoExperimentsAndPlots) {
  const auto out = dir_->path() / "scaling.h5";

  // First experiment: M = 1 and 2, two repeats each.
  const auto first_run = run_command(harness_command(
      *dir_, "--db " + db_uri_ + " --workers 1,2 --repeats 2 --ticker-chunk-size 7 --label first --out " +
                 shell_quoted(out)));
  ASSERT_EQ(first_run.exit_code, 0) << first_run.output;

  std::vector<double> first_walls;
  std::vector<std::string> first_digests;
  std::string first;
  {
    const Hdf5Reader h5(out);
    first = experiment_named(h5, "first");
    ASSERT_FALSE(first.empty());

    EXPECT_EQ(h5.integer_attribute(first, "schema_version"), kLayoutVersion);
    EXPECT_EQ(h5.text_attribute(first, "mode"), "run");
    EXPECT_EQ(h5.text_attribute(first, "database"), db_uri_);
    EXPECT_EQ(h5.text_attribute(first, "database_kind"), "sqlite");
    EXPECT_GT(h5.integer_attribute(first, "tickers"), 0);
    EXPECT_LE(h5.integer_attribute(first, "tickers"), 40);
    EXPECT_GT(h5.integer_attribute(first, "bars"), 0);
    EXPECT_EQ(h5.integer_attribute(first, "chunk_size"), 7);
    EXPECT_GE(h5.integer_attribute(first, "cores"), 1);
    EXPECT_FALSE(h5.text_attribute(first, "host").empty());
    EXPECT_FALSE(h5.text_attribute(first, "git_commit").empty());
    EXPECT_FALSE(h5.text_attribute(first, "compiler").empty());
    EXPECT_FALSE(h5.text_attribute(first, "build_type").empty());
    EXPECT_EQ(h5.text_attribute(first, "date").size(), 10u);
    EXPECT_EQ(h5.integer_attribute(first, "repeats"), 2);
    EXPECT_EQ(h5.integer_list_attribute(first, "workers_requested"), (std::vector<std::int64_t>{1, 2}));

    EXPECT_EQ(h5.dims(first + "/workers"), std::vector<hsize_t>{4});
    EXPECT_EQ(h5.max_dims(first + "/workers"), std::vector<hsize_t>{H5S_UNLIMITED});
    EXPECT_EQ(h5.integers(first + "/workers"), (std::vector<std::int64_t>{1, 2, 1, 2}));
    EXPECT_EQ(h5.integers(first + "/repeat"), (std::vector<std::int64_t>{0, 0, 1, 1}));
    EXPECT_EQ(h5.integers(first + "/exit_code"), (std::vector<std::int64_t>(4, 0)));
    EXPECT_EQ(h5.texts(first + "/status"), std::vector<std::string>(4, "succeeded"));

    first_walls = h5.doubles(first + "/wall_seconds");
    ASSERT_EQ(first_walls.size(), 4u);
    for (double wall : first_walls) EXPECT_GT(wall, 0.0);
    for (double load : h5.doubles(first + "/load_average")) EXPECT_GE(load, 0.0);

    first_digests = h5.texts(first + "/digest");
    ASSERT_EQ(first_digests.size(), 4u);
    EXPECT_FALSE(first_digests[0].empty());
    for (const std::string& digest : first_digests) EXPECT_EQ(digest, first_digests[0]);

    // Per-rank datasets: rank 1 of an M = 1 run contains the fill value.
    for (const char* name : {"connect_seconds", "read_seconds", "compute_seconds", "write_seconds",
                             "total_seconds"}) {
      const std::string dataset = first + "/" + name;
      EXPECT_EQ(h5.dims(dataset), (std::vector<hsize_t>{4, 2})) << name;
      EXPECT_EQ(h5.max_dims(dataset), (std::vector<hsize_t>{H5S_UNLIMITED, 2})) << name;
      const std::vector<double> seconds = h5.doubles(dataset);
      EXPECT_GE(seconds[0], 0.0) << name;
      EXPECT_TRUE(std::isnan(seconds[1])) << name;
      EXPECT_GE(seconds[2], 0.0) << name;
      EXPECT_GE(seconds[3], 0.0) << name;
      EXPECT_TRUE(std::isnan(seconds[5])) << name;
      EXPECT_FALSE(h5.text_attribute(dataset, "fill").empty()) << name;
    }

    // The rows the ranks upserted add up to the digest's row count.
    const std::vector<std::int64_t> rows = h5.integers(first + "/rows");
    ASSERT_EQ(rows.size(), 8u);
    EXPECT_EQ(rows[1], -1);
    EXPECT_EQ(rows[0], digest_rows(first_digests[0]));
    EXPECT_EQ(rows[2] + rows[3], digest_rows(first_digests[0]));
    const std::vector<std::int64_t> rss = h5.integers(first + "/peak_rss_kib");
    EXPECT_GT(rss[0], 0);
    EXPECT_EQ(rss[1], -1);

    EXPECT_EQ(h5.integers(first + "/summary/workers"), (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(h5.integers(first + "/summary/runs"), (std::vector<std::int64_t>{2, 2}));
    const std::vector<double> speedup = h5.doubles(first + "/summary/speedup");
    EXPECT_DOUBLE_EQ(speedup[0], 1.0);
    EXPECT_GT(speedup[1], 0.0);
    EXPECT_TRUE(std::isnan(h5.doubles(first + "/summary/karp_flatt")[0]));
  }

  // Second experiment: appended as a new group, the first left as it was.
  const auto second_run = run_command(
      harness_command(*dir_, "--db " + db_uri_ + " --workers 2 --repeats 1 --label second --out " + shell_quoted(out)));
  ASSERT_EQ(second_run.exit_code, 0) << second_run.output;
  {
    const Hdf5Reader h5(out);
    EXPECT_EQ(h5.children("/experiments").size(), 2u);
    const std::string second = experiment_named(h5, "second");
    ASSERT_FALSE(second.empty());
    EXPECT_EQ(h5.integers(second + "/workers"), (std::vector<std::int64_t>{2}));
    EXPECT_EQ(h5.texts(second + "/digest"), (std::vector<std::string>{first_digests[0]}));
    EXPECT_EQ(h5.doubles(first + "/wall_seconds"), first_walls);
    EXPECT_EQ(h5.texts(first + "/digest"), first_digests);
    EXPECT_EQ(h5.integers(first + "/summary/workers"), (std::vector<std::int64_t>{1, 2}));
  }

  // Plots of the first experiment.
  const auto plots = dir_->path() / "plots";
  const std::string experiment_name = first.substr(first.rfind('/') + 1);
  const auto plotted = run_command("/usr/bin/python3 " +
                                   shell_quoted(tasnap::testing::source_dir() / "tools" / "plot_scaling.py") + " " +
                                   shell_quoted(out) + " --experiment " + experiment_name + " --out " + shell_quoted(plots));
  ASSERT_EQ(plotted.exit_code, 0) << plotted.output;
  for (const char* name : {"scaling_wall.png", "scaling_speedup.png", "scaling_efficiency.png",
                           "scaling_phases.png"}) {
    const auto png = plots / name;
    ASSERT_TRUE(std::filesystem::exists(png)) << png;
    EXPECT_GT(std::filesystem::file_size(png), 1000u) << png;
    EXPECT_TRUE(is_png(png)) << png;
  }
}

TEST_F(ScalingHarnessTest, BackfillModeRecordsRange) {
  const auto out = dir_->path() / "backfill.h5";
  const auto result = run_command(harness_command(
      *dir_, "--db " + db_uri_ + " --mode backfill --from 2021-04-01 --to 2021-04-21 --workers 1,2 --repeats 1 " +
                 "--label backfill --out " + shell_quoted(out)));
  ASSERT_EQ(result.exit_code, 0) << result.output;

  const Hdf5Reader h5(out);
  const std::string group = experiment_named(h5, "backfill");
  ASSERT_FALSE(group.empty());
  EXPECT_EQ(h5.text_attribute(group, "mode"), "backfill");
  EXPECT_EQ(h5.text_attribute(group, "from_date"), "2021-04-01");
  EXPECT_EQ(h5.text_attribute(group, "to_date"), "2021-04-21");
  EXPECT_EQ(h5.texts(group + "/status"), std::vector<std::string>(2, "succeeded"));
  const std::vector<std::string> digests = h5.texts(group + "/digest");
  ASSERT_EQ(digests.size(), 2u);
  EXPECT_EQ(digests[0], digests[1]);

  // Fifteen trade dates of up to 40 tickers: more rows than one date has.
  EXPECT_GT(digest_rows(digests[0]), 40);
}

TEST_F(ScalingHarnessTest, BackfillWithoutRangeRejected) {
  const auto out = dir_->path() / "no-range.h5";
  const auto result = run_command(harness_command(
      *dir_, "--db " + db_uri_ + " --mode backfill --workers 1 --repeats 1 --out " + shell_quoted(out)));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("--from and --to"), std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(ScalingHarnessTest, FailedRunIsRecordedAndFails) {
  // A database without tables: tasnap exits before writing telemetry.
  const auto out = dir_->path() / "failed.h5";
  const std::string empty_db = "sqlite:" + (dir_->path() / "empty.db").string();
  const auto result = run_command(
      harness_command(*dir_, "--db " + empty_db + " --workers 1,2 --repeats 2 --label broken --out " + shell_quoted(out)));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("M=1 repeat 0"), std::string::npos) << result.output;

  const Hdf5Reader h5(out);
  const std::string group = experiment_named(h5, "broken");
  ASSERT_FALSE(group.empty());
  const std::vector<std::string> status = h5.texts(group + "/status");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_NE(status[0], "succeeded");
  EXPECT_NE(h5.integers(group + "/exit_code")[0], 0);
  EXPECT_TRUE(std::isnan(h5.doubles(group + "/total_seconds")[0]));
}

TEST_F(ScalingHarnessTest, InvalidWorkersRejectedBeforeRunning) {
  const auto out = dir_->path() / "invalid.h5";
  const auto repeated = run_command(
      harness_command(*dir_, "--db " + db_uri_ + " --workers 1,1 --repeats 1 --out " + shell_quoted(out)));
  EXPECT_EQ(repeated.exit_code, 2) << repeated.output;
  EXPECT_NE(repeated.output.find("appears twice"), std::string::npos) << repeated.output;

  const auto zero = run_command(
      harness_command(*dir_, "--db " + db_uri_ + " --workers 0,2 --repeats 1 --out " + shell_quoted(out)));
  EXPECT_EQ(zero.exit_code, 2) << zero.output;
  EXPECT_NE(zero.output.find("Invalid worker count 0"), std::string::npos) << zero.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace tasnap::scaling
