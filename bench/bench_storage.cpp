// PostgreSQL storage throughput: chunk reads of price bars and snapshot upserts.
//
// Needs a server: TASNAP_BENCH_PG (else TASNAP_TEST_PG) is a libpq connection
// string whose database the benchmark may fill. On first use it loads 10,200
// synthetic tickers x 1,260 weekdays of bars into the table bench_prices with a
// binary COPY, and keeps them for later runs.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "storage/pg_copy.hpp"
#include "storage/postgres_database.hpp"

namespace {

using tasnap::Date;
using tasnap::storage::DbConfig;
using tasnap::storage::PostgresDatabase;

constexpr int kTickers = 10'200;
constexpr int kDays = 1'260;
constexpr std::int64_t kBars = std::int64_t{kTickers} * kDays;

std::string bench_uri() {
  for (const char* name : {"TASNAP_BENCH_PG", "TASNAP_TEST_PG"}) {
    if (const char* value = std::getenv(name); value && *value) return value;
  }
  return {};
}

DbConfig bench_config() {
  DbConfig config;
  config.uri = bench_uri();
  config.tables.prices = "bench_prices";
  config.tables.snapshots = "bench_snapshots";
  config.tables.runs = "bench_runs";
  config.tables.run_ranks = "bench_run_ranks";
  config.tables.run_tickers = "bench_run_tickers";
  return config;
}

std::string ticker_name(int index) {
  std::string name = std::to_string(index);
  return "T" + std::string(5 - name.size(), '0') + name;
}

std::vector<std::string> all_tickers() {
  std::vector<std::string> tickers;
  for (int i = 0; i < kTickers; ++i) tickers.push_back(ticker_name(i));
  return tickers;
}

// The last kDays weekdays up to 2024-12-31.
std::vector<Date> trading_days() {
  std::vector<Date> days;
  for (Date day = tasnap::make_date(2024, 12, 31); days.size() < kDays; day.days -= 1) {
    if (tasnap::weekday_of(day) < 5) days.push_back(day);
  }
  return {days.rbegin(), days.rend()};
}

std::string exec_value(PGconn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  std::string value;
  if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0) {
    value = PQgetvalue(result, 0, 0);
  } else if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    value = "error: " + std::string(PQresultErrorMessage(result));
  }
  PQclear(result);
  return value;
}

// Loads the synthetic bars with one binary COPY per ticker batch, unless the
// table already contains kBars rows. Returns an error message or "".
std::string ensure_bench_prices() {
  const DbConfig config = bench_config();
  PostgresDatabase(config).init_schema();

  PGconn* conn = PQconnectdb(config.uri.c_str());
  const auto finish = std::unique_ptr<PGconn, decltype(&PQfinish)>(conn, PQfinish);
  if (PQstatus(conn) != CONNECTION_OK) return PQerrorMessage(conn);
  if (exec_value(conn, "SELECT count(*) FROM bench_prices") == std::to_string(kBars)) return "";

  exec_value(conn, "TRUNCATE bench_prices");
  const std::vector<Date> days = trading_days();
  std::mt19937_64 random(42);
  std::normal_distribution<double> step(0.0, 0.02);

  for (int first = 0; first < kTickers; first += 500) {
    tasnap::storage::pg_copy::Encoder encoder;
    for (int t = first; t < std::min(first + 500, kTickers); ++t) {
      const std::string ticker = ticker_name(t);
      double close = 20.0 + t % 200;
      for (const Date day : days) {
        const double open = close;
        close = std::max(1.0, close * std::exp(step(random)));
        encoder.begin_row(9);
        encoder.add_text(ticker);
        encoder.add_date(day);
        encoder.add_float8(open);
        encoder.add_float8(std::max(open, close) * 1.01);
        encoder.add_float8(std::min(open, close) * 0.99);
        encoder.add_float8(close);
        encoder.add_float8(close);
        encoder.add_int64(100'000 + (t * 7919 + day.days) % 900'000);
        encoder.add_float8(1.0);
      }
    }
    const std::string data = encoder.finish();

    PGresult* copy = PQexec(conn, "COPY bench_prices FROM STDIN (FORMAT binary)");
    const bool copy_in = PQresultStatus(copy) == PGRES_COPY_IN;
    PQclear(copy);
    if (!copy_in) return PQerrorMessage(conn);
    PQputCopyData(conn, data.data(), static_cast<int>(data.size()));
    PQputCopyEnd(conn, nullptr);
    PGresult* done = PQgetResult(conn);
    const bool ok = PQresultStatus(done) == PGRES_COMMAND_OK;
    const std::string error = PQresultErrorMessage(done);
    PQclear(done);
    while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
    if (!ok) return error;
  }
  exec_value(conn, "VACUUM ANALYZE bench_prices");
  return "";
}

// Loads the bars once per process; every benchmark reports the same failure.
const std::string& setup_error() {
  static const std::string error = [] {
    if (bench_uri().empty()) return std::string("TASNAP_BENCH_PG and TASNAP_TEST_PG are unset");
    try {
      return ensure_bench_prices();
    } catch (const tasnap::Error& failure) {
      return std::string(failure.what());
    }
  }();
  return error;
}

// Reads every ticker in chunks of state.range(0) tickers, as a run's ranks do.
void BM_ReadChunks(benchmark::State& state) {
  if (!setup_error().empty()) {
    state.SkipWithError(setup_error().c_str());
    return;
  }
  PostgresDatabase db(bench_config());
  const std::vector<std::string> tickers = all_tickers();
  const auto chunk_size = static_cast<std::size_t>(state.range(0));
  const Date to = tasnap::make_date(2024, 12, 31);
  tasnap::BarChunk chunk;

  std::int64_t bars = 0;
  for (auto _ : state) {
    for (std::size_t first = 0; first < tickers.size(); first += chunk_size) {
      const auto count = std::min(chunk_size, tickers.size() - first);
      db.read_bars(std::span(tickers).subspan(first, count), std::nullopt, to, chunk);
      bars += static_cast<std::int64_t>(chunk.bar_count());
    }
  }
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(bars), benchmark::Counter::kIsRate);
  state.counters["rows"] = static_cast<double>(bars) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ReadChunks)->Arg(250)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// The fixed cost of one chunk read: one ticker and its last week of bars.
