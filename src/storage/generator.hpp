// Deterministic synthetic price bars for scale tests.
#pragma once

#include <cstdint>

#include "core/date.hpp"
#include "storage/database.hpp"

namespace tasnap::storage {

struct GenerateOptions {
  std::int64_t tickers = 100;
  std::int32_t days = 260;                    // weekdays per full history
  Date end_date = make_date(2021, 4, 21);     // last weekday on or before it ends every history
  std::uint64_t seed = 1;
  std::size_t batch_rows = 100'000;           // rows per upsert_prices() transaction
};

struct GenerateStats {
  std::int64_t tickers = 0;
  std::int64_t rows = 0;
  std::int64_t splits = 0;
  std::int64_t gaps = 0;             // weekdays left out inside a history
  std::int64_t short_histories = 0;  // tickers that start after the first weekday
};

// Writes random-walk bars for tickers G00001, G00002, ... into the price
// table, streaming them in batches. The same options give the same rows on
// the same build. Each ticker draws from its own std::mt19937_64, seeded from
// (seed, ticker number), through tasnap's own distribution code.
GenerateStats generate_prices(Database& database, const GenerateOptions& options);

// The ticker name of 1-based ticker number `number` out of `count`.
std::string generated_ticker(std::int64_t number, std::int64_t count);

}  // namespace tasnap::storage
