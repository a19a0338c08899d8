// Microbenchmarks of the snapshot engine on a real ticker (AAPL from the sample
// data): each kernel, bar preparation, one row (compute_row) and the backfill
// (compute_rows). Items processed are input bars, so the rate is bars per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "engine/bar_prep.hpp"
#include "engine/engine_test_data.hpp"
#include "engine/series_kernels.hpp"
#include "engine/snapshot.hpp"
#include "engine/window_kernels.hpp"

namespace tasnap::engine {
namespace {

const testing::BarFile& sample() {
  static const testing::BarFile file =
      testing::load_bar_file(TASNAP_BENCH_SOURCE_DIR "/data/sp500_sample.csv.gz");
  return file;
}

// The last `count` bars of AAPL.
RawBarsView last_bars(std::size_t count) {
  const RawBarsView all = sample().bars("AAPL");
  if (all.size() < count) throw std::runtime_error("AAPL has fewer bars than the benchmark needs");
  const std::size_t first = all.size() - count;
  return RawBarsView{
      .trade_date = all.trade_date.subspan(first),
      .open = all.open.subspan(first),
      .high = all.high.subspan(first),
      .low = all.low.subspan(first),
      .close = all.close.subspan(first),
      .adj_close = all.adj_close.subspan(first),
      .volume = all.volume.subspan(first),
      .split_factor = all.split_factor.subspan(first),
      .nulls = all.nulls.subspan(first),
  };
}

HistoryRange whole_history(const RawBarsView& bars) { return {bars.trade_date.back(), {}}; }

const PreparedBars& prepared(std::size_t count) {
  static std::vector<std::pair<std::size_t, PreparedBars>> cache;
  for (const auto& [n, bars] : cache) {
    if (n == count) return bars;
  }
  const RawBarsView bars = last_bars(count);
  PreparedBars out;
  BadBarReport bad;
  PrepScratch scratch;
  prepare_bars(bars, whole_history(bars), out, bad, scratch);
  cache.emplace_back(count, std::move(out));
  return cache.back().second;
}

void set_bars_processed(benchmark::State& state, std::size_t bars) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bars));
}

void BM_ComputeRow(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const RawBarsView bars = last_bars(count);
  SnapshotEngine engine;
  SnapshotRow row;
  BadBarReport bad;
  for (auto _ : state) {
    const SkipReason reason = engine.compute_row("AAPL", bars, whole_history(bars), row, bad);
    benchmark::DoNotOptimize(reason);
    benchmark::DoNotOptimize(row.values.data());
  }
  set_bars_processed(state, count);
}
BENCHMARK(BM_ComputeRow)->Arg(1260)->Arg(5000);

// Backfill of every date: items are rows written, one per bar.
void BM_ComputeRows(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const RawBarsView bars = last_bars(count);
  SnapshotEngine engine;
  BadBarReport bad;
  std::vector<SnapshotRow> rows;
  rows.reserve(count);
  for (auto _ : state) {
    rows.clear();
    const SkipReason reason =
        engine.compute_rows("AAPL", bars, bars.trade_date.front(), whole_history(bars), rows, bad);
    benchmark::DoNotOptimize(reason);
    benchmark::DoNotOptimize(rows.data());
  }
  set_bars_processed(state, count);
}
BENCHMARK(BM_ComputeRows)->Arg(1260)->Arg(5000);

void BM_PrepareBars(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const RawBarsView bars = last_bars(count);
  PreparedBars out;
  BadBarReport bad;
  PrepScratch scratch;
  for (auto _ : state) {
    prepare_bars(bars, whole_history(bars), out, bad, scratch);
    benchmark::DoNotOptimize(out.close.data());
  }
  set_bars_processed(state, count);
}
BENCHMARK(BM_PrepareBars)->Arg(5000);

// Runs one series kernel over the prepared bars per iteration.
template <typename Kernel>
void run_series_benchmark(benchmark::State& state, Kernel kernel) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const PreparedBars& bars = prepared(count);
  std::vector<double> a(count), b(count), c(count);
  for (auto _ : state) {
    kernel(bars, a, b, c);
    benchmark::DoNotOptimize(a.data());
  }
  set_bars_processed(state, count);
}

void BM_Sma20(benchmark::State& state) {
  run_series_benchmark(state, [](const PreparedBars& bars, auto& out, auto&, auto&) {
    sma_series(bars.close, 20, out);
  });
}
BENCHMARK(BM_Sma20)->Arg(5000);

void BM_Ema200(benchmark::State& state) {
  run_series_benchmark(state, [](const PreparedBars& bars, auto& out, auto&, auto&) {
    ema_series(bars.close, 200, out);
  });
}
BENCHMARK(BM_Ema200)->Arg(5000);