void BM_ReadChunkOverhead(benchmark::State& state) {
  if (!setup_error().empty()) {
    state.SkipWithError(setup_error().c_str());
    return;
  }
  PostgresDatabase db(bench_config());
  const std::vector<std::string> tickers = {ticker_name(42)};
  const Date to = tasnap::make_date(2024, 12, 31);
  tasnap::BarChunk chunk;
  for (auto _ : state) {
    db.read_bars(tickers, Date{to.days - 7}, to, chunk);
    benchmark::DoNotOptimize(chunk.bar_count());
  }
}
BENCHMARK(BM_ReadChunkOverhead)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The alternative read path, for comparison: a prepared SELECT with the ticker
// list as one text[] parameter, executed with binary results. PGresult keeps
// the whole chunk in memory. NULL checks are left out because the bench data has none.
void BM_ReadChunksPreparedSelect(benchmark::State& state) {
  if (!setup_error().empty()) {
    state.SkipWithError(setup_error().c_str());
    return;
  }
  PGconn* conn = PQconnectdb(bench_uri().c_str());
  const auto finish = std::unique_ptr<PGconn, decltype(&PQfinish)>(conn, PQfinish);
  PGresult* prepared = PQprepare(
      conn, "read_chunk",
      "SELECT ticker, trade_date, open, high, low, close, adj_close, volume, split_factor "
      "FROM bench_prices WHERE ticker = ANY ($1::text[]) AND trade_date <= $2::date "
      "ORDER BY ticker, trade_date",
      2, nullptr);
  const bool ok = PQresultStatus(prepared) == PGRES_COMMAND_OK;
  PQclear(prepared);
  if (!ok) {
    state.SkipWithError(PQerrorMessage(conn));
    return;
  }

  const std::vector<std::string> tickers = all_tickers();
  const auto chunk_size = static_cast<std::size_t>(state.range(0));
  tasnap::BarChunk chunk;
  std::int64_t bars = 0;
  for (auto _ : state) {
    for (std::size_t first = 0; first < tickers.size(); first += chunk_size) {
      // Tickers here are plain letters and digits, so the array literal needs no escaping.
      std::string array = "{";
      for (std::size_t i = first; i < std::min(first + chunk_size, tickers.size()); ++i) {
        if (array.size() > 1) array += ',';
        array += tickers[i];
      }
      array += '}';
      const char* values[] = {array.c_str(), "2024-12-31"};
      PGresult* result = PQexecPrepared(conn, "read_chunk", 2, values, nullptr, nullptr, 1);

      chunk.clear();
      std::string current;
      const int rows = PQntuples(result);
      namespace pg = tasnap::storage::pg_copy;
      for (int row = 0; row < rows; ++row) {
        const std::string_view ticker(PQgetvalue(result, row, 0),
                                      static_cast<std::size_t>(PQgetlength(result, row, 0)));
        if (row == 0 || ticker != current) {
          current.assign(ticker);
          chunk.begin_ticker(current);
        }
        chunk.add_bar(pg::decode_date(PQgetvalue(result, row, 1)),
                      pg::decode_float8(PQgetvalue(result, row, 2)),
                      pg::decode_float8(PQgetvalue(result, row, 3)),
                      pg::decode_float8(PQgetvalue(result, row, 4)),
                      pg::decode_float8(PQgetvalue(result, row, 5)),
                      pg::decode_float8(PQgetvalue(result, row, 6)),
                      pg::decode_int64(PQgetvalue(result, row, 7)),
                      pg::decode_float8(PQgetvalue(result, row, 8)), 0);
      }
      PQclear(result);
      bars += static_cast<std::int64_t>(chunk.bar_count());
    }
  }
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(bars), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadChunksPreparedSelect)->Arg(250)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// Upserts one snapshot row per ticker (10,200 rows) in chunks of state.range(0)
// rows, each chunk its own transaction. The rows already exist after the first
// iteration, so the timing includes the ON CONFLICT update path.
void BM_UpsertSnapshots(benchmark::State& state) {
  if (!setup_error().empty()) {
    state.SkipWithError(setup_error().c_str());
    return;
  }
  PostgresDatabase db(bench_config());
  std::vector<tasnap::SnapshotRow> rows(kTickers);
  for (int t = 0; t < kTickers; ++t) {
    rows[t].ticker = ticker_name(t);
    rows[t].as_of_date = tasnap::make_date(2024, 12, 31);
    rows[t].bars_used = kDays;
    for (std::size_t i = 0; i < tasnap::kColumnCount; ++i) rows[t].values[i] = t * 0.001 + i;
    rows[t][tasnap::Column::return_ytd] = tasnap::kNull;
  }
  const auto chunk_size = static_cast<std::size_t>(state.range(0));

  for (auto _ : state) {
    for (std::size_t first = 0; first < rows.size(); first += chunk_size) {
      db.begin_chunk();
      db.write_rows(std::span(rows).subspan(first, std::min(chunk_size, rows.size() - first)),
                    "bench");
      db.commit_chunk();
    }
  }
  state.counters["rows_per_s"] = benchmark::Counter(
      static_cast<double>(rows.size() * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_UpsertSnapshots)->Arg(250)->Arg(10'200)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
