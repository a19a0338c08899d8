#include "parallel/chunk_plan.hpp"

#include <algorithm>

#include "core/errors.hpp"

namespace tasnap::parallel {

std::vector<Chunk> plan_chunks(std::span<const std::string> sorted_tickers, std::int64_t chunk_size) {
  if (chunk_size < 1) {
    throw InputError("Invalid ticker chunk size " + std::to_string(chunk_size) +
                     ". Give --ticker-chunk-size a whole number of at least 1.");
  }

  std::vector<Chunk> chunks;
  const auto size = static_cast<std::int64_t>(sorted_tickers.size());
  for (std::int64_t first = 0; first < size; first += chunk_size) {
    const std::int64_t last = std::min(size, first + chunk_size);
    Chunk chunk;
    chunk.index = static_cast<std::int64_t>(chunks.size());
    chunk.tickers.assign(sorted_tickers.begin() + first, sorted_tickers.begin() + last);
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

std::vector<std::vector<Chunk>> assign_chunks(const std::vector<Chunk>& chunks, int world_size) {
  if (world_size < 1) throw InternalError("assign_chunks needs at least one rank.");

  std::vector<std::vector<Chunk>> per_rank(static_cast<std::size_t>(world_size));
  for (const Chunk& chunk : chunks) {
    per_rank[static_cast<std::size_t>(chunk.index % world_size)].push_back(chunk);
  }
  return per_rank;
}

void sort_universe(std::vector<std::string>& tickers) {
  std::sort(tickers.begin(), tickers.end());
  tickers.erase(std::unique(tickers.begin(), tickers.end()), tickers.end());
}

}  // namespace tasnap::parallel
