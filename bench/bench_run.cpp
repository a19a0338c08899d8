// Microbenchmarks of the run's bookkeeping: chunk planning and assignment on a
// full-size universe, and the per-row digest every rank computes.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/date.hpp"
#include "core/digest.hpp"
#include "core/snapshot_row.hpp"
#include "parallel/chunk_plan.hpp"

namespace {

// The production universe size.
constexpr int kUniverseTickers = 10'200;

std::vector<std::string> make_universe(int count) {
  std::vector<std::string> tickers;
  tickers.reserve(count);
  char name[16];
  for (int i = 0; i < count; ++i) {
    std::snprintf(name, sizeof name, "G%05d", i + 1);
    tickers.emplace_back(name);
  }
  return tickers;
}

// A row with distinct, non-NULL values in every column and a few NULLs, so the
// hash covers both kinds.
tasnap::SnapshotRow make_row(int index) {
  tasnap::SnapshotRow row;
  char ticker[16];
  std::snprintf(ticker, sizeof ticker, "G%05d", index + 1);
  row.ticker = ticker;
  row.as_of_date = tasnap::make_date(2026, 12, 4);
  row.bars_used = 1'260;
  for (std::size_t c = 0; c < tasnap::kColumnCount; ++c) row.values[c] = 100.0 + index * 0.5 + c * 0.001;
  row[tasnap::Column::return_ytd] = tasnap::kNull;
  row[tasnap::Column::gap_pct] = tasnap::kNull;
  return row;
}

void BM_PlanChunks(benchmark::State& state) {
  const std::vector<std::string> universe = make_universe(kUniverseTickers);
  const std::int64_t chunk_size = state.range(0);
  for (auto _ : state) {
    std::vector<tasnap::parallel::Chunk> chunks = tasnap::parallel::plan_chunks(universe, chunk_size);
    benchmark::DoNotOptimize(chunks.data());
  }
  state.SetItemsProcessed(state.iterations() * kUniverseTickers);
  state.counters["tickers"] = kUniverseTickers;
}
BENCHMARK(BM_PlanChunks)->Arg(1)->Arg(50)->Arg(250)->Arg(1'000);

void BM_AssignChunks(benchmark::State& state) {
  const std::vector<std::string> universe = make_universe(kUniverseTickers);
  const std::vector<tasnap::parallel::Chunk> chunks = tasnap::parallel::plan_chunks(universe, 250);
  const int ranks = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto assignment = tasnap::parallel::assign_chunks(chunks, ranks);
    benchmark::DoNotOptimize(assignment.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(chunks.size()));
  state.counters["chunks"] = static_cast<double>(chunks.size());
}
BENCHMARK(BM_AssignChunks)->Arg(1)->Arg(2)->Arg(4)->Arg(8);

void BM_SortUniverse(benchmark::State& state) {
  std::vector<std::string> reversed = make_universe(kUniverseTickers);
  std::reverse(reversed.begin(), reversed.end());
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> tickers = reversed;
    state.ResumeTiming();
    tasnap::parallel::sort_universe(tickers);
    benchmark::DoNotOptimize(tickers.data());
  }
  state.SetItemsProcessed(state.iterations() * kUniverseTickers);
}
BENCHMARK(BM_SortUniverse);

void BM_HashRow(benchmark::State& state) {
  const tasnap::SnapshotRow row = make_row(1);
  for (auto _ : state) {
    std::uint64_t hash = tasnap::hash_row(row);
    benchmark::DoNotOptimize(hash);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashRow);

// One digest over a full universe of rows, as rank 0 would see them merged.
void BM_DigestUniverse(benchmark::State& state) {
  std::vector<tasnap::SnapshotRow> rows;
  rows.reserve(kUniverseTickers);
  for (int i = 0; i < kUniverseTickers; ++i) rows.push_back(make_row(i));
  for (auto _ : state) {
    tasnap::Digest digest;
    for (const tasnap::SnapshotRow& row : rows) digest.add(row);
    benchmark::DoNotOptimize(digest.sum);
  }
  state.SetItemsProcessed(state.iterations() * kUniverseTickers);
}
BENCHMARK(BM_DigestUniverse);

}  // namespace

BENCHMARK_MAIN();
