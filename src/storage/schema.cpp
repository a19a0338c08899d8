#include "storage/schema.hpp"

#include <algorithm>
#include <charconv>

namespace tasnap::storage::schema {

std::string format_chunk_list(const std::vector<std::int64_t>& chunks) {
  std::string text;
  for (const std::int64_t chunk : chunks) {
    if (!text.empty()) text += ',';
    text += std::to_string(chunk);
  }
  return text;
}

std::vector<std::int64_t> parse_chunk_list(std::string_view text) {
  std::vector<std::int64_t> chunks;
  while (!text.empty()) {
    const std::size_t comma = std::min(text.find(','), text.size());
    std::int64_t chunk = 0;
    std::from_chars(text.data(), text.data() + comma, chunk);
    chunks.push_back(chunk);
    text.remove_prefix(std::min(comma + 1, text.size()));
  }
  return chunks;
}

}  // namespace tasnap::storage::schema
