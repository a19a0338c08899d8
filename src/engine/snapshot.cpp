#include "engine/snapshot.hpp"

#include <cmath>
#include <span>

#include "engine/bar_prep.hpp"
#include "engine/series_kernels.hpp"
#include "engine/window_kernels.hpp"

namespace tasnap::engine {

namespace {

// The maximum volatility window, in log returns. The rows of bars i and later
// read the log returns from index i + 1 - kVolatilityWindow on.
constexpr std::size_t kVolatilityWindow = 60;

// The full-history indicator series, one element per prepared bar.
struct IndicatorSeries {
  std::vector<double> sma_20, sma_50, sma_200;
  std::vector<double> ema_12, ema_26, ema_50, ema_200, macd_fast_ema;
  std::vector<double> bb_variance;
  std::vector<double> rsi_14;
  std::vector<double> macd, macd_signal, macd_hist;
  std::vector<double> atr_14;
  std::vector<double> plus_di_14, minus_di_14, adx_14;
  std::vector<std::uint32_t> directional_ties;
  std::vector<DirectionalMove> tie_moves, candidate_moves;
  std::vector<double> obv;
  std::vector<std::uint32_t> obv_near_ties;

  // Daily log returns, filled only where a row's volatility window reads them.
  std::vector<double> log_return;

