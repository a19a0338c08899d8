#include "core/date.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace tasnap {
namespace {

TEST(Date, ParsesAndFormatsIsoDates) {
  const auto date = parse_date("2021-04-21");
  ASSERT_TRUE(date.has_value());
  EXPECT_EQ(format_date(*date), "2021-04-21");
  EXPECT_EQ(parse_date("1970-01-01")->days, 0);
  EXPECT_EQ(parse_date("2000-01-01")->days, 10957);
  EXPECT_EQ(year_of(*date), 2021);
}

TEST(Date, RejectsMalformedAndImpossibleDates) {
  for (const char* text : {"", "2021-4-21", "2021/04/21", "21-04-2021", "2021-13-01", "2021-02-29", "2021-04-31",
                           "2021-04-21x", "abcd-ef-gh", "2021-00-10"}) {
    EXPECT_FALSE(parse_date(text).has_value()) << text;
  }
  EXPECT_TRUE(parse_date("2020-02-29").has_value());
}

TEST(Date, ErrorNamesTheFlagAndTheValue) {
  try {
    parse_date_or_throw("2021-13-01", "--date");
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--date"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("2021-13-01"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("YYYY-MM-DD"), std::string::npos);
  }
}

TEST(Date, WeekdayOfKnownDates) {
  EXPECT_EQ(weekday_of(*parse_date("2021-04-21")), 2);  // Wednesday
  EXPECT_EQ(weekday_of(*parse_date("2021-04-24")), 5);  // Saturday
}

}  // namespace
}  // namespace tasnap
