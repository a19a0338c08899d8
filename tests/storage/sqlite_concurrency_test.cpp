// Two processes writing the same SQLite file at once: the busy timeout and
// BEGIN IMMEDIATE make both succeed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "sqlite_test_util.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

constexpr int kChunks = 40;
constexpr int kRowsPerChunk = 50;

// Reads, then writes, chunk after chunk, as a run rank does. Returns the
// process exit code.
int write_chunks(const std::filesystem::path& file, const std::string& prefix) {
  try {
    auto database = open_database(testing::sqlite_config(file));
    const Date date = parse_date_or_throw("2021-01-04", "date");
    for (int chunk = 0; chunk < kChunks; ++chunk) {
      std::vector<std::string> tickers;
      std::vector<SnapshotRow> rows(kRowsPerChunk);
      for (int i = 0; i < kRowsPerChunk; ++i) {
        rows[i].ticker = prefix + std::to_string(chunk * kRowsPerChunk + i);
        rows[i].as_of_date = date;
        rows[i].values.fill(static_cast<double>(i));
        tickers.push_back(rows[i].ticker);
      }

      BarChunk bars;
      database->read_bars(tickers, std::nullopt, date, bars);
      database->begin_chunk();
      database->write_rows(rows, prefix);
      database->commit_chunk();
      database->upsert_prices(std::vector<PriceRow>{PriceRow{prefix + std::to_string(chunk), date,
                                                             1, 2, 0.5, 1.5, std::nullopt, 10,
                                                             std::nullopt}});
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer %s failed: %s\n", prefix.c_str(), e.what());
    return 1;
  }
}

TEST(SqliteConcurrency, TwoWriterProcessesSucceed) {
  testing::TempDir dir;
  const auto file = dir / "shared.db";
  open_database(testing::sqlite_config(file))->init_schema();

  std::vector<pid_t> children;
  for (const std::string prefix : {"A", "B"}) {
    const pid_t child = fork();
    ASSERT_GE(child, 0) << "fork failed";
    if (child == 0) _exit(write_chunks(file, prefix));
    children.push_back(child);
  }

  for (const pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "writer process " << child << " failed";
  }
  EXPECT_EQ(testing::count_rows(file, "ta_snapshots"), 2 * kChunks * kRowsPerChunk);
  EXPECT_EQ(testing::count_rows(file, "daily_prices"), 2 * kChunks);
}

TEST(SqliteConcurrency, TwoLoadCommandsSucceed) {
  testing::TempDir dir;
  const auto file = dir / "shared.db";
  for (const std::string name : {"a", "b"}) {
    std::ofstream csv(dir / (name + ".csv"));
    csv << "ticker,trade_date,open,high,low,close,adj_close,volume,split_factor\n";
    for (int i = 0; i < 20000; ++i) {
      csv << name << i % 100 << ",2021-01-" << (4 + i / 100 % 20 < 10 ? "0" : "")
          << 4 + i / 100 % 20 << ",1,2,0.5,1.5,,100,\n";
    }
  }

  // Both commands also race to create the file and switch it to WAL mode,
  // which once failed about one time in four: repeat on fresh files.
  for (int round = 0; round < 8; ++round) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix);
    const std::string load_a =
        testing::tasnap_command("load", file) + " " + testing::shell_quote((dir / "a.csv").string());
    const std::string load_b =
        testing::tasnap_command("load", file) + " " + testing::shell_quote((dir / "b.csv").string());
    const auto result = testing::run_command("(" + load_a + " 2>&1; echo a=$?) & (" + load_b +
                                             " 2>&1; echo b=$?) & wait");
    EXPECT_NE(result.output.find("a=0"), std::string::npos) << "round " << round << "\n" << result.output;
    EXPECT_NE(result.output.find("b=0"), std::string::npos) << "round " << round << "\n" << result.output;
    EXPECT_EQ(testing::count_rows(file, "daily_prices"), 2 * 100 * 20) << "round " << round;
  }
}

}  // namespace
}  // namespace tasnap::storage
