// Binary COPY encoding and decoding, without a server.
#include <gtest/gtest.h>

#include <bit>
#include <limits>

#include "core/errors.hpp"
#include "core/snapshot_row.hpp"
#include "storage/pg_copy.hpp"

namespace tasnap::storage::pg_copy {
namespace {

TEST(PgCopy, EncodedRowsDecodeToSameBits) {
  Encoder encoder;
  encoder.begin_row(6);
  encoder.add_text("BRK.B");
  encoder.add_date(make_date(2000, 1, 1));
  encoder.add_int32(-7);
  encoder.add_int64(std::numeric_limits<std::int64_t>::min());
  encoder.add_float8(-0.0);
  encoder.add_float8_or_null(kNull);
  encoder.begin_row(1);
  encoder.add_date(make_date(1969, 12, 31));
  const std::string stream = encoder.finish();

  RowReader reader(skip_header(stream));
  ASSERT_EQ(reader.begin_row(), 6);
  EXPECT_EQ(reader.text(), "BRK.B");
  EXPECT_EQ(reader.date(), make_date(2000, 1, 1));
  EXPECT_EQ(reader.int32(), -7);
  EXPECT_EQ(reader.int64(), std::numeric_limits<std::int64_t>::min());
  const auto zero = reader.float8();
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(std::bit_cast<std::uint64_t>(*zero), std::bit_cast<std::uint64_t>(-0.0));
  EXPECT_FALSE(reader.float8().has_value());

  ASSERT_EQ(reader.begin_row(), 1);
  EXPECT_EQ(reader.date(), make_date(1969, 12, 31));
  EXPECT_FALSE(reader.begin_row().has_value());
  EXPECT_TRUE(reader.at_end());
}

TEST(PgCopy, DateEpochIsYear2000) {
  Encoder encoder;
  encoder.begin_row(1);
  encoder.add_date(make_date(2000, 1, 2));
  const std::string stream = encoder.finish();
  // Header (19 bytes), field count (2), length (4), then the day number 1.
  EXPECT_EQ(decode_int32(stream.data() + 19 + 2 + 4), 1);
}

TEST(PgCopy, MalformedStreamRaises) {
  EXPECT_THROW(skip_header("not a copy stream at all"), DatabaseError);

  Encoder encoder;
  encoder.begin_row(1);
  encoder.add_text("ABCDEF");
  std::string stream = encoder.finish();
  stream.resize(stream.size() - 5);  // cut into the text field
  RowReader reader(skip_header(stream));
  ASSERT_EQ(reader.begin_row(), 1);
  EXPECT_THROW(reader.text(), DatabaseError);

  Encoder wrong_size;
  wrong_size.begin_row(1);
  wrong_size.add_int32(5);
  const std::string int_stream = wrong_size.finish();
  RowReader int_reader(skip_header(int_stream));
  ASSERT_EQ(int_reader.begin_row(), 1);
  EXPECT_THROW(int_reader.float8(), DatabaseError);
}

}  // namespace
}  // namespace tasnap::storage::pg_copy
