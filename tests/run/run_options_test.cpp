#include "run/run_options.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/errors.hpp"
#include "support/test_support.hpp"

namespace tasnap::run {
namespace {

TEST(RunOptions, SplitsTickersAndTrimsSpaces) {
  EXPECT_EQ(split_tickers("AAPL, BRK.B ,T/WS"), (std::vector<std::string>{"AAPL", "BRK.B", "T/WS"}));
}

TEST(RunOptions, RejectsEmptyTickerItem) {
  EXPECT_THROW(split_tickers("AAPL,,MSFT"), InputError);
  EXPECT_THROW(split_tickers(""), InputError);
  EXPECT_THROW(split_tickers("AAPL,"), InputError);
}

TEST(RunOptions, ReadsTickersFileSkippingCommentsAndBlanks) {
  testing::TempDir dir;
  const auto path = dir / "tickers.txt";
  std::ofstream(path) << "# universe\nAAPL\r\n\n  BRK.B  \nT/WS\n";
  EXPECT_EQ(read_tickers_file(path.string()), (std::vector<std::string>{"AAPL", "BRK.B", "T/WS"}));
}

TEST(RunOptions, MissingOrEmptyTickersFileIsInputError) {
  testing::TempDir dir;
  EXPECT_THROW(read_tickers_file((dir / "absent.txt").string()), InputError);
  const auto empty = dir / "empty.txt";
  std::ofstream(empty) << "# nothing\n";
  EXPECT_THROW(read_tickers_file(empty.string()), InputError);
}

}  // namespace
}  // namespace tasnap::run
