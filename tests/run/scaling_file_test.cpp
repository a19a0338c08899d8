// Unit tests of the scaling HDF5 writer: runs built from hand-written telemetry
// are written, then read back with the HDF5 C API and checked field by field.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>

#include "core/errors.hpp"
#include "scaling/run_telemetry.hpp"
#include "scaling/scaling_file.hpp"
#include "scaling_telemetry_json.hpp"
#include "scaling_test_hdf5.hpp"
#include "support/test_support.hpp"

namespace tasnap::scaling {
namespace {

using tasnap::testing::Hdf5Reader;
using tasnap::testing::TempDir;
using tasnap::testing::telemetry_document;

ExperimentInfo sample_info(const std::string& label) {
  ExperimentInfo info;
  info.label = label;
  info.host = "testhost";
  info.physical_cores = 2;
  info.git_commit = "1a2b3c4d5e6f";
  info.tasnap_version = "0.1.0 (1a2b3c4d5e6f)";
  info.compiler = "GNU 12.2.0";
  info.build_type = "Release";
  info.mode = "run";
  info.chunk_size = 10;
  info.workers = {1, 3};
  info.repeats = 2;
  info.order = "interleaved";
  info.created_at = "2026-12-04T21:00:00.000Z";
  return info;
}

RunRecord record_of(const RunTelemetry& telemetry, int repeat, double wall) {
  RunRecord record;
  record.workers = telemetry.workers;
  record.repeat = repeat;
  record.wall_seconds = wall;
  record.tasnap_wall_seconds = telemetry.wall_seconds;
  record.load_average = 0.25 * repeat;
  record.status = telemetry.status;
  record.digest = telemetry.digest;
  record.run_id = telemetry.run_id;
  record.oversubscribed = telemetry.workers > 2;
  record.ranks = telemetry.ranks;
  return record;
}

// Writes experiment `name` with four runs: M=1 and M=3, two repeats each.
void write_sample_experiment(const std::filesystem::path& path, const std::string& name) {
  const RunTelemetry one_rank = parse_run_telemetry(telemetry_document(1, "00ab:38").dump(), "m1");
  const RunTelemetry three = parse_run_telemetry(telemetry_document(3, "00ab:38").dump(), "m3");

  ScalingFile file(path);
  ExperimentWriter experiment = file.add_experiment(name, sample_info("unit"), 3);
  experiment.append_run(record_of(one_rank, 0, 10.0));
  experiment.append_run(record_of(three, 0, 5.0));
  experiment.append_run(record_of(one_rank, 1, 12.0));
  experiment.append_run(record_of(three, 1, 6.0));
  experiment.set_run_facts({one_rank.database, "postgresql", one_rank.as_of_date, one_rank.chunk_size,
                            one_rank.tickers,
                            one_rank.bars_read(), one_rank.rows});
  experiment.write_summary(summarize({{1, 10.0, 0}, {3, 5.0, 0}, {1, 12.0, 1}, {3, 6.0, 1}}, {1, 3}));
  experiment.close();
  file.close();
}

TEST(ScalingFileTest, WritesDocumentedLayout) {
  TempDir dir;
  const auto path = dir / "scaling.h5";
  write_sample_experiment(path, "20261204T210000Z_unit");

  const Hdf5Reader h5(path);
  const std::string group = "/experiments/20261204T210000Z_unit";
  ASSERT_EQ(h5.children("/experiments"), std::vector<std::string>{"20261204T210000Z_unit"});

  // Attributes.
  EXPECT_EQ(h5.integer_attribute(group, "schema_version"), kLayoutVersion);
  EXPECT_EQ(h5.text_attribute(group, "host"), "testhost");
  EXPECT_EQ(h5.integer_attribute(group, "cores"), 2);
  EXPECT_EQ(h5.text_attribute(group, "git_commit"), "1a2b3c4d5e6f");
  EXPECT_EQ(h5.text_attribute(group, "compiler"), "GNU 12.2.0");
  EXPECT_EQ(h5.text_attribute(group, "build_type"), "Release");
  EXPECT_EQ(h5.text_attribute(group, "mode"), "run");
  EXPECT_EQ(h5.text_attribute(group, "database"), "postgresql://tasnap:***@localhost/prices");
  EXPECT_EQ(h5.text_attribute(group, "database_kind"), "postgresql");
  EXPECT_EQ(h5.text_attribute(group, "date"), "2021-04-21");
  EXPECT_EQ(h5.integer_attribute(group, "chunk_size"), 10);
  EXPECT_EQ(h5.integer_attribute(group, "tickers"), 40);
  EXPECT_EQ(h5.integer_attribute(group, "bars"), 5000);
  EXPECT_EQ(h5.integer_attribute(group, "repeats"), 2);
  EXPECT_EQ(h5.integer_list_attribute(group, "workers_requested"), (std::vector<std::int64_t>{1, 3}));

  // Per-run datasets: one_rank row per run, extendible and chunked.
  for (const char* name : {"workers", "repeat", "wall_seconds", "load_average", "status", "digest", "run_id"}) {
    const std::string dataset = group + "/" + name;
    EXPECT_EQ(h5.dims(dataset), std::vector<hsize_t>{4}) << dataset;
    EXPECT_EQ(h5.max_dims(dataset), std::vector<hsize_t>{H5S_UNLIMITED}) << dataset;
    EXPECT_TRUE(h5.is_chunked(dataset)) << dataset;
  }
  EXPECT_EQ(h5.integers(group + "/workers"), (std::vector<std::int64_t>{1, 3, 1, 3}));
  EXPECT_EQ(h5.integers(group + "/repeat"), (std::vector<std::int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(h5.doubles(group + "/wall_seconds"), (std::vector<double>{10.0, 5.0, 12.0, 6.0}));
  EXPECT_EQ(h5.integers(group + "/oversubscribed"), (std::vector<std::int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(h5.doubles(group + "/load_average"), (std::vector<double>{0.0, 0.0, 0.25, 0.25}));
  EXPECT_EQ(h5.texts(group + "/status"), std::vector<std::string>(4, "succeeded"));
  EXPECT_EQ(h5.texts(group + "/digest"), std::vector<std::string>(4, "00ab:38"));

  // Per-rank datasets: (runs x 3), fill where the run had fewer ranks.
  const std::vector<double> compute = h5.doubles(group + "/compute_seconds");
  EXPECT_EQ(h5.dims(group + "/compute_seconds"), (std::vector<hsize_t>{4, 3}));
  EXPECT_EQ(h5.max_dims(group + "/compute_seconds"), (std::vector<hsize_t>{H5S_UNLIMITED, 3}));
  ASSERT_EQ(compute.size(), 12u);
  EXPECT_DOUBLE_EQ(compute[0], 2.0);
  EXPECT_TRUE(std::isnan(compute[1]));
  EXPECT_TRUE(std::isnan(compute[2]));
  EXPECT_DOUBLE_EQ(compute[3], 2.0);
  EXPECT_DOUBLE_EQ(compute[4], 3.0);
  EXPECT_DOUBLE_EQ(compute[5], 4.0);
  EXPECT_NE(h5.text_attribute(group + "/compute_seconds", "fill").find("NaN"), std::string::npos);
  for (const char* name : {"connect_seconds", "read_seconds", "write_seconds", "total_seconds"}) {
    const std::vector<double> seconds = h5.doubles(group + "/" + name);
    ASSERT_EQ(seconds.size(), 12u) << name;
    EXPECT_FALSE(std::isnan(seconds[0])) << name;
    EXPECT_TRUE(std::isnan(seconds[1])) << name;
    EXPECT_FALSE(std::isnan(seconds[5])) << name;
  }

  const std::vector<std::int64_t> rows = h5.integers(group + "/rows");
  EXPECT_EQ(rows, (std::vector<std::int64_t>{19, -1, -1, 19, 20, 21, 19, -1, -1, 19, 20, 21}));
  EXPECT_NE(h5.text_attribute(group + "/rows", "fill").find("-1"), std::string::npos);
  const std::vector<std::int64_t> rss = h5.integers(group + "/peak_rss_kib");
  EXPECT_EQ(rss[1], -1);
  EXPECT_EQ(rss[5], 20002);

  // Summary.
  EXPECT_EQ(h5.integers(group + "/summary/workers"), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(h5.doubles(group + "/summary/median_wall"), (std::vector<double>{11.0, 5.5}));
  EXPECT_EQ(h5.doubles(group + "/summary/min_wall"), (std::vector<double>{10.0, 5.0}));
  EXPECT_EQ(h5.doubles(group + "/summary/max_wall"), (std::vector<double>{12.0, 6.0}));
  EXPECT_EQ(h5.doubles(group + "/summary/speedup"), (std::vector<double>{1.0, 2.0}));
  const std::vector<double> efficiency = h5.doubles(group + "/summary/efficiency");
  EXPECT_NEAR(efficiency[1], 2.0 / 3.0, 1e-12);
  const std::vector<double> serial = h5.doubles(group + "/summary/karp_flatt");
  EXPECT_TRUE(std::isnan(serial[0]));
  EXPECT_NEAR(serial[1], (0.5 - 1.0 / 3.0) / (1.0 - 1.0 / 3.0), 1e-12);
  EXPECT_EQ(h5.doubles(group + "/summary/paired_speedup"), (std::vector<double>{1.0, 2.0}));
}

TEST(ScalingFileTest, SecondExperimentKeepsFirst) {
  TempDir dir;
  const auto path = dir / "scaling.h5";
  write_sample_experiment(path, "20261204T210000Z_first");
  const std::string first = "/experiments/20261204T210000Z_first";
  std::vector<double> walls_before;
  std::vector<double> read_before;
  {
    const Hdf5Reader h5(path);
    walls_before = h5.doubles(first + "/wall_seconds");
    read_before = h5.doubles(first + "/read_seconds");
  }

  write_sample_experiment(path, "20261204T210500Z_second");

  const Hdf5Reader h5(path);
  EXPECT_EQ(h5.children("/experiments"),
            (std::vector<std::string>{"20261204T210000Z_first", "20261204T210500Z_second"}));
  EXPECT_EQ(h5.doubles(first + "/wall_seconds"), walls_before);
  const std::vector<double> read_after = h5.doubles(first + "/read_seconds");
  ASSERT_EQ(read_after.size(), read_before.size());
  for (std::size_t i = 0; i < read_after.size(); ++i) {
    EXPECT_TRUE(read_after[i] == read_before[i] || (std::isnan(read_after[i]) && std::isnan(read_before[i]))) << i;
  }
  EXPECT_EQ(h5.dims(first + "/workers"), std::vector<hsize_t>{4});
  EXPECT_EQ(h5.dims("/experiments/20261204T210500Z_second/workers"), std::vector<hsize_t>{4});
}

TEST(ScalingFileTest, RejectsExistingExperimentName) {
  TempDir dir;
  const auto path = dir / "scaling.h5";
  write_sample_experiment(path, "20261204T210000Z_unit");
  ScalingFile file(path);
  EXPECT_THROW(file.add_experiment("20261204T210000Z_unit", sample_info("unit"), 3), InputError);
}

TEST(ScalingFileTest, NewFileIsNotWorldWritable) {
  TempDir dir;
  const auto path = dir / "scaling.h5";
  const mode_t saved_umask = umask(0);  // umask 0 clears no permission bit
  {
    ScalingFile file(path);
    file.close();
  }
  umask(saved_umask);
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & S_IWOTH, 0u) << std::oct << info.st_mode;
}

TEST(ScalingFileTest, RejectsNonHdf5FileAndKeepsIt) {
  TempDir dir;
  const auto path = dir / "notes.h5";
  std::ofstream(path) << "not an HDF5 file\n";
  EXPECT_THROW(ScalingFile file(path), InputError);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "not an HDF5 file");
}

TEST(ScalingFileTest, RejectsRunWithTooManyRanks) {
  TempDir dir;
  ScalingFile file(dir / "scaling.h5");
  ExperimentWriter experiment = file.add_experiment("20261204T210000Z_unit", sample_info("unit"), 1);
  const RunTelemetry two = parse_run_telemetry(telemetry_document(2, "00ab:38").dump(), "m2");
  EXPECT_THROW(experiment.append_run(record_of(two, 0, 1.0)), InternalError);
  EXPECT_EQ(experiment.runs(), 0);
}

TEST(Hdf5CheckedTest, ErrorNamesOperationPathAndCause) {
  TempDir dir;
  const std::string missing = (dir / "missing.h5").string();
  ScopedErrorMute mute;
  try {
    Hid file(H5Fopen(missing.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open file", missing);
    FAIL() << "opening a missing file succeeded";
  } catch (const Hdf5Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("open file"), std::string::npos) << message;
    EXPECT_NE(message.find(missing), std::string::npos) << message;
    EXPECT_NE(message.find("H5Fopen"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace tasnap::scaling
