#include "core/digest.hpp"

#include <xxhash.h>

#include <array>
#include <bit>
#include <charconv>
#include <cstdio>

namespace tasnap {

std::uint64_t hash_row(const SnapshotRow& row) {
  // Values, key date and bars_used go into one fixed-size block; every NULL
  // hashes as one fixed pattern, whatever NaN payload marked it.
  constexpr std::uint64_t kNullBits = 0x7ff8'dead'0000'0000ull;
  std::array<std::uint64_t, kColumnCount + 1> block;
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    const double value = row.values[i];
    block[i] = is_null(value) ? kNullBits : std::bit_cast<std::uint64_t>(value);
  }
  block[kColumnCount] = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(row.as_of_date.days)) << 32) |
                        static_cast<std::uint32_t>(row.bars_used);

  // The ticker seeds the hash of the block, so the key is part of the hash.
  const std::uint64_t ticker_hash = XXH3_64bits(row.ticker.data(), row.ticker.size());
  return XXH3_64bits_withSeed(block.data(), sizeof block, ticker_hash);
}

std::string Digest::to_string() const {
  char text[48];
  std::snprintf(text, sizeof text, "%016llx:%llu", static_cast<unsigned long long>(sum),
                static_cast<unsigned long long>(rows));
  return text;
}

}  // namespace tasnap

namespace tasnap {

std::optional<Digest> Digest::parse(std::string_view text) {
  const auto colon = text.find(':');
  if (colon != 16) return std::nullopt;

  Digest digest;
  const char* sum_end = text.data() + colon;
  const auto sum_result = std::from_chars(text.data(), sum_end, digest.sum, 16);
  if (sum_result.ec != std::errc{} || sum_result.ptr != sum_end) return std::nullopt;
  const char* rows_end = text.data() + text.size();
  const auto rows_result = std::from_chars(sum_end + 1, rows_end, digest.rows, 10);
  if (rows_result.ec != std::errc{} || rows_result.ptr != rows_end) return std::nullopt;
  return digest;
}

}  // namespace tasnap
