#include "storage/pg_copy.hpp"

#include <endian.h>

#include <bit>
#include <cstring>

#include "core/errors.hpp"
#include "core/snapshot_row.hpp"

namespace tasnap::storage::pg_copy {

namespace {

// "PGCOPY\n\377\r\n\0", the first 11 bytes of every binary COPY stream.
constexpr std::string_view kSignature{"PGCOPY\n\377\r\n\0", 11};
constexpr std::size_t kHeaderSize = 11 + 4 + 4;

std::uint32_t load_uint32(const char* bytes) {
  std::uint32_t value = 0;
  std::memcpy(&value, bytes, sizeof value);
  return be32toh(value);
}

std::uint64_t load_uint64(const char* bytes) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes, sizeof value);
  return be64toh(value);
}

[[noreturn]] void throw_malformed(std::string_view what) {
  throw DatabaseError("Malformed binary COPY data from PostgreSQL: " + std::string(what) +
                      ". Check that the server and the table columns match the tasnap schema "
                      "(run `tasnap init`).");
}

}  // namespace

Encoder::Encoder() {
  buffer_.append(kSignature);
  put_int32(0);  // flags: no OIDs
  put_int32(0);  // no header extension
}

void Encoder::put_int16(std::int16_t value) {
  const std::uint16_t big = htobe16(static_cast<std::uint16_t>(value));
  buffer_.append(reinterpret_cast<const char*>(&big), sizeof big);
}

void Encoder::put_int32(std::int32_t value) {
  const std::uint32_t big = htobe32(static_cast<std::uint32_t>(value));
  buffer_.append(reinterpret_cast<const char*>(&big), sizeof big);
}

void Encoder::put_int64(std::int64_t value) {
  const std::uint64_t big = htobe64(static_cast<std::uint64_t>(value));
  buffer_.append(reinterpret_cast<const char*>(&big), sizeof big);
}

void Encoder::begin_row(std::int16_t field_count) { put_int16(field_count); }

void Encoder::add_text(std::string_view value) {
  put_int32(static_cast<std::int32_t>(value.size()));
  buffer_.append(value);
}

void Encoder::add_int32(std::int32_t value) {
  put_int32(4);
  put_int32(value);
}

void Encoder::add_int64(std::int64_t value) {
  put_int32(8);
  put_int64(value);
}

void Encoder::add_float8(double value) {
  put_int32(8);
  put_int64(std::bit_cast<std::int64_t>(value));
}

void Encoder::add_date(Date value) {
  put_int32(4);
  put_int32(value.days - kPostgresEpochDays);
}

void Encoder::add_null() { put_int32(-1); }

void Encoder::add_float8_or_null(double value) {
  if (is_null(value)) {
    add_null();
  } else {
    add_float8(value);
  }
}

std::string Encoder::finish() {
  put_int16(-1);
  std::string stream = std::move(buffer_);

  buffer_.clear();
  buffer_.append(kSignature);
  put_int32(0);
  put_int32(0);
  return stream;
}

std::string_view skip_header(std::string_view data) {
  if (data.size() < kHeaderSize || data.substr(0, kSignature.size()) != kSignature) {
    throw_malformed("the stream does not start with the binary COPY signature");
  }
  const std::uint32_t extension = load_uint32(data.data() + 15);
  if (data.size() < kHeaderSize + extension) throw_malformed("the header extension is truncated");
  return data.substr(kHeaderSize + extension);
}

std::uint32_t RowReader::take_uint32() {
  if (position_ + 4 > data_.size()) throw_malformed("a field length runs past the row");
  const std::uint32_t value = load_uint32(data_.data() + position_);
  position_ += 4;
  return value;
}

std::optional<std::int16_t> RowReader::begin_row() {
  if (position_ + 2 > data_.size()) throw_malformed("a tuple header is truncated");
  std::uint16_t big = 0;
  std::memcpy(&big, data_.data() + position_, sizeof big);
  position_ += 2;

  const auto count = static_cast<std::int16_t>(be16toh(big));
  if (count == -1) return std::nullopt;
  return count;
}

std::optional<std::string_view> RowReader::field(std::size_t expected) {
  const auto length = static_cast<std::int32_t>(take_uint32());
  if (length == -1) return std::nullopt;
  if (length < 0 || position_ + static_cast<std::size_t>(length) > data_.size()) {
    throw_malformed("a field runs past the row");
  }
  if (expected > 0 && static_cast<std::size_t>(length) != expected) {
    throw_malformed("a field has " + std::to_string(length) + " bytes where " +
                    std::to_string(expected) + " were expected");
  }

  const std::string_view bytes = data_.substr(position_, static_cast<std::size_t>(length));
  position_ += static_cast<std::size_t>(length);
  return bytes;
}

std::optional<std::string_view> RowReader::text() { return field(0); }

std::optional<std::int32_t> RowReader::int32() {
  const auto bytes = field(4);
  if (!bytes) return std::nullopt;
  return decode_int32(bytes->data());
}

std::optional<std::int64_t> RowReader::int64() {
  const auto bytes = field(8);
  if (!bytes) return std::nullopt;
  return decode_int64(bytes->data());
}

std::optional<double> RowReader::float8() {
  const auto bytes = field(8);
  if (!bytes) return std::nullopt;
  return decode_float8(bytes->data());
}

std::optional<Date> RowReader::date() {
  const auto bytes = field(4);
  if (!bytes) return std::nullopt;
  return decode_date(bytes->data());
}

std::int32_t decode_int32(const char* bytes) { return static_cast<std::int32_t>(load_uint32(bytes)); }

std::int64_t decode_int64(const char* bytes) { return static_cast<std::int64_t>(load_uint64(bytes)); }

double decode_float8(const char* bytes) { return std::bit_cast<double>(load_uint64(bytes)); }

Date decode_date(const char* bytes) { return Date{decode_int32(bytes) + kPostgresEpochDays}; }

}  // namespace tasnap::storage::pg_copy
