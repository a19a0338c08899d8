#include "core/digest.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tasnap {
namespace {

SnapshotRow sample_row(const std::string& ticker, int day) {
  SnapshotRow row;
  row.ticker = ticker;
  row.as_of_date = Date{day};
  row.bars_used = 100 + day;
  for (std::size_t i = 0; i < kColumnCount; ++i) row.values[i] = 1.5 * static_cast<double>(i) + day;
  row[Column::sma_200] = kNull;
  return row;
}

TEST(Digest, IndependentOfRowOrder) {
  Digest forward;
  Digest backward;
  for (int day = 0; day < 50; ++day) forward.add(sample_row("AAPL", day));
  for (int day = 49; day >= 0; --day) backward.add(sample_row("AAPL", day));
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(forward.rows, 50u);
}

TEST(Digest, MergeEqualsOneDigestOverAllRows) {
  Digest all;
  Digest first_half;
  Digest second_half;
  for (int day = 0; day < 20; ++day) {
    all.add(sample_row("MSFT", day));
    (day < 10 ? first_half : second_half).add(sample_row("MSFT", day));
  }
  second_half.merge(first_half);
  EXPECT_EQ(second_half, all);
}

TEST(Digest, DetectsOneBitOfOneValue) {
  const SnapshotRow row = sample_row("KO", 3);
  SnapshotRow changed = row;
  changed[Column::rsi_14] = std::nextafter(row[Column::rsi_14], 1e9);
  EXPECT_NE(hash_row(row), hash_row(changed));
}

TEST(Digest, DetectsKeyChanges) {
  const SnapshotRow row = sample_row("KO", 3);
  SnapshotRow other_ticker = row;
  other_ticker.ticker = "KO.";
  SnapshotRow other_date = row;
  other_date.as_of_date.days += 1;
  SnapshotRow other_bars = row;
  other_bars.bars_used += 1;
  EXPECT_NE(hash_row(row), hash_row(other_ticker));
  EXPECT_NE(hash_row(row), hash_row(other_date));
  EXPECT_NE(hash_row(row), hash_row(other_bars));
}

TEST(Digest, NullHashesAlikeWhateverNaNPayload) {
  SnapshotRow a = sample_row("X", 1);
  SnapshotRow b = a;
  a[Column::obv] = kNull;
  b[Column::obv] = -std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(hash_row(a), hash_row(b));
}

TEST(Digest, NullDiffersFromZero) {
  SnapshotRow a = sample_row("X", 1);
  SnapshotRow b = a;
  a[Column::obv] = kNull;
  b[Column::obv] = 0.0;
  EXPECT_NE(hash_row(a), hash_row(b));
}

TEST(Digest, DuplicateRowChangesDigest) {
  Digest once;
  once.add(sample_row("X", 1));
  Digest twice = once;
  twice.add(sample_row("X", 1));
  EXPECT_NE(once, twice);
}

TEST(Digest, TextRoundTrip) {
  Digest digest;
  for (int day = 0; day < 7; ++day) digest.add(sample_row("BRK.B", day));
  const auto parsed = Digest::parse(digest.to_string());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, digest);
  EXPECT_FALSE(Digest::parse("xyz").has_value());
  EXPECT_FALSE(Digest::parse("0123456789abcdef:").has_value());
  EXPECT_FALSE(Digest::parse("0123456789abcdeg:1").has_value());
}

}  // namespace
}  // namespace tasnap