  void resize(std::size_t n) {
    for (std::vector<double>* series :
         {&sma_20, &sma_50, &sma_200, &ema_12, &ema_26, &ema_50, &ema_200, &macd_fast_ema,
          &bb_variance, &rsi_14,
          &macd, &macd_signal, &macd_hist, &atr_14, &plus_di_14, &minus_di_14, &adx_14, &obv,
          &log_return}) {
      series->resize(n);
    }
  }
};

// Runs every series kernel over bars [0, n).
void compute_series(const PreparedBars& bars, std::size_t n, IndicatorSeries& s) {
  s.resize(n);
  const std::span<const double> close(bars.close.data(), n);
  const std::span<const double> high(bars.high.data(), n);
  const std::span<const double> low(bars.low.data(), n);
  const std::span<const double> volume(bars.volume.data(), n);

  const SmaRequest smas[] = {{20, s.sma_20}, {50, s.sma_50}, {200, s.sma_200}};
  sma_series_batch(close, smas);
  // MACD's slow EMA is ema_26 (both seeded at the first bar); its fast EMA is seeded later.
  const EmaRequest emas[] = {{0, 12, s.ema_12},
                             {0, 26, s.ema_26},
                             {0, 50, s.ema_50},
                             {0, 200, s.ema_200},
                             {macd_fast_first(12, 26), 12, s.macd_fast_ema}};
  ema_series_batch(close, emas);
  bbands_variance_series(close, s.sma_20, 20, s.bb_variance);
  macd_from_emas(s.macd_fast_ema, s.ema_26, 26, 9, s.macd, s.macd_signal, s.macd_hist);
  directional_near_ties(high, low, s.directional_ties);
  obv_series(close, volume, s.obv, s.obv_near_ties);
}

// Directional moves of the near-tie bars decided on D's basis (raw x (f_t / f_D)),
// where the reference evaluates them.
void decide_tie_moves(const PreparedBars& bars, std::span<const std::uint32_t> ties,
                      std::size_t d, std::vector<DirectionalMove>& moves) {
  moves.resize(ties.size());
  const double factor_d = bars.price_factor[d];
  for (std::size_t k = 0; k < ties.size(); ++k) {
    const std::size_t t = ties[k];
    const double scale = bars.price_factor[t] / factor_d;
    const double previous_scale = bars.price_factor[t - 1] / factor_d;
    const double up = bars.raw_high[t] * scale - bars.raw_high[t - 1] * previous_scale;
    const double down = bars.raw_low[t - 1] * previous_scale - bars.raw_low[t] * scale;
    moves[k] = directional_move(up, down);
  }
}

void run_directional(const PreparedBars& bars, std::size_t n, IndicatorSeries& s) {
  directional_series(std::span(bars.high.data(), n), std::span(bars.low.data(), n),
                     std::span(bars.close.data(), n), 14, s.directional_ties, s.tie_moves,
                     s.plus_di_14, s.minus_di_14, s.adx_14);
}

// Runs RSI, ATR and +DI/-DI/ADX in one loop over bars [0, n), with the near-tie
// moves already decided. Their division chains are independent, so the CPU
// overlaps them. rsi_series, atr_series and directional_series take the same steps.
void run_wilder_indicators(const PreparedBars& bars, std::size_t n, IndicatorSeries& s) {
  const double* high = bars.high.data();
  const double* low = bars.low.data();
  const double* close = bars.close.data();
  RsiStep rsi{14};
  AtrStep atr{14};
  DirectionalStep directional{14};
  std::size_t next_tie = 0;
  if (n > 0) {
    s.rsi_14[0] = s.atr_14[0] = kNull;
    s.plus_di_14[0] = s.minus_di_14[0] = s.adx_14[0] = kNull;
  }
  for (std::size_t i = 1; i < n; ++i) {
    const double range = true_range(high[i], low[i], close[i - 1]);
    const double up = high[i] - high[i - 1];
    const double down = low[i - 1] - low[i];
    const DirectionalMove move =
        tie_move_or_rule(s.directional_ties, s.tie_moves, next_tie, i, up, down);

    s.rsi_14[i] = rsi(i, close[i] - close[i - 1]);
    s.atr_14[i] = atr(i, range);
    const DirectionalValue value = directional(i, up, down, move, range);
    s.plus_di_14[i] = value.plus_di;
    s.minus_di_14[i] = value.minus_di;
    s.adx_14[i] = value.adx;
  }
}

// Recomputes +DI, -DI and ADX for the row of bar d when a near-tie decision up
// to d differs on d's basis from the one the series was computed with. Element
// d depends on no later decision.
void update_directional_for(const PreparedBars& bars, std::size_t n, std::size_t d,
                            IndicatorSeries& s) {
  decide_tie_moves(bars, s.directional_ties, d, s.candidate_moves);
  bool same = true;
  for (std::size_t k = 0; same && k < s.directional_ties.size(); ++k) {
    if (s.directional_ties[k] > d) break;
    same = s.candidate_moves[k] == s.tie_moves[k];
  }
  if (same) return;
  s.tie_moves.swap(s.candidate_moves);
  run_directional(bars, n, s);
}

// Bollinger bands on D's scale. TA-Lib takes a variance below 1e-14 as zero, and
// that threshold is applied on D's scale (variance / f_D^2), where the reference
// evaluates it.
void set_bollinger(double sma_basis, double variance_basis, double factor, SnapshotRow& row) {
  const double middle = sma_basis / factor;
  const double variance_on_d = variance_basis / (factor * factor);
  const double deviation = variance_on_d < kTaEpsilon ? 0.0 : std::sqrt(variance_basis);
  const double band = deviation * 2.0;
  row[Column::bb_upper] = (sma_basis + band) / factor;
  row[Column::bb_middle] = middle;
  row[Column::bb_lower] = (sma_basis - band) / factor;
}

// OBV on D's basis: the basis series times P_D, plus the near-tie bars up to D,
// whose direction is decided by comparing closes on D's basis (raw x (f_t / f_D)).
double obv_at(const PreparedBars& bars, const IndicatorSeries& s, std::size_t i) {
  const double factor_d = bars.price_factor[i];
  const double product_d = bars.split_product[i];
  double obv = s.obv[i] * product_d;
  for (const std::uint32_t t : s.obv_near_ties) {
    if (t > i) break;
    const double current = bars.raw_close[t] * (bars.price_factor[t] / factor_d);
    const double previous = bars.raw_close[t - 1] * (bars.price_factor[t - 1] / factor_d);
    const double volume = bars.raw_volume[t] * (product_d / bars.split_product[t]);
    if (current > previous) {
      obv += volume;
    } else if (current < previous) {
      obv -= volume;
    }
  }
  return obv;
}

double return_ytd_at(const PreparedBars& bars, std::size_t i) {
  const std::int32_t year_end = bars.previous_year_end[i];
  if (year_end < 0) return kNull;
  return bars.close[i] / bars.close[static_cast<std::size_t>(year_end)] - 1.0;
}

// Fills the row for bar i from the series and the window kernels. Series values
// with a price dimension are divided by f_D and volume-dimensioned ones
// multiplied by P_D to bring them onto D's basis.
void assemble_row(std::string_view ticker, const PreparedBars& bars, const IndicatorSeries& s,
                  std::size_t i, SnapshotRow& row) {
  const double f = bars.price_factor[i];
  const double p = bars.split_product[i];
  const std::span<const double> open(bars.open), high(bars.high), low(bars.low);
  const std::span<const double> close(bars.close), volume(bars.volume);

  row.ticker.assign(ticker);
  row.as_of_date = bars.trade_date[i];
  row.bars_used = static_cast<std::int32_t>(i + 1);

  row[Column::close] = bars.raw_close[i];
  row[Column::volume] = bars.raw_volume[i];

  row[Column::sma_20] = s.sma_20[i] / f;
  row[Column::sma_50] = s.sma_50[i] / f;
  row[Column::sma_200] = s.sma_200[i] / f;
  row[Column::ema_12] = s.ema_12[i] / f;
  row[Column::ema_26] = s.ema_26[i] / f;
  row[Column::ema_50] = s.ema_50[i] / f;
  row[Column::ema_200] = s.ema_200[i] / f;
  row[Column::rsi_14] = s.rsi_14[i];
  row[Column::macd] = s.macd[i] / f;
  row[Column::macd_signal] = s.macd_signal[i] / f;
  row[Column::macd_hist] = s.macd_hist[i] / f;
  set_bollinger(s.sma_20[i], s.bb_variance[i], f, row);

  // NATR = ATR / close x 100 is a ratio, so it is taken on the basis directly.
  row[Column::atr_14] = s.atr_14[i] / f;
  row[Column::natr_14] = (s.atr_14[i] / close[i]) * 100.0;
  row[Column::adx_14] = s.adx_14[i];
  row[Column::plus_di_14] = s.plus_di_14[i];
  row[Column::minus_di_14] = s.minus_di_14[i];

  const StochValue stoch = stoch_at(high, low, close, i);
  row[Column::stoch_k] = stoch.slow_k;
  row[Column::stoch_d] = stoch.slow_d;
  row[Column::willr_14] = willr_at(high, low, close, 14, i);
  row[Column::cci_20] = cci_at(high, low, close, 20, i);
  row[Column::mfi_14] = mfi_from(money_flow_at(bars.raw_high, bars.raw_low, bars.raw_close,
                                               bars.raw_volume, bars.price_factor,
                                               bars.split_product, 14, i));
  row[Column::roc_10] = roc_at(close, 10, i);
  row[Column::obv] = obv_at(bars, s, i);

  row[Column::return_1d] = return_at(close, 1, i);
  row[Column::return_5d] = return_at(close, 5, i);
  row[Column::return_21d] = return_at(close, 21, i);
  row[Column::return_63d] = return_at(close, 63, i);
  row[Column::return_126d] = return_at(close, 126, i);
  row[Column::return_252d] = return_at(close, 252, i);
  row[Column::return_ytd] = return_ytd_at(bars, i);

  const double high_52w = max_at(high, 252, i);
  const double low_52w = min_at(low, 252, i);
  row[Column::high_52w] = high_52w / f;
  row[Column::low_52w] = low_52w / f;
  row[Column::pct_from_52w_high] = close[i] / high_52w - 1.0;
  row[Column::pct_from_52w_low] = close[i] / low_52w - 1.0;
  row[Column::max_drawdown_252d] = max_drawdown_at(close, 252, i);

  row[Column::volatility_20d] = volatility_at(s.log_return, 20, i);
  row[Column::volatility_60d] = volatility_at(s.log_return, 60, i);
  row[Column::avg_volume_20d] = mean_at(volume, 20, i) * p;
  row[Column::avg_volume_50d] = mean_at(volume, 50, i) * p;
  row[Column::relative_volume] = relative_volume_at(volume, 20, i);
  row[Column::avg_dollar_volume_20d] =
      dollar_volume_at(bars.raw_close, bars.raw_volume, 20, i);
  row[Column::gap_pct] = gap_at(open, close, i);

  // A row never carries an infinity or a stray NaN: anything non-finite is NULL.
  for (double& value : row.values) {
    if (!std::isfinite(value)) value = kNull;
  }
}

SkipReason reason_for_empty(const RawBarsView& bars, const BadBarReport& bad) {
  if (bars.size() == 0) return SkipReason::no_bars;
  if (bad.count > 0) return SkipReason::no_valid_bars;
  return SkipReason::no_bar_on_date;
}

}  // namespace

struct SnapshotEngine::Buffers {
  PreparedBars bars;
  PrepScratch scratch;
  IndicatorSeries series;
};

SnapshotEngine::SnapshotEngine() : buffers_(std::make_unique<Buffers>()) {}
SnapshotEngine::~SnapshotEngine() = default;

std::string_view to_string(SkipReason reason) {
  switch (reason) {
    case SkipReason::none: return "none";
    case SkipReason::no_bars: return "no_bars";
    case SkipReason::no_valid_bars: return "no_valid_bars";
    case SkipReason::no_bar_on_date: return "no_bar_on_date";
  }
  return "unknown";
}

SkipReason SnapshotEngine::compute_row(std::string_view ticker, const RawBarsView& bars,
                                       HistoryRange range, SnapshotRow& row, BadBarReport& bad) {
  PreparedBars& prepared = buffers_->bars;
  prepare_bars(bars, range, prepared, bad, buffers_->scratch);
  if (prepared.size() == 0) return reason_for_empty(bars, bad);
  if (prepared.trade_date.back() != range.as_of) return SkipReason::no_bar_on_date;

  const std::size_t n = prepared.size();
  IndicatorSeries& series = buffers_->series;
  compute_series(prepared, n, series);
  log_returns_into(prepared.close, n > kVolatilityWindow ? n - kVolatilityWindow : 0, n, series.log_return);
  decide_tie_moves(prepared, series.directional_ties, n - 1, series.tie_moves);
  run_wilder_indicators(prepared, n, series);
  assemble_row(ticker, prepared, series, n - 1, row);
  return SkipReason::none;
}

SkipReason SnapshotEngine::compute_rows(std::string_view ticker, const RawBarsView& bars, Date from,
                                        HistoryRange range, std::vector<SnapshotRow>& rows,
                                        BadBarReport& bad) {
  PreparedBars& prepared = buffers_->bars;
  prepare_bars(bars, range, prepared, bad, buffers_->scratch);
  if (prepared.size() == 0) return reason_for_empty(bars, bad);

  const std::size_t n = prepared.size();
  std::size_t first = 0;
  while (first < n && prepared.trade_date[first] < from) ++first;
  if (first == n) return SkipReason::no_bar_on_date;

  IndicatorSeries& series = buffers_->series;
  compute_series(prepared, n, series);
  log_returns_into(prepared.close, first > kVolatilityWindow ? first - kVolatilityWindow : 0, n,
                   series.log_return);
  decide_tie_moves(prepared, series.directional_ties, first, series.tie_moves);
  run_wilder_indicators(prepared, n, series);
  for (std::size_t i = first; i < n; ++i) {
    update_directional_for(prepared, n, i, series);
    SnapshotRow& row = rows.emplace_back();
    assemble_row(ticker, prepared, series, i, row);
  }
  return SkipReason::none;
}

}  // namespace tasnap::engine
