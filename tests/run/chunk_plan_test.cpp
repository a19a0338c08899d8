#include "parallel/chunk_plan.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace tasnap::parallel {
namespace {

std::vector<std::string> make_tickers(int count) {
  std::vector<std::string> tickers;
  for (int i = 0; i < count; ++i) tickers.push_back("T" + std::to_string(1000 + i));
  return tickers;
}

TEST(ChunkPlan, CutsInOrderWithShortLastChunk) {
  const auto tickers = make_tickers(10);
  const auto chunks = plan_chunks(tickers, 4);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].tickers, std::vector<std::string>(tickers.begin(), tickers.begin() + 4));
  EXPECT_EQ(chunks[1].tickers, std::vector<std::string>(tickers.begin() + 4, tickers.begin() + 8));
  EXPECT_EQ(chunks[2].tickers, std::vector<std::string>(tickers.begin() + 8, tickers.end()));
  for (std::size_t i = 0; i < chunks.size(); ++i) EXPECT_EQ(chunks[i].index, static_cast<std::int64_t>(i));
}

TEST(ChunkPlan, EmptyUniverseGivesNoChunk) { EXPECT_TRUE(plan_chunks({}, 250).empty()); }

TEST(ChunkPlan, RejectsChunkSizeBelowOne) {
  const auto tickers = make_tickers(3);
  EXPECT_THROW(plan_chunks(tickers, 0), InputError);
  EXPECT_THROW(plan_chunks(tickers, -5), InputError);
}

TEST(ChunkPlan, AssignsRoundRobinAndCoversEveryChunkOnce) {
  const auto chunks = plan_chunks(make_tickers(23), 2);  // 12 chunks
  for (int ranks = 1; ranks <= 5; ++ranks) {
    const auto per_rank = assign_chunks(chunks, ranks);
    ASSERT_EQ(per_rank.size(), static_cast<std::size_t>(ranks));
    std::vector<int> seen(chunks.size(), 0);
    for (int rank = 0; rank < ranks; ++rank) {
      for (const Chunk& chunk : per_rank[static_cast<std::size_t>(rank)]) {
        EXPECT_EQ(chunk.index % ranks, rank);
        ++seen[static_cast<std::size_t>(chunk.index)];
      }
    }
    for (const int count : seen) EXPECT_EQ(count, 1);
  }
}

TEST(ChunkPlan, MoreRanksThanChunksLeavesIdleRanks) {
  const auto per_rank = assign_chunks(plan_chunks(make_tickers(3), 2), 4);
  EXPECT_EQ(per_rank[0].size(), 1u);
  EXPECT_EQ(per_rank[1].size(), 1u);
  EXPECT_TRUE(per_rank[2].empty());
  EXPECT_TRUE(per_rank[3].empty());
}

TEST(ChunkPlan, SortUniverseOrdersByBytesAndDropsDuplicates) {
  std::vector<std::string> tickers = {"b", "BRK.B", "A", "BRK.B", "a", "T/WS", "BF-B"};
  sort_universe(tickers);
  EXPECT_EQ(tickers, (std::vector<std::string>{"A", "BF-B", "BRK.B", "T/WS", "a", "b"}));
}

}  // namespace
}  // namespace tasnap::parallel
