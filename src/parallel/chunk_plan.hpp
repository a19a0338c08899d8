// Chunk planning: the universe cut into fixed-size chunks of tickers, and the
// round-robin assignment of chunks to ranks. Pure functions, no MPI.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tasnap::parallel {

struct Chunk {
  std::int64_t index = 0;
  std::vector<std::string> tickers;
};

// Cuts `sorted_tickers` into chunks of `chunk_size` in order; the last chunk
// may be shorter. The cut depends only on the universe and the chunk size, never
// on the number of ranks. Throws InputError when chunk_size < 1.
std::vector<Chunk> plan_chunks(std::span<const std::string> sorted_tickers, std::int64_t chunk_size);

// Chunk i goes to rank i mod world_size. Returns one list per rank, each in
// chunk order; ranks beyond the chunk count get an empty list.
std::vector<std::vector<Chunk>> assign_chunks(const std::vector<Chunk>& chunks, int world_size);

// Sorts by byte value and removes duplicates: the universe's canonical order.
void sort_universe(std::vector<std::string>& tickers);

}  // namespace tasnap::parallel
