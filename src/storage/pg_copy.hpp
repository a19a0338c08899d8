// PostgreSQL binary COPY format: an encoder for COPY ... FROM STDIN and a
// decoder for COPY ... TO STDOUT, so rows travel without text formatting.
//
// The format (PostgreSQL documentation, "COPY", section "Binary Format"): an
// 11-byte signature, an int32 flags word and an int32 header-extension length,
// then one tuple per row (int16 field count, then per field an int32 byte length
// or -1 for NULL, then the bytes), then an int16 -1 trailer. Every integer is in
// network byte order. A date is an int32 day count since 2000-01-01 and a float8
// is the IEEE 754 bit pattern, so doubles round-trip bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/date.hpp"

namespace tasnap::storage::pg_copy {

// Days from 1970-01-01 (tasnap's Date) to 2000-01-01 (PostgreSQL's date epoch).
inline constexpr std::int32_t kPostgresEpochDays = 10957;

// Builds the binary COPY stream of a batch of rows in memory.
class Encoder {
 public:
  Encoder();

  // Starts a tuple of `field_count` fields.
  void begin_row(std::int16_t field_count);

  void add_text(std::string_view value);
  void add_int32(std::int32_t value);
  void add_int64(std::int64_t value);
  void add_float8(double value);
  void add_date(Date value);
  void add_null();

  // Adds a float8, or NULL when `value` is kNull (NaN), so no NaN reaches the database.
  void add_float8_or_null(double value);

  // Appends the trailer and returns the whole stream; the encoder is then empty.
  std::string finish();

  std::size_t size() const { return buffer_.size(); }

 private:
  void put_int16(std::int16_t value);
  void put_int32(std::int32_t value);
  void put_int64(std::int64_t value);

  std::string buffer_;
};

// Reads the fields of one binary tuple. Throws DatabaseError on a malformed
// stream (a length that runs past the data or a field of the wrong size).
class RowReader {
 public:
  explicit RowReader(std::string_view data) : data_(data) {}

  // The field count of the next tuple, or nullopt at the -1 trailer.
  std::optional<std::int16_t> begin_row();

  // Each reader returns nullopt for a NULL field.
  std::optional<std::string_view> text();
  std::optional<std::int32_t> int32();
  std::optional<std::int64_t> int64();
  std::optional<double> float8();
  std::optional<Date> date();

  bool at_end() const { return position_ >= data_.size(); }

 private:
  // The bytes of the next field, or nullopt for NULL; checks the size when `expected` > 0.
  std::optional<std::string_view> field(std::size_t expected);
  std::uint32_t take_uint32();

  std::string_view data_;
  std::size_t position_ = 0;
};

// Skips the file header at the start of a COPY TO stream and returns the rest
// (the first message may carry row data after the header). Throws DatabaseError
// when the signature is wrong.
std::string_view skip_header(std::string_view data);

// Decoders of single binary values, as in binary query results (resultFormat = 1).
std::int32_t decode_int32(const char* bytes);
std::int64_t decode_int64(const char* bytes);
double decode_float8(const char* bytes);
Date decode_date(const char* bytes);

}  // namespace tasnap::storage::pg_copy