void BM_BbandsVariance(benchmark::State& state) {
  std::vector<double> sma(static_cast<std::size_t>(state.range(0)));
  sma_series(prepared(sma.size()).close, 20, sma);
  run_series_benchmark(state, [&](const PreparedBars& bars, auto& out, auto&, auto&) {
    bbands_variance_series(bars.close, sma, 20, out);
  });
}
BENCHMARK(BM_BbandsVariance)->Arg(5000);

void BM_Rsi14(benchmark::State& state) {
  run_series_benchmark(state, [](const PreparedBars& bars, auto& out, auto&, auto&) {
    rsi_series(bars.close, 14, out);
  });
}
BENCHMARK(BM_Rsi14)->Arg(5000);

void BM_Macd(benchmark::State& state) {
  run_series_benchmark(state, [](const PreparedBars& bars, auto& a, auto& b, auto& c) {
    macd_series(bars.close, 12, 26, 9, a, b, c);
  });
}
BENCHMARK(BM_Macd)->Arg(5000);

void BM_Atr14(benchmark::State& state) {
  run_series_benchmark(state, [](const PreparedBars& bars, auto& out, auto&, auto&) {
    atr_series(bars.high, bars.low, bars.close, 14, out);
  });
}
BENCHMARK(BM_Atr14)->Arg(5000);

void BM_Directional14(benchmark::State& state) {
  std::vector<std::uint32_t> ties;
  directional_near_ties(prepared(static_cast<std::size_t>(state.range(0))).high,
                        prepared(static_cast<std::size_t>(state.range(0))).low, ties);
  const std::vector<DirectionalMove> moves(ties.size(), DirectionalMove::none);
  run_series_benchmark(state, [&](const PreparedBars& bars, auto& a, auto& b, auto& c) {
    directional_series(bars.high, bars.low, bars.close, 14, ties, moves, a, b, c);
  });
}
BENCHMARK(BM_Directional14)->Arg(5000);

void BM_Obv(benchmark::State& state) {
  std::vector<std::uint32_t> ties;
  run_series_benchmark(state, [&](const PreparedBars& bars, auto& out, auto&, auto&) {
    obv_series(bars.close, bars.volume, out, ties);
  });
}
BENCHMARK(BM_Obv)->Arg(5000);

// Calls one window kernel at every index per iteration (the backfill's cost per bar).
template <typename Kernel>
void run_window_benchmark(benchmark::State& state, Kernel kernel) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const PreparedBars& bars = prepared(count);
  for (auto _ : state) {
    double total = 0.0;
    for (std::size_t i = 0; i < count; ++i) total += kernel(bars, i);
    benchmark::DoNotOptimize(total);
  }
  set_bars_processed(state, count);
}

void BM_StochAt(benchmark::State& state) {
  run_window_benchmark(state, [](const PreparedBars& bars, std::size_t i) {
    return stoch_at(bars.high, bars.low, bars.close, i).slow_d;
  });
}
BENCHMARK(BM_StochAt)->Arg(5000);

void BM_CciAt(benchmark::State& state) {
  run_window_benchmark(state, [](const PreparedBars& bars, std::size_t i) {
    return cci_at(bars.high, bars.low, bars.close, 20, i);
  });
}
BENCHMARK(BM_CciAt)->Arg(5000);

void BM_MoneyFlowAt(benchmark::State& state) {
  run_window_benchmark(state, [](const PreparedBars& bars, std::size_t i) {
    return mfi_from(money_flow_at(bars.raw_high, bars.raw_low, bars.raw_close, bars.raw_volume,
                                  bars.price_factor, bars.split_product, 14, i));
  });
}
BENCHMARK(BM_MoneyFlowAt)->Arg(5000);

void BM_MaxDrawdownAt(benchmark::State& state) {
  run_window_benchmark(state, [](const PreparedBars& bars, std::size_t i) {
    return max_drawdown_at(bars.close, 252, i);
  });
}
BENCHMARK(BM_MaxDrawdownAt)->Arg(5000);

// The 60 log returns of the window, then the deviation: what one row costs.
void BM_VolatilityAt(benchmark::State& state) {
  std::vector<double> log_return;
  run_window_benchmark(state, [&log_return](const PreparedBars& bars, std::size_t i) {
    log_return.resize(bars.close.size());
    log_returns_into(bars.close, i >= 59 ? i - 59 : 0, i + 1, log_return);
    return volatility_at(log_return, 60, i);
  });
}
BENCHMARK(BM_VolatilityAt)->Arg(5000);

void BM_High52wAt(benchmark::State& state) {
  run_window_benchmark(state, [](const PreparedBars& bars, std::size_t i) {
    return max_at(bars.high, 252, i);
  });
}
BENCHMARK(BM_High52wAt)->Arg(5000);

}  // namespace
}  // namespace tasnap::engine

BENCHMARK_MAIN();
